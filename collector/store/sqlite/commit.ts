/**
 * The ingest transaction (Store.commit): findings, current state, closed snapshots, alert folding and the
 * agent's lastSeq — all in one SQLite transaction, so an ack never covers half a batch.
 *
 * Group commit: the commits waiting at the same time go into one IMMEDIATE transaction, each in a
 * savepoint of its own. One that fails is rolled back alone (its caller gets the error); the others are
 * durable when the one transaction commits (one WAL fsync for the group instead of one per batch).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { KIND_FAMILY, type FindingKind } from '../../../common/finding.js';
import { StoreCodes, StoreError } from '../errors.js';
import { CLOSED_STATUSES, type AlertUpsert, type CommitResult, type IngestCommit, type StateRemoval } from '../types.js';
import { ALERT_COLUMNS, isoTime, type AlertRow } from './rows.js';

/** At most this many finding ids are kept on an alert (oldest first). */
export const MAX_ALERT_FINDINGS = 100;

const closedList = CLOSED_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * An alert whose findings in this commit were all stored before it (none of them new). An alert citing
 * no finding of this commit (a correlation over earlier batches) is not a replay.
 */
function isReplay(u: AlertUpsert, inCommit: ReadonlySet<string>, inserted: ReadonlySet<string>): boolean {
  let cited = false;
  for (const id of u.findingIds) {
    if (inserted.has(id)) return false;
    if (inCommit.has(id)) cited = true;
  }
  return cited;
}

/** What each commit of a group came to: its result, or what it threw (it was rolled back alone). */
export type GroupOutcome = { ok: true; result: CommitResult } | { ok: false; error: unknown };

export function prepareCommit(db: Database.Database): (group: IngestCommit[]) => GroupOutcome[] {
  const agentExists = db.prepare('SELECT 1 FROM agents WHERE id = ?').pluck();
  const insertFinding = db.prepare(`
    INSERT INTO findings (id, agent_id, host_name, seq, observed_at, received_at, check_name, kind, family, state_key, snapshot_id, fields)
    VALUES (@id, @agentId, @hostName, @seq, @observedAt, @receivedAt, @check, @kind, @family, @stateKey, @snapshotId, @fields)
    ON CONFLICT (id) DO NOTHING`);
  // Latest observation wins; on equal times the higher sequence number.
  const upsertState = db.prepare(`
    INSERT INTO state (agent_id, kind, state_key, finding_id, snapshot_id, seq, fields, observed_at, updated_at)
    VALUES (@agentId, @kind, @stateKey, @id, @snapshotId, @seq, @fields, @observedAt, @now)
    ON CONFLICT (agent_id, kind, state_key) DO UPDATE SET
      finding_id = excluded.finding_id, snapshot_id = excluded.snapshot_id, seq = excluded.seq, fields = excluded.fields,
      observed_at = excluded.observed_at, updated_at = excluded.updated_at
    WHERE excluded.observed_at > state.observed_at
       OR (excluded.observed_at = state.observed_at AND excluded.seq > state.seq)`);
  // Items of other snapshots that the closed one contradicts: those observed before it began.
  // A snapshot of which nothing is stored claims an empty host: everything else goes.
  const closeSnapshot = db.prepare(`
    DELETE FROM state
    WHERE agent_id = @agentId AND kind = @kind AND snapshot_id <> @snapshotId
      AND observed_at < coalesce(
        (SELECT min(observed_at) FROM findings
          WHERE agent_id = @agentId AND kind = @kind AND snapshot_id = @snapshotId AND snapshot_id <> ''),
        '9999-12-31T23:59:59.999Z')
    RETURNING state_key`).pluck();
  const openAlertByKey = db.prepare(`
    SELECT ${ALERT_COLUMNS} FROM alerts
    WHERE dedup_key = ? AND status NOT IN (${closedList})
    ORDER BY first_seen DESC, rowid DESC LIMIT 1`);
  const foldAlert = db.prepare(`
    UPDATE alerts SET count = count + @count, first_seen = min(first_seen, @seenAt), last_seen = max(last_seen, @seenAt),
      finding_ids = @findingIds, version = version + 1, updated_at = @now
    WHERE id = @id`);
  const insertAlert = db.prepare(`
    INSERT INTO alerts (id, dedup_key, rule_id, rule_title, rule_version, severity, status, agent_id, host_name, finding_ids,
      first_seen, last_seen, count, tags, summary, version, updated_at)
    VALUES (@id, @dedupKey, @ruleId, @ruleTitle, @ruleVersion, @severity, 'open', @agentId, @hostName, @findingIds,
      @seenAt, @seenAt, @count, @tags, @summary, 1, @now)`);
  const advanceAgent = db.prepare('UPDATE agents SET last_seq = max(last_seq, @upToSeq), last_seen = max(last_seen, @lastSeen) WHERE id = @agentId');

  const upsertAlert = (u: AlertUpsert, now: string): 'created' | 'folded' => {
    const seenAt = isoTime(u.seenAt, `alert ${u.dedupKey}: seenAt`);
    const existing = openAlertByKey.get(u.dedupKey) as AlertRow | undefined;
    if (existing) {
      const ids = JSON.parse(existing.finding_ids) as string[];
      for (const id of u.findingIds) {
        if (ids.length >= MAX_ALERT_FINDINGS) break;
        if (!ids.includes(id)) ids.push(id);
      }
      foldAlert.run({ id: existing.id, count: u.count, seenAt, findingIds: JSON.stringify(ids), now });
      return 'folded';
    }
    insertAlert.run({
      id: randomUUID(), dedupKey: u.dedupKey, ruleId: u.rule.id, ruleTitle: u.rule.title, ruleVersion: u.rule.version,
      severity: u.severity, agentId: u.agentId, hostName: u.hostName,
      findingIds: JSON.stringify([...new Set(u.findingIds)].slice(0, MAX_ALERT_FINDINGS)), seenAt, count: u.count,
      tags: JSON.stringify(u.tags), summary: u.summary, now,
    });
    return 'created';
  };

  const run = (c: IngestCommit): CommitResult => {
    const now = new Date().toISOString();
    if (agentExists.get(c.agentId) === undefined) {
      throw new StoreError(StoreCodes.NOT_FOUND, `agent ${c.agentId} is not registered; nothing was stored`);
    }
    // With alerts to apply: which findings of this commit were new (see isReplay below).
    const inCommit = c.alerts.length ? new Set<string>() : undefined;
    const inserted = c.alerts.length ? new Set<string>() : undefined;
    // The batch's findings share one receivedAt: canonicalised once.
    let receivedIn: string | undefined;
    let receivedAt = '';
    for (const f of c.findings) {
      if (f.agentId !== c.agentId) {
        throw new StoreError(StoreCodes.INVALID_INPUT, `finding ${f.id} belongs to agent ${f.agentId}, not ${c.agentId}`);
      }
      if (KIND_FAMILY[f.kind] === undefined || f.family !== KIND_FAMILY[f.kind]) {
        throw new StoreError(StoreCodes.INVALID_INPUT, `finding ${f.id}: kind ${String(f.kind)} with family ${String(f.family)}`);
      }
      if (f.receivedAt !== receivedIn) {
        receivedAt = isoTime(f.receivedAt, `finding ${f.id}: receivedAt`);
        receivedIn = f.receivedAt;
      }
      const row = {
        id: f.id, agentId: f.agentId, hostName: f.hostName, seq: f.seq, observedAt: isoTime(f.observedAt, `finding ${f.id}: observedAt`),
        receivedAt, check: f.check, kind: f.kind, family: f.family,
        stateKey: f.stateKey, snapshotId: f.snapshotId ?? '', fields: JSON.stringify(f.fields), now,
      };
      // A finding already stored was already applied to the state: replaying it changes nothing.
      const isNew = insertFinding.run(row).changes === 1;
      if (isNew && f.family === 'state') upsertState.run(row);
      if (inCommit) { inCommit.add(f.id); if (isNew) inserted!.add(f.id); }
    }
    const removed: StateRemoval[] = [];
    const closed = new Set<string>();
    for (const s of c.closedSnapshots) {
      const key = `${s.kind}\u0000${s.snapshotId}`;
      if (!s.snapshotId || closed.has(key)) continue;
      closed.add(key);
      for (const stateKey of closeSnapshot.all({ agentId: c.agentId, kind: s.kind, snapshotId: s.snapshotId }) as string[]) {
        removed.push({ agentId: c.agentId, kind: s.kind as FindingKind, stateKey });
      }
    }
    let alertsCreated = 0;
    let alertsFolded = 0;
    for (const u of c.alerts) {
      // Its findings were all stored already: the same batch committed twice (a resend racing the first
      // write, or an ack lost). The alert was applied with them; applying it again would count it twice.
      if (inCommit && isReplay(u, inCommit, inserted!)) continue;
      if (upsertAlert(u, now) === 'created') alertsCreated++;
      else alertsFolded++;
    }
    advanceAgent.run({ agentId: c.agentId, upToSeq: c.upToSeq, lastSeen: isoTime(c.lastSeen, 'lastSeen') });
    return { removed, alertsCreated, alertsFolded };
  };

  // Called inside the group's transaction, better-sqlite3 runs each in a SAVEPOINT.
  const one = db.transaction(run);
  const group = db.transaction((cs: IngestCommit[]): GroupOutcome[] => cs.map((c) => {
    try {
      return { ok: true, result: one(c) };
    } catch (error) {
      // Some errors (disk full, I/O) end the whole transaction: then nothing of the group is kept.
      if (!db.inTransaction) throw error;
      return { ok: false, error };
    }
  }));
  return (cs) => group.immediate(cs);
}
