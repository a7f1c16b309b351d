/**
 * Collector-managed retention (no ILM, no delete_by_query): whole monthly indices are deleted once their
 * month ends before the cutoff; in the month that straddles it, documents are deleted by id. A finding a
 * current state item points to is never deleted: before its month goes, it is copied to the pinned index
 * (inside the read alias) and the state item is re-pointed. The audit trail is never pruned.
 */
import { KIND_FAMILY, type FindingKind } from '../../../common/finding.js';
import { CLOSED_STATUSES, type RetentionPolicy } from '../types.js';
import type { BulkOp } from './bulk.js';
import { stateDocId } from './commit.js';
import type { Ctx } from './context.js';
import { docToFinding, findingToDoc, type Doc } from './documents.js';
import { describeEngineError } from './engine-types.js';
import { keyId, monthEndOf, seg } from './names.js';
import { isoTime } from './time.js';
import { StoreCodes, StoreError } from '../errors.js';

async function listIndices(ctx: Ctx, pattern: string): Promise<string[]> {
  const res = await ctx.expect(
    { method: 'GET', path: `/_cat/indices/${seg(pattern)}`, query: { format: 'json', h: 'index' } }, [200, 404], 'list indices',
  );
  if (res.status === 404) return [];
  return (res.body as { index: string }[]).map((r) => r.index).sort();
}

/** Makes everything indexed so far searchable (other processes write too). */
async function refresh(ctx: Ctx, index: string): Promise<void> {
  await ctx.expect({ method: 'POST', path: `/${seg(index)}/_refresh`, query: { ignore_unavailable: true } }, [200], `refresh ${index}`);
}

async function count(ctx: Ctx, index: string, query: Record<string, unknown> = { match_all: {} }): Promise<number> {
  await refresh(ctx, index);
  const res = await ctx.expect(
    { method: 'POST', path: `/${seg(index)}/_count`, query: { ignore_unavailable: true, allow_no_indices: true }, body: { query } },
    [200], 'count documents',
  );
  return (res.body as { count: number }).count;
}

async function deleteIndex(ctx: Ctx, index: string): Promise<void> {
  await ctx.expect({ method: 'DELETE', path: `/${seg(index)}` }, [200, 404], `delete index ${index}`);
  ctx.forgetIndex(index);
  ctx.forgetFindings(index);
}

/** Deletes in chunks; returns how many were deleted (404s were already gone). */
async function deleteAll(ctx: Ctx, ops: BulkOp[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < ops.length; i += 1000) {
    for (const r of await ctx.write(ops.slice(i, i + 1000))) {
      if (r.status === 200) n++;
      else if (r.status !== 404 && r.status !== 409) {
        throw new StoreError(StoreCodes.UNAVAILABLE, `could not delete a document (${describeEngineError(r.item.error)})`);
      }
    }
  }
  return n;
}

interface FindingHead { event?: { id?: string; kind?: string }; agent?: { id?: string }; canhgac?: { kind?: string; state_key?: string } }

/** Of these findings, the ids a current state item points to. */
async function pointedTo(ctx: Ctx, hits: { _id: string; _source?: FindingHead }[]): Promise<Set<string>> {
  const state = hits.filter((h) => KIND_FAMILY[h._source?.canhgac?.kind as FindingKind] === 'state');
  const docs = await ctx.mget<FindingHead>(state.map((h) => ({
    index: ctx.n.state, id: stateDocId(h._source?.agent?.id ?? '', h._source?.canhgac?.kind ?? '', h._source?.canhgac?.state_key ?? ''),
  })));
  const out = new Set<string>();
  state.forEach((h, i) => { if (docs[i]?.source.event?.id === h._id) out.add(h._id); });
  return out;
}

/** Deletes the findings of one index observed before the cutoff, except those current state points to. */
async function deleteFindingsBefore(ctx: Ctx, index: string, cutoff: string): Promise<number> {
  let deleted = 0;
  let batch: { _id: string; _source?: FindingHead }[] = [];
  const flush = async (): Promise<void> => {
    const keep = await pointedTo(ctx, batch);
    const gone = batch.filter((h) => !keep.has(h._id)).map((h) => h._id);
    deleted += await deleteAll(ctx, gone.map((id) => ({ action: 'delete', index, id })));
    ctx.forgetFindings(index, gone);
    batch = [];
  };
  await refresh(ctx, index);
  // Collect first, delete after: deleting while paging would move the search_after window.
  const all: { _id: string; _source?: FindingHead }[] = [];
  for await (const h of ctx.scan<FindingHead>(index, {
    query: { range: { '@timestamp': { lt: cutoff } } }, sort: [{ 'event.id': 'asc' }],
    _source: ['event.id', 'agent.id', 'canhgac.kind', 'canhgac.state_key'],
  }, 'find expired findings')) all.push(h);
  for (const h of all) {
    batch.push(h);
    if (batch.length >= 1000) await flush();
  }
  if (batch.length > 0) await flush();
  return deleted;
}

/** Deletes a whole month of findings after pinning the ones current state points to. Returns the count deleted. */
async function dropFindingsMonth(ctx: Ctx, index: string): Promise<number> {
  const n = ctx.n;
  let pinned = 0;
  for (let round = 0; round < 5; round++) {
    await refresh(ctx, n.state);
    const refs: { id: string; source: Doc; seqNo: number; primaryTerm: number }[] = [];
    for await (const h of ctx.scan<Doc>(n.state, {
      query: { term: { 'canhgac.finding_index': index } }, seq_no_primary_term: true, sort: [{ 'event.id': 'asc' }],
    }, 'find state items in an expiring month')) {
      refs.push({ id: h._id, source: h._source ?? {}, seqNo: h._seq_no ?? 0, primaryTerm: h._primary_term ?? 0 });
    }
    if (refs.length === 0) break;
    await ctx.ensureIndex(n.pinned);
    const copies: BulkOp[] = refs.map((r) => {
      const f = docToFinding(r.source);
      return { action: 'create', index: n.pinned, id: f.id, doc: findingToDoc(f) };
    });
    for (const r of await ctx.write(copies)) {
      if (r.status >= 300 && r.status !== 409) throw new StoreError(StoreCodes.UNAVAILABLE, `could not pin a finding (${describeEngineError(r.item.error)})`);
      if (r.status < 300) pinned++;
    }
    const repoint: BulkOp[] = refs.map((r) => {
      const doc = structuredClone(r.source) as { canhgac?: Record<string, unknown> };
      (doc.canhgac ??= {}).finding_index = n.pinned;
      return { action: 'index', index: n.state, id: r.id, doc, ifSeqNo: r.seqNo, ifPrimaryTerm: r.primaryTerm };
    });
    for (const r of await ctx.write(repoint)) {
      // 409: the item changed meanwhile; the next round looks again.
      if (r.status >= 300 && r.status !== 409) throw new StoreError(StoreCodes.UNAVAILABLE, `could not re-point a state item (${describeEngineError(r.item.error)})`);
    }
  }
  const total = await count(ctx, index);
  await deleteIndex(ctx, index);
  return Math.max(0, total - pinned);
}

export async function prune(ctx: Ctx, p: RetentionPolicy): Promise<{ findings: number; alerts: number }> {
  const n = ctx.n;
  const findingsBefore = isoTime(p.findingsBefore, 'findingsBefore');
  const alertsBefore = isoTime(p.alertsBefore, 'alertsBefore');
  const fCut = Date.parse(findingsBefore);
  const aCut = Date.parse(alertsBefore);

  let findings = 0;
  for (const index of await listIndices(ctx, n.findingsPattern)) {
    const end = monthEndOf(index);
    if (end === undefined) continue; // the pinned index: below
    const start = Date.UTC(Number(index.slice(-7, -3)), Number(index.slice(-2)) - 1, 1);
    if (end <= fCut) findings += await dropFindingsMonth(ctx, index);
    else if (start < fCut) findings += await deleteFindingsBefore(ctx, index, findingsBefore);
  }
  findings += await deleteFindingsBefore(ctx, n.pinned, findingsBefore);
  // Pinned copies must be found by knownFindingIds, which never refreshes by itself.
  await refresh(ctx, n.findings);

  // Snapshot bookkeeping goes with the findings it describes.
  for (;;) {
    await refresh(ctx, n.meta);
    const page = await ctx.search(n.meta, {
      query: { bool: { filter: [{ term: { doc: 'snapshot' } }, { range: { start: { lt: findingsBefore } } }] } },
      size: 1000, _source: false, track_total_hits: false,
    }, 'find expired snapshot records');
    if (page.hits.hits.length === 0) break;
    await deleteAll(ctx, page.hits.hits.map((h) => ({ action: 'delete', index: n.meta, id: h._id })));
  }

  // Closed alerts last seen before the cutoff, by id; then their dedup pointers if still pointing at them.
  const expired: { index: string; id: string; dedupKey: string }[] = [];
  await refresh(ctx, n.alerts);
  for await (const h of ctx.scan<{ canhgac?: { alert?: { dedup_key?: string } } }>(n.alerts, {
    query: { bool: { filter: [
      { terms: { 'canhgac.alert.status': CLOSED_STATUSES } },
      { range: { 'canhgac.alert.last_seen': { lt: alertsBefore } } },
    ] } },
    sort: [{ 'canhgac.alert.id': 'asc' }], _source: ['canhgac.alert.dedup_key'],
  }, 'find expired alerts')) expired.push({ index: h._index, id: h._id, dedupKey: h._source?.canhgac?.alert?.dedup_key ?? '' });
  const alerts = await deleteAll(ctx, expired.map((a) => ({ action: 'delete', index: a.index, id: a.id })));
  const pointers = await ctx.mget<{ alertId?: string }>(expired.map((a) => ({ index: n.meta, id: keyId('dedup', a.dedupKey) })));
  await deleteAll(ctx, pointers.flatMap((ptr, i) => (ptr && ptr.source.alertId === expired[i]!.id
    ? [{ action: 'delete' as const, index: n.meta, id: ptr.id, ifSeqNo: ptr.seqNo, ifPrimaryTerm: ptr.primaryTerm }]
    : [])));

  // Monthly alert indices that ended before the cutoff and hold nothing any more.
  for (const index of await listIndices(ctx, n.alertsPattern)) {
    const end = monthEndOf(index);
    if (end !== undefined && end <= aCut && (await count(ctx, index)) === 0) await deleteIndex(ctx, index);
  }
  return { findings, alerts };
}
