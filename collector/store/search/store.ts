/**
 * The Elasticsearch / OpenSearch store: one implementation for both engines over a thin adapter
 * (adapter.ts). Index layout and the reasons for it: docs/search-engines.md.
 */
import { randomUUID } from 'node:crypto';
import type { FindingRecord } from '../../../common/finding.js';
import type { Logger } from '../../../common/logger.js';
import { StoreCodes, StoreError } from '../errors.js';
import type {
  AgentRecord, Alert, AlertQuery, AuditEntry, FindingQuery, IngestCommit, Page, RetentionPolicy, StatusChange, Store, TokenRecord,
} from '../types.js';
import type { EngineAdapter } from './adapter.js';
import { changeAlertStatus, readAlert, writeAudit } from './alerts.js';
import { makeCall } from './call.js';
import { commit, type SearchCommitResult } from './commit.js';
import type { SearchStoreConfig } from './config.js';
import { Ctx } from './context.js';
import { DeadLetters } from './dead-letter.js';
import { docToAgent, docToToken, tokenToDoc } from './documents.js';
import { describeEngineError } from './engine-types.js';
import { componentTemplates, indexTemplates, mappingsFor } from './mappings.js';
import { names, seg } from './names.js';
import * as q from './queries.js';
import { prune } from './retention.js';
import { isoTime, maxIso } from './time.js';

const DAY_MS = 24 * 3600 * 1000;
const MAX_OCC_ATTEMPTS = 20;

export interface SearchStoreOptions {
  /** The collector's data directory; refused documents go to `<dataDir>/dead-letter/`. */
  dataDir: string;
  log: Logger;
}

export class SearchStore implements Store {
  readonly kind: 'elasticsearch' | 'opensearch';
  readonly config: SearchStoreConfig;
  readonly #adapter: EngineAdapter;
  readonly #ctx: Ctx;
  readonly #log: Logger;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #auditSeq = 0;

  constructor(config: SearchStoreConfig, adapter: EngineAdapter, o: SearchStoreOptions) {
    this.kind = config.type;
    this.config = config;
    this.#adapter = adapter;
    this.#log = o.log;
    const call = makeCall(adapter, { retryMs: config.bulk.retry_ms, isClosed: () => this.#closed });
    this.#ctx = new Ctx({
      engine: config.type, call, names: names(config.index_prefix), log: o.log, deadLetters: new DeadLetters(o.dataDir),
      bulk: {
        maxDocs: config.bulk.max_docs, maxBytes: config.bulk.max_bytes, flushMs: config.bulk.flush_ms,
        concurrency: config.bulk.concurrency, retryMs: config.bulk.retry_ms,
      },
    });
  }

  /** Index names, for tests and `canhgac doctor`. */
  get names(): ReturnType<typeof names> {
    return this.#ctx.n;
  }

  /** Puts the templates and creates the small indices; nothing for the operator to set up. */
  async init(): Promise<void> {
    const ctx = this.#ctx;
    const health = await ctx.call({ method: 'GET', path: '/_cluster/health' });
    if (health.status !== 200) throw new StoreError(StoreCodes.UNAVAILABLE, `${this.kind} cluster health answered HTTP ${health.status}`);
    for (const t of componentTemplates(ctx.n)) {
      await ctx.expect({ method: 'PUT', path: `/_component_template/${seg(t.name)}`, body: t.body }, [200], `put component template ${t.name}`);
    }
    for (const t of indexTemplates(ctx.n)) {
      await ctx.expect({ method: 'PUT', path: `/_index_template/${seg(t.name)}`, body: t.body }, [200], `put index template ${t.name}`);
    }
    for (const index of [ctx.n.state, ctx.n.agents, ctx.n.tokens, ctx.n.audit, ctx.n.meta]) {
      await ctx.ensureIndex(index);
      const mappings = mappingsFor(ctx.n, index);
      if (mappings) await ctx.expect({ method: 'PUT', path: `/${seg(index)}/_mapping`, body: mappings }, [200], `update mappings of ${index}`);
    }
    const every = this.config.retention.interval_hours * 3600 * 1000;
    if (every > 0) {
      const run = (): void => {
        void this.pruneByRetention().catch((e: unknown) => this.#log.error('retention failed', { error: (e as Error).message }));
      };
      // First a minute after start (not in the way of startup), then on the interval.
      this.#timer = setTimeout(() => {
        run();
        this.#timer = setInterval(run, every);
        this.#timer.unref();
      }, Math.min(60_000, every));
      this.#timer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ctx.drain().catch(() => undefined);
    this.#closed = true;
    await this.#adapter.close();
  }

  // ── ingest ──────────────────────────────────────────────────────────────────────────────

  knownFindingIds(ids: string[]): Promise<Set<string>> {
    return q.knownFindingIds(this.#ctx, ids);
  }

  commit(c: IngestCommit): Promise<SearchCommitResult> {
    return commit(this.#ctx, c);
  }

  // ── findings and state ──────────────────────────────────────────────────────────────────

  listFindings(query: FindingQuery): Promise<Page<FindingRecord>> {
    return q.listFindings(this.#ctx, query);
  }

  countFindings(by: 'kind' | 'agent', query?: { agentId?: string }): Promise<Record<string, number>> {
    return q.countFindings(this.#ctx, by, query);
  }

  // ── alerts ──────────────────────────────────────────────────────────────────────────────

  async getAlert(id: string): Promise<Alert | undefined> {
    return (await readAlert(this.#ctx, id))?.alert;
  }

  listAlerts(query: AlertQuery): Promise<Page<Alert>> {
    return q.listAlerts(this.#ctx, query);
  }

  countAlerts(by: 'severity' | 'status' | 'host', query?: AlertQuery): Promise<Record<string, number>> {
    return q.countAlerts(this.#ctx, by, query);
  }

  changeAlertStatus(id: string, change: StatusChange): Promise<Alert> {
    return changeAlertStatus(this.#ctx, id, change, () => this.#nextAuditSeq());
  }

  listAudit(query: { target?: string; limit?: number }): Promise<AuditEntry[]> {
    return q.listAudit(this.#ctx, query);
  }

  async appendAudit(e: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    const entry: AuditEntry = { ...e, id: randomUUID(), at: isoTime(e.at, 'at') };
    await writeAudit(this.#ctx, entry, this.#nextAuditSeq());
    return entry;
  }

  /** Insertion order within one time (µs clock, strictly increasing in this process). */
  #nextAuditSeq(): number {
    this.#auditSeq = Math.max(this.#auditSeq + 1, Date.now() * 1000);
    return this.#auditSeq;
  }

  // ── agents ──────────────────────────────────────────────────────────────────────────────

  async upsertAgent(a: AgentRecord): Promise<void> {
    const ctx = this.#ctx;
    const rec: AgentRecord = { ...a, enrolledAt: isoTime(a.enrolledAt, 'enrolledAt'), lastSeen: isoTime(a.lastSeen, 'lastSeen') };
    for (let attempt = 1; attempt <= MAX_OCC_ATTEMPTS; attempt++) {
      const cur = await ctx.get<AgentRecord>(ctx.n.agents, a.id);
      const doc = cur
        ? { ...rec, lastSeen: maxIso(cur.source.lastSeen, rec.lastSeen), lastSeq: Math.max(cur.source.lastSeq, rec.lastSeq) }
        : rec;
      const [r] = await ctx.write([cur
        ? { action: 'index', index: ctx.n.agents, id: a.id, doc: { ...doc }, ifSeqNo: cur.seqNo, ifPrimaryTerm: cur.primaryTerm }
        : { action: 'create', index: ctx.n.agents, id: a.id, doc: { ...doc } }]);
      if (r!.status === 409) continue;
      if (r!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not store agent ${a.id} (${describeEngineError(r!.item.error)})`);
      return;
    }
    throw new StoreError(StoreCodes.CONFLICT, `agent ${a.id} kept changing while it was being stored`);
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    const got = await this.#ctx.get(this.#ctx.n.agents, id);
    return got && docToAgent(got.source);
  }

  listAgents(): Promise<AgentRecord[]> {
    return q.listAgents(this.#ctx);
  }

  async touchAgent(id: string, lastSeen: string): Promise<void> {
    const ctx = this.#ctx;
    const at = isoTime(lastSeen, 'lastSeen');
    for (let attempt = 1; attempt <= MAX_OCC_ATTEMPTS; attempt++) {
      const cur = await ctx.get<AgentRecord>(ctx.n.agents, id);
      if (!cur) throw new StoreError(StoreCodes.NOT_FOUND, `no agent ${id}`);
      if (cur.source.lastSeen >= at) return;
      const [r] = await ctx.write([{
        action: 'index', index: ctx.n.agents, id, doc: { ...cur.source, lastSeen: at }, ifSeqNo: cur.seqNo, ifPrimaryTerm: cur.primaryTerm,
      }]);
      if (r!.status === 409) continue;
      if (r!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not update agent ${id} (${describeEngineError(r!.item.error)})`);
      return;
    }
    throw new StoreError(StoreCodes.CONFLICT, `agent ${id} kept changing while it was being touched`);
  }

  // ── enrollment tokens ───────────────────────────────────────────────────────────────────
  // Two documents per token: `t-<id>` (the token) and `h-<hash>` (hash → id). Both are created with
  // `create`, so a second token with the same id or hash is refused by the engine itself.

  async createToken(t: TokenRecord): Promise<void> {
    const ctx = this.#ctx;
    const rec: TokenRecord = { ...t, createdAt: isoTime(t.createdAt, 'createdAt'), expiresAt: isoTime(t.expiresAt, 'expiresAt') };
    const [h] = await ctx.write([{ action: 'create', index: ctx.n.tokens, id: `h-${t.hash}`, doc: { doc: 'hash', tokenId: t.id } }]);
    if (h!.status === 409) throw new StoreError(StoreCodes.CONFLICT, `an enrollment token with the same secret exists (new token ${t.id})`);
    if (h!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not store token ${t.id} (${describeEngineError(h!.item.error)})`);
    const [r] = await ctx.write([{ action: 'create', index: ctx.n.tokens, id: `t-${t.id}`, doc: tokenToDoc(rec) }]);
    if (r!.status < 300) return;
    await ctx.write([{ action: 'delete', index: ctx.n.tokens, id: `h-${t.hash}`, ifSeqNo: h!.item._seq_no ?? 0, ifPrimaryTerm: h!.item._primary_term ?? 0 }]);
    if (r!.status === 409) throw new StoreError(StoreCodes.CONFLICT, `an enrollment token with id ${t.id} exists`);
    throw new StoreError(StoreCodes.UNAVAILABLE, `could not store token ${t.id} (${describeEngineError(r!.item.error)})`);
  }

  /** Single use is atomic: the decrement is conditional on the version read (if_seq_no/if_primary_term). */
  async consumeToken(hash: string, now: string): Promise<TokenRecord> {
    const ctx = this.#ctx;
    const at = isoTime(now, 'now');
    for (let attempt = 1; attempt <= MAX_OCC_ATTEMPTS * 5; attempt++) {
      const ptr = await ctx.get<{ tokenId: string }>(ctx.n.tokens, `h-${hash}`);
      // The messages name the token by id, never by its hash.
      if (!ptr) throw new StoreError(StoreCodes.TOKEN_UNKNOWN, 'no enrollment token matches');
      const cur = await ctx.get(ctx.n.tokens, `t-${ptr.source.tokenId}`);
      if (!cur) throw new StoreError(StoreCodes.TOKEN_UNKNOWN, 'no enrollment token matches');
      const tok = docToToken(cur.source);
      if (tok.expiresAt <= at) throw new StoreError(StoreCodes.TOKEN_EXPIRED, `enrollment token ${tok.id} expired at ${tok.expiresAt}`);
      if (tok.usesLeft === null) return tok;
      if (tok.usesLeft <= 0) throw new StoreError(StoreCodes.TOKEN_USED_UP, `enrollment token ${tok.id} has no uses left`);
      const next: TokenRecord = { ...tok, usesLeft: tok.usesLeft - 1 };
      const [r] = await ctx.write([{
        action: 'index', index: ctx.n.tokens, id: cur.id, doc: tokenToDoc(next), ifSeqNo: cur.seqNo, ifPrimaryTerm: cur.primaryTerm,
      }]);
      if (r!.status === 409) continue;
      if (r!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not use token ${tok.id} (${describeEngineError(r!.item.error)})`);
      return next;
    }
    throw new StoreError(StoreCodes.CONFLICT, 'enrollment token kept changing while it was being used');
  }

  listTokens(): Promise<TokenRecord[]> {
    return q.listTokens(this.#ctx);
  }

  // ── retention ───────────────────────────────────────────────────────────────────────────

  prune(p: RetentionPolicy): Promise<{ findings: number; alerts: number }> {
    return prune(this.#ctx, p);
  }

  /** Applies the configured retention (run on a schedule by init(); callable by `canhgac` admin commands). */
  async pruneByRetention(now = new Date()): Promise<{ findings: number; alerts: number }> {
    const r = this.config.retention;
    const out = await this.prune({
      findingsBefore: new Date(now.getTime() - r.findings_days * DAY_MS).toISOString(),
      alertsBefore: new Date(now.getTime() - r.alerts_days * DAY_MS).toISOString(),
    });
    this.#log.info('retention applied', { 'findings.deleted': out.findings, 'alerts.deleted': out.alerts });
    return out;
  }
}
