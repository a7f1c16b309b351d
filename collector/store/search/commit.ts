/**
 * Store.commit on a search engine. There is no multi-document transaction, so a commit is a sequence of
 * idempotent steps ordered so that a retry after any failure converges to the same result:
 *
 *  1. check the agent and the input (nothing written yet);
 *  2. find which state findings are new (real-time _mget on the month index of each);
 *  3. record when each snapshot began (bookkeeping documents, min of observed times);
 *  4. upsert the current state of each (agent, kind, key): newest observation wins, optimistic
 *     concurrency (if_seq_no/if_primary_term) against concurrent writers;
 *  5. close snapshots: delete the state items the snapshot contradicts;
 *  6. fold or open alerts (alerts.ts);
 *  7. index the findings (`create` by id: a replay is a 409, never a duplicate) through the bulk writer;
 *     documents the engine refuses for good go to the dead-letter file;
 *  8. move the agent's lastSeq/lastSeen forward.
 *
 * Findings are written last: as long as a finding is not stored, a retry redoes 2–6 for it; once it is
 * stored, everything before it is. The commit resolves when the engine acknowledged every write.
 */
import { KIND_FAMILY, type FindingKind, type FindingRecord } from '../../../common/finding.js';
import { StoreCodes, StoreError } from '../errors.js';
import type { AgentRecord, CommitResult, IngestCommit, StateRemoval } from '../types.js';
import { upsertAlert } from './alerts.js';
import type { BulkOp } from './bulk.js';
import type { Ctx, Found } from './context.js';
import type { DeadLetter } from './dead-letter.js';
import { describeEngineError } from './engine-types.js';
import { findingToDoc, type Doc } from './documents.js';
import { keyId } from './names.js';
import { isoTime, maxIso, minIso } from './time.js';

/** What a search-engine commit adds to CommitResult: findings that went to the dead-letter file. */
export interface SearchCommitResult extends CommitResult {
  deadLettered: { id: string; reason: string; file: string }[];
}

const MAX_OCC_ATTEMPTS = 20;
const NEVER = '9999-12-31T23:59:59.999Z';

export const stateDocId = (agentId: string, kind: string, stateKey: string): string => keyId('state', agentId, kind, stateKey);
export const snapshotDocId = (agentId: string, kind: string, snapshotId: string): string => keyId('snapshot', agentId, kind, snapshotId);

interface StateSource { '@timestamp': string; event?: { id?: string; sequence?: number } }

/** Does `f` replace the current state item `cur`? Later observation wins; on equal times the higher seq. */
function replaces(f: FindingRecord, cur: StateSource): boolean {
  const t = cur['@timestamp'];
  const seq = Number(cur.event?.sequence ?? 0);
  return f.observedAt > t || (f.observedAt === t && f.seq > seq);
}

function normalize(c: IngestCommit): { findings: FindingRecord[]; lastSeen: string } {
  const seen = new Set<string>();
  const findings: FindingRecord[] = [];
  for (const f of c.findings) {
    if (f.agentId !== c.agentId) {
      throw new StoreError(StoreCodes.INVALID_INPUT, `finding ${f.id} belongs to agent ${f.agentId}, not ${c.agentId}`);
    }
    if (KIND_FAMILY[f.kind] === undefined || f.family !== KIND_FAMILY[f.kind]) {
      throw new StoreError(StoreCodes.INVALID_INPUT, `finding ${f.id}: kind ${String(f.kind)} with family ${String(f.family)}`);
    }
    if (typeof f.id !== 'string' || f.id.length === 0 || Buffer.byteLength(f.id) > 512) {
      throw new StoreError(StoreCodes.INVALID_INPUT, 'a finding id must be 1 to 512 bytes');
    }
    const r: FindingRecord = {
      ...f,
      observedAt: isoTime(f.observedAt, `finding ${f.id}: observedAt`),
      receivedAt: isoTime(f.receivedAt, `finding ${f.id}: receivedAt`),
      snapshotId: f.snapshotId ?? '',
    };
    // The same id twice in one batch: the first one counts (as a replay would).
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    findings.push(r);
  }
  for (const a of c.alerts) isoTime(a.seenAt, `alert ${a.dedupKey}: seenAt`);
  return { findings, lastSeen: isoTime(c.lastSeen, 'lastSeen') };
}

export async function commit(ctx: Ctx, c: IngestCommit): Promise<SearchCommitResult> {
  const n = ctx.n;
  const { findings, lastSeen } = normalize(c);
  const agent = await ctx.get<AgentRecord>(n.agents, c.agentId);
  if (!agent) {
    throw new StoreError(StoreCodes.NOT_FOUND, `agent ${c.agentId} is not registered; nothing was stored`);
  }
  const now = new Date().toISOString();
  const refused = new Map<string, { index: string; status: number; reason: string; doc: Doc }>();

  // 2. new state findings
  const stateFindings = findings.filter((f) => f.family === 'state');
  const existing = await ctx.mget(stateFindings.map((f) => ({ index: n.findingsMonth(f.observedAt), id: f.id })));
  const fresh = stateFindings.filter((_f, i) => existing[i] === undefined);

  // 3. snapshot beginnings, 4. current state
  await recordSnapshotStarts(ctx, c.agentId, fresh);
  await upsertState(ctx, fresh, now, refused);

  // 5. closed snapshots
  const removed: StateRemoval[] = [];
  const closed = new Set<string>();
  for (const s of c.closedSnapshots) {
    const key = `${s.kind}\u0000${s.snapshotId}`;
    if (!s.snapshotId || closed.has(key)) continue;
    closed.add(key);
    removed.push(...(await closeSnapshot(ctx, c.agentId, s.kind, s.snapshotId)));
  }

  // 6. alerts
  let alertsCreated = 0;
  let alertsFolded = 0;
  for (const u of c.alerts) {
    if ((await upsertAlert(ctx, u, now)) === 'created') alertsCreated++;
    else alertsFolded++;
  }

  // 7. findings
  const deadLettered = await writeFindings(ctx, findings, refused);

  // 8. the agent
  await advanceAgent(ctx, c.agentId, c.upToSeq, lastSeen, agent);
  return { removed, alertsCreated, alertsFolded, deadLettered };
}

async function recordSnapshotStarts(ctx: Ctx, agentId: string, fresh: FindingRecord[]): Promise<void> {
  const starts = new Map<string, { kind: FindingKind; snapshotId: string; start: string }>();
  for (const f of fresh) {
    if (!f.snapshotId) continue;
    const id = snapshotDocId(agentId, f.kind, f.snapshotId);
    const cur = starts.get(id);
    starts.set(id, { kind: f.kind, snapshotId: f.snapshotId, start: cur ? minIso(cur.start, f.observedAt) : f.observedAt });
  }
  let pending = [...starts.keys()];
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > MAX_OCC_ATTEMPTS) throw new StoreError(StoreCodes.CONFLICT, 'snapshot bookkeeping kept changing under this commit');
    const cur = await ctx.mget<{ start: string }>(pending.map((id) => ({ index: ctx.n.meta, id })));
    const ops: BulkOp[] = [];
    pending.forEach((id, i) => {
      const want = starts.get(id)!;
      const have = cur[i];
      if (have && have.source.start <= want.start) return;
      const doc = { doc: 'snapshot', '@timestamp': want.start, agentId, kind: want.kind, snapshotId: want.snapshotId, start: want.start };
      ops.push(have
        ? { action: 'index', index: ctx.n.meta, id, doc, ifSeqNo: have.seqNo, ifPrimaryTerm: have.primaryTerm }
        : { action: 'create', index: ctx.n.meta, id, doc });
    });
    const results = await ctx.write(ops);
    pending = [];
    for (const r of results) {
      if (r.status === 409) pending.push(r.op.id);
      else if (r.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not record a snapshot (${describeEngineError(r.item.error)})`);
    }
  }
}

async function upsertState(
  ctx: Ctx, fresh: FindingRecord[], now: string,
  refused: Map<string, { index: string; status: number; reason: string; doc: Doc }>,
): Promise<void> {
  const n = ctx.n;
  // Per state item, the findings of this commit in order; the winner is decided against the stored item.
  const byKey = new Map<string, FindingRecord[]>();
  for (const f of fresh) {
    const id = stateDocId(f.agentId, f.kind, f.stateKey);
    const list = byKey.get(id);
    if (list) list.push(f);
    else byKey.set(id, [f]);
  }
  let pending = [...byKey.keys()];
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > MAX_OCC_ATTEMPTS) throw new StoreError(StoreCodes.CONFLICT, 'current state kept changing under this commit');
    const cur = await ctx.mget<StateSource>(pending.map((id) => ({ index: n.state, id })));
    const ops: BulkOp[] = [];
    const winners = new Map<string, FindingRecord>();
    pending.forEach((id, i) => {
      const have = cur[i] as Found<StateSource> | undefined;
      let best: FindingRecord | undefined;
      let bar: StateSource | undefined = have?.source;
      for (const f of byKey.get(id)!) {
        if (!bar || replaces(f, bar)) {
          best = f;
          bar = { '@timestamp': f.observedAt, event: { sequence: f.seq } };
        }
      }
      if (!best) return;
      winners.set(id, best);
      const doc = findingToDoc(best, { findingIndex: n.findingsMonth(best.observedAt), updatedAt: now });
      ops.push(have
        ? { action: 'index', index: n.state, id, doc, ifSeqNo: have.seqNo, ifPrimaryTerm: have.primaryTerm }
        : { action: 'create', index: n.state, id, doc });
    });
    const results = await ctx.write(ops);
    pending = [];
    for (const r of results) {
      if (r.status === 409) {
        pending.push(r.op.id);
      } else if (r.status >= 400) {
        // The engine cannot hold this document (mapping conflict…): the finding goes to the dead letters.
        const f = winners.get(r.op.id)!;
        refused.set(f.id, { index: n.state, status: r.status, reason: describeEngineError(r.item.error), doc: r.op.doc ?? {} });
      }
    }
  }
}

async function closeSnapshot(ctx: Ctx, agentId: string, kind: FindingKind, snapshotId: string): Promise<StateRemoval[]> {
  const n = ctx.n;
  const snap = await ctx.get<{ start: string }>(n.meta, snapshotDocId(agentId, kind, snapshotId));
  // A snapshot of which nothing is stored claims an empty host: everything else goes.
  const start = snap?.source.start ?? NEVER;
  const query = {
    bool: {
      filter: [
        { term: { 'agent.id': agentId } },
        { term: { 'canhgac.kind': kind } },
        { range: { '@timestamp': { lt: start } } },
      ],
      must_not: [{ term: { 'canhgac.snapshot_id': snapshotId } }],
    },
  };
  const ops: BulkOp[] = [];
  const keys = new Map<string, string>();
  for await (const h of ctx.scan<{ canhgac?: { state_key?: string } }>(n.state, {
    query, seq_no_primary_term: true, _source: ['canhgac.state_key'], sort: [{ 'canhgac.state_key': 'asc' }],
  }, 'find state items of a closed snapshot')) {
    keys.set(h._id, h._source?.canhgac?.state_key ?? '');
    ops.push({ action: 'delete', index: n.state, id: h._id, ifSeqNo: h._seq_no ?? 0, ifPrimaryTerm: h._primary_term ?? 0 });
  }
  const removed: StateRemoval[] = [];
  for (const r of await ctx.write(ops)) {
    // 404: already gone (a retry); 409: replaced meanwhile by a newer observation, which stays.
    if (r.status === 200) removed.push({ agentId, kind, stateKey: keys.get(r.op.id) ?? '' });
    else if (r.status !== 404 && r.status !== 409) {
      throw new StoreError(StoreCodes.UNAVAILABLE, `could not remove a state item (${describeEngineError(r.item.error)})`);
    }
  }
  if (ops.length > 0) ctx.markDirty(n.state);
  return removed;
}

async function writeFindings(
  ctx: Ctx, findings: FindingRecord[],
  refused: Map<string, { index: string; status: number; reason: string; doc: Doc }>,
): Promise<SearchCommitResult['deadLettered']> {
  const n = ctx.n;
  const ops: BulkOp[] = [];
  for (const f of findings) {
    if (refused.has(f.id)) continue;
    const index = n.findingsMonth(f.observedAt);
    await ctx.ensureIndex(index);
    ops.push({ action: 'create', index, id: f.id, doc: findingToDoc(f) });
  }
  const results = await ctx.writer.submit(ops);
  ctx.rememberFindings(results.filter((r) => r.status < 300 || r.status === 409).map((r) => ({ id: r.op.id, index: r.op.index })));
  for (const r of results) {
    // 409 on create: the finding is already stored (a replay) — exactly once.
    if (r.status >= 400 && r.status !== 409) {
      refused.set(r.op.id, { index: r.op.index, status: r.status, reason: describeEngineError(r.item.error), doc: r.op.doc ?? {} });
    }
  }
  if (refused.size === 0) return [];
  const at = new Date().toISOString();
  const letters: DeadLetter[] = [...refused].map(([id, x]) => ({ at, index: x.index, id, status: x.status, reason: x.reason, document: x.doc }));
  const file = await ctx.deadLetters.write('findings', letters);
  ctx.log.warn('findings refused by the engine went to the dead-letter file', { count: letters.length, 'file.path': file });
  return letters.map((l) => ({ id: l.id, reason: l.reason, file }));
}

/** lastSeq/lastSeen forward; `seen` is the agent as read at the start of the commit (re-read on conflict). */
export async function advanceAgent(ctx: Ctx, agentId: string, upToSeq: number, lastSeen: string, seen?: Found<AgentRecord>): Promise<void> {
  let known = seen;
  for (let attempt = 1; ; attempt++) {
    if (attempt > MAX_OCC_ATTEMPTS) throw new StoreError(StoreCodes.CONFLICT, `agent ${agentId} kept changing under this commit`);
    const cur = known ?? (await ctx.get<AgentRecord>(ctx.n.agents, agentId));
    known = undefined;
    if (!cur) throw new StoreError(StoreCodes.NOT_FOUND, `agent ${agentId} is not registered`);
    const next = { ...cur.source, lastSeq: Math.max(cur.source.lastSeq, upToSeq), lastSeen: maxIso(cur.source.lastSeen, lastSeen) };
    if (next.lastSeq === cur.source.lastSeq && next.lastSeen === cur.source.lastSeen) return;
    const [r] = await ctx.write([{ action: 'index', index: ctx.n.agents, id: agentId, doc: next, ifSeqNo: cur.seqNo, ifPrimaryTerm: cur.primaryTerm }]);
    if (r!.status === 409) continue;
    if (r!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not update agent ${agentId} (${describeEngineError(r!.item.error)})`);
    return;
  }
}
