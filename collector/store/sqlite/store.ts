/**
 * The embedded store (DESIGN §3.4): one SQLite file, `<dataDir>/canhgac.db`, mode 0600, WAL with
 * synchronous=FULL so a resolved commit survives a power cut (the collector acks right after it).
 * better-sqlite3 is synchronous: each method runs to completion before another starts, and every write
 * that must be atomic is one IMMEDIATE transaction, which also holds against a second process.
 * `commit` (the ingest path) is the exception: it runs on a worker thread with a connection of its own
 * (commit-thread.ts), so the event loop keeps decoding and evaluating while SQLite writes and fsyncs;
 * it resolves after the transaction committed, and what it wrote is then visible to every other method.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { FINDING_KINDS, KIND_FAMILY, type FindingRecord } from '../../../common/finding.js';
import { StoreCodes, StoreError } from '../errors.js';
import {
  CLOSED_STATUSES, STATUS_TRANSITIONS, canTransition,
  type AgentRecord, type Alert, type AlertQuery, type AuditEntry, type CommitResult, type FindingQuery, type IngestCommit,
  type Page, type RetentionPolicy, type StatusChange, type Store, type TokenRecord,
} from '../types.js';
import { startCommitThread, type CommitThread } from './commit-thread.js';
import { openDatabase, toStoreError, type Synchronous } from './open.js';
import { ALERT_GROUP, alertFilter, alertOrder, findingFilter, findingOrder, page } from './query.js';
import {
  ALERT_COLUMNS, FINDING_COLUMNS, isoTime, toAgent, toAlert, toAudit, toFinding, toToken,
  type AgentRow, type AlertRow, type AuditRow, type FindingRow, type TokenRow,
} from './rows.js';

export const DB_FILE = 'canhgac.db';

export interface SqliteStoreOptions {
  /** The collector's data directory; the database is `<dataDir>/canhgac.db`. */
  dataDir: string;
  /**
   * FULL (default) fsyncs the WAL on every commit: required for acks. NORMAL may lose the last commits
   * on power loss (not on a process crash); it exists to measure the difference, not for production.
   */
  synchronous?: Synchronous;
}

/** Chunk size for id lists (one bound JSON array per chunk, so SQLite's variable limit never applies). */
const ID_CHUNK = 1000;
/** Rows deleted per prune transaction; ingest gets the write lock in between. */
const PRUNE_CHUNK = 5000;
const EVENT_KINDS = FINDING_KINDS.filter((k) => KIND_FAMILY[k] === 'event');
const closedList = CLOSED_STATUSES.map((s) => `'${s}'`).join(', ');

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  const eventKinds = EVENT_KINDS.map((k) => `'${k}'`).join(', ');
  return {
    knownIds: db.prepare('SELECT id FROM findings WHERE id IN (SELECT value FROM json_each(?))').pluck(),
    countState: (by: 'kind' | 'agent_id', agent: boolean) => db.prepare(`
      SELECT ${by} AS k, count(*) AS n FROM state ${agent ? 'WHERE agent_id = ?' : ''} GROUP BY ${by}
      UNION ALL
      SELECT ${by} AS k, count(*) AS n FROM findings WHERE kind IN (${eventKinds}) ${agent ? 'AND agent_id = ?' : ''} GROUP BY ${by}`),
    getAlert: db.prepare(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = ?`),
    setStatus: db.prepare('UPDATE alerts SET status = @to, version = version + 1, updated_at = @at WHERE id = @id AND version = @version'),
    insertAudit: db.prepare(`
      INSERT INTO audit (id, at, actor, action, target, from_value, to_value, reason)
      VALUES (@id, @at, @actor, @action, @target, @from, @to, @reason)`),
    listAudit: db.prepare('SELECT id, at, actor, action, target, from_value, to_value, reason FROM audit ORDER BY at DESC, seq DESC LIMIT ?'),
    listAuditFor: db.prepare(`
      SELECT id, at, actor, action, target, from_value, to_value, reason FROM audit WHERE target = ? ORDER BY at DESC, seq DESC LIMIT ?`),
    upsertAgent: db.prepare(`
      INSERT INTO agents (id, host_name, cert_fingerprint, os, version, group_name, enrolled_at, last_seen, last_seq, status)
      VALUES (@id, @hostName, @certFingerprint, @os, @version, @group, @enrolledAt, @lastSeen, @lastSeq, @status)
      ON CONFLICT (id) DO UPDATE SET
        host_name = excluded.host_name, cert_fingerprint = excluded.cert_fingerprint, os = excluded.os,
        version = excluded.version, group_name = excluded.group_name, enrolled_at = excluded.enrolled_at,
        status = excluded.status, last_seen = max(agents.last_seen, excluded.last_seen),
        last_seq = max(agents.last_seq, excluded.last_seq)`),
    getAgent: db.prepare('SELECT * FROM agents WHERE id = ?'),
    listAgents: db.prepare('SELECT * FROM agents ORDER BY host_name, id'),
    touchAgent: db.prepare('UPDATE agents SET last_seen = max(last_seen, ?) WHERE id = ?'),
    insertToken: db.prepare(`
      INSERT INTO tokens (id, hash, group_name, created_at, expires_at, uses_left, created_by)
      VALUES (@id, @hash, @group, @createdAt, @expiresAt, @usesLeft, @createdBy)`),
    tokenByHash: db.prepare('SELECT * FROM tokens WHERE hash = ?'),
    useToken: db.prepare('UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0'),
    listTokens: db.prepare('SELECT * FROM tokens ORDER BY created_at, id'),
    pruneFindings: db.prepare(`
      DELETE FROM findings WHERE rowid IN (
        SELECT f.rowid FROM findings AS f
        WHERE f.observed_at < ? AND NOT EXISTS (SELECT 1 FROM state AS s WHERE s.finding_id = f.id)
        LIMIT ${PRUNE_CHUNK})`),
    pruneAlerts: db.prepare(`
      DELETE FROM alerts WHERE rowid IN (
        SELECT rowid FROM alerts WHERE status IN (${closedList}) AND last_seen < ? LIMIT ${PRUNE_CHUNK})`),
  };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  /** Absolute or relative path of the database file. */
  readonly file: string;
  readonly #synchronous: Synchronous;
  #db: Database.Database | undefined;
  #st: Statements | undefined;
  /** Commits run on a worker thread with a connection of its own (commit-thread.ts), started on the first. */
  #committer: CommitThread | undefined;

  constructor(opts: SqliteStoreOptions) {
    this.file = join(opts.dataDir, DB_FILE);
    this.#synchronous = opts.synchronous ?? 'FULL';
  }

  async init(): Promise<void> {
    if (this.#db) return;
    const db = openDatabase(this.file, this.#synchronous);
    try {
      this.#st = prepare(db);
    } catch (e) {
      db.close();
      throw toStoreError(e, this.file);
    }
    this.#db = db;
  }

  async close(): Promise<void> {
    const db = this.#db;
    const committer = this.#committer;
    this.#db = undefined;
    this.#st = undefined;
    this.#committer = undefined;
    // Commits already handed over finish (and resolve) first.
    await committer?.close();
    db?.close();
  }

  /** What `canhgac doctor` and the tests check: where the file is and how durable writes are. */
  describe(): { file: string; schemaVersion: number; journalMode: string; synchronous: string; foreignKeys: boolean } {
    return this.#run((db) => {
      const sync = db.pragma('synchronous', { simple: true }) as number;
      return {
        file: this.file,
        schemaVersion: (db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number }).v,
        journalMode: String(db.pragma('journal_mode', { simple: true })),
        synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][sync] ?? String(sync),
        foreignKeys: db.pragma('foreign_keys', { simple: true }) === 1,
      };
    });
  }

  /** Runs `fn` on the open database and turns whatever SQLite throws into a StoreError. */
  #run<T>(fn: (db: Database.Database, st: Statements) => T): T {
    const db = this.#db;
    const st = this.#st;
    if (!db || !st) throw new StoreError(StoreCodes.UNAVAILABLE, `store ${this.file} is not open`, { hint: 'Call init() first (or the store was closed).' });
    try {
      return fn(db, st);
    } catch (e) {
      throw toStoreError(e, this.file);
    }
  }

  // ── ingest ──────────────────────────────────────────────────────────────────────────────

  async knownFindingIds(ids: string[]): Promise<Set<string>> {
    return this.#run((_db, st) => {
      const known = new Set<string>();
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        for (const id of st.knownIds.all(JSON.stringify(ids.slice(i, i + ID_CHUNK))) as string[]) known.add(id);
      }
      return known;
    });
  }

  async commit(c: IngestCommit): Promise<CommitResult> {
    const committer = this.#run(() => {
      if (!this.#committer?.alive) this.#committer = startCommitThread(this.file, this.#synchronous);
      return this.#committer;
    });
    return committer.commit(c);
  }

  // ── findings and state ──────────────────────────────────────────────────────────────────

  async listFindings(q: FindingQuery): Promise<Page<FindingRecord>> {
    return this.#run((db) => {
      const { sql, params, t } = findingFilter(q);
      const { limit, offset } = page(q);
      const total = (db.prepare(`SELECT count(*) AS n ${sql}`).get(...params) as { n: number }).n;
      const cols = FINDING_COLUMNS.split(', ').map((c) => `f.${c}`).join(', ');
      const rows = db.prepare(`SELECT ${cols} ${sql} ${findingOrder(q, t)} LIMIT ? OFFSET ?`).all(...params, limit, offset) as FindingRow[];
      return { items: rows.map(toFinding), total };
    });
  }

  async countFindings(by: 'kind' | 'agent', q: { agentId?: string } = {}): Promise<Record<string, number>> {
    return this.#run((_db, st) => {
      const agent = q.agentId !== undefined;
      const params = agent ? [q.agentId, q.agentId] : [];
      const rows = st.countState(by === 'kind' ? 'kind' : 'agent_id', agent).all(...params) as { k: string; n: number }[];
      const out: Record<string, number> = {};
      for (const r of rows) out[r.k] = (out[r.k] ?? 0) + r.n;
      return out;
    });
  }

  // ── alerts ──────────────────────────────────────────────────────────────────────────────

  async getAlert(id: string): Promise<Alert | undefined> {
    return this.#run((_db, st) => {
      const row = st.getAlert.get(id) as AlertRow | undefined;
      return row && toAlert(row);
    });
  }

  async listAlerts(q: AlertQuery): Promise<Page<Alert>> {
    return this.#run((db) => {
      const { sql, params } = alertFilter(q);
      const { limit, offset } = page(q);
      const total = (db.prepare(`SELECT count(*) AS n FROM alerts ${sql}`).get(...params) as { n: number }).n;
      const rows = db.prepare(`SELECT ${ALERT_COLUMNS} FROM alerts ${sql} ${alertOrder(q)} LIMIT ? OFFSET ?`)
        .all(...params, limit, offset) as AlertRow[];
      return { items: rows.map(toAlert), total };
    });
  }

  async countAlerts(by: 'severity' | 'status' | 'host', q: AlertQuery = {}): Promise<Record<string, number>> {
    return this.#run((db) => {
      const column = ALERT_GROUP[by];
      if (!column) throw new StoreError(StoreCodes.INVALID_INPUT, `cannot count alerts by ${String(by)}`);
      const { sql, params } = alertFilter(q);
      const rows = db.prepare(`SELECT ${column} AS k, count(*) AS n FROM alerts ${sql} GROUP BY ${column}`).all(...params) as { k: string; n: number }[];
      return Object.fromEntries(rows.map((r) => [r.k, r.n]));
    });
  }

  async changeAlertStatus(id: string, change: StatusChange): Promise<Alert> {
    return this.#run((db, st) => db.transaction(() => {
      const row = st.getAlert.get(id) as AlertRow | undefined;
      if (!row) throw new StoreError(StoreCodes.NOT_FOUND, `no alert ${id}`);
      if (row.version !== change.expectedVersion) {
        throw new StoreError(StoreCodes.CONFLICT, `alert ${id} is at version ${row.version}, not ${change.expectedVersion}: someone changed it meanwhile`, {
          hint: 'Reload the alert and decide again.',
        });
      }
      const from = row.status as Alert['status'];
      if (!canTransition(from, change.to)) {
        const allowed = STATUS_TRANSITIONS[from].join(', ');
        throw new StoreError(StoreCodes.INVALID_TRANSITION, `alert ${id} cannot go from ${from} to ${String(change.to)}`, {
          hint: `From ${from} it can go to: ${allowed}.`,
        });
      }
      const at = isoTime(change.at ?? new Date().toISOString(), 'at');
      st.setStatus.run({ id, to: change.to, at, version: row.version });
      st.insertAudit.run({
        id: randomUUID(), at, actor: change.actor, action: 'alert.status', target: `alert:${id}`, from, to: change.to, reason: change.reason,
      });
      return toAlert(st.getAlert.get(id) as AlertRow);
    }).immediate());
  }

  async listAudit(q: { target?: string; limit?: number }): Promise<AuditEntry[]> {
    return this.#run((_db, st) => {
      const { limit } = page({ ...(q.limit === undefined ? {} : { limit: q.limit }) });
      const rows = (q.target === undefined ? st.listAudit.all(limit) : st.listAuditFor.all(q.target, limit)) as AuditRow[];
      return rows.map(toAudit);
    });
  }

  async appendAudit(e: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    return this.#run((_db, st) => {
      const entry: AuditEntry = { ...e, id: randomUUID(), at: isoTime(e.at, 'at') };
      st.insertAudit.run(entry);
      return entry;
    });
  }

  // ── agents ──────────────────────────────────────────────────────────────────────────────

  async upsertAgent(a: AgentRecord): Promise<void> {
    this.#run((_db, st) => {
      st.upsertAgent.run({
        ...a, enrolledAt: isoTime(a.enrolledAt, 'enrolledAt'), lastSeen: isoTime(a.lastSeen, 'lastSeen'),
      });
    });
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    return this.#run((_db, st) => {
      const row = st.getAgent.get(id) as AgentRow | undefined;
      return row && toAgent(row);
    });
  }

  async listAgents(): Promise<AgentRecord[]> {
    return this.#run((_db, st) => (st.listAgents.all() as AgentRow[]).map(toAgent));
  }

  async touchAgent(id: string, lastSeen: string): Promise<void> {
    this.#run((_db, st) => {
      if (st.touchAgent.run(isoTime(lastSeen, 'lastSeen'), id).changes === 0) throw new StoreError(StoreCodes.NOT_FOUND, `no agent ${id}`);
    });
  }

  // ── enrollment tokens ───────────────────────────────────────────────────────────────────

  async createToken(t: TokenRecord): Promise<void> {
    this.#run((_db, st) => {
      st.insertToken.run({ ...t, createdAt: isoTime(t.createdAt, 'createdAt'), expiresAt: isoTime(t.expiresAt, 'expiresAt') });
    });
  }

  async consumeToken(hash: string, now: string): Promise<TokenRecord> {
    return this.#run((db, st) => db.transaction(() => {
      const at = isoTime(now, 'now');
      const row = st.tokenByHash.get(hash) as TokenRow | undefined;
      // The messages name the token by id, never by its hash.
      if (!row) throw new StoreError(StoreCodes.TOKEN_UNKNOWN, 'no enrollment token matches');
      if (row.expires_at <= at) throw new StoreError(StoreCodes.TOKEN_EXPIRED, `enrollment token ${row.id} expired at ${row.expires_at}`);
      if (row.uses_left === null) return toToken(row);
      if (st.useToken.run(row.id).changes === 0) throw new StoreError(StoreCodes.TOKEN_USED_UP, `enrollment token ${row.id} has no uses left`);
      return toToken({ ...row, uses_left: row.uses_left - 1 });
    }).immediate());
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.#run((_db, st) => (st.listTokens.all() as TokenRow[]).map(toToken));
  }

  // ── retention ───────────────────────────────────────────────────────────────────────────

  async prune(p: RetentionPolicy): Promise<{ findings: number; alerts: number }> {
    const findingsBefore = isoTime(p.findingsBefore, 'findingsBefore');
    const alertsBefore = isoTime(p.alertsBefore, 'alertsBefore');
    let findings = 0;
    let alerts = 0;
    // In chunks, yielding between them, so a large prune never holds the write lock for long.
    for (;;) {
      const n = this.#run((_db, st) => st.pruneFindings.run(findingsBefore).changes);
      findings += n;
      if (n < PRUNE_CHUNK) break;
      await new Promise((r) => setImmediate(r));
    }
    for (;;) {
      const n = this.#run((_db, st) => st.pruneAlerts.run(alertsBefore).changes);
      alerts += n;
      if (n < PRUNE_CHUNK) break;
      await new Promise((r) => setImmediate(r));
    }
    return { findings, alerts };
  }
}
