/** The read side: filters, sorting, paging and counts, as search requests. */
import { FINDING_KINDS, KIND_FAMILY, type FindingRecord } from '../../../common/finding.js';
import { StoreCodes, StoreError } from '../errors.js';
import type { AgentRecord, Alert, AlertQuery, AuditEntry, FindingQuery, Page, TokenRecord } from '../types.js';
import type { Ctx } from './context.js';
import { docToAgent, docToAlert, docToAudit, docToFinding, docToToken, type Doc } from './documents.js';
import { totalOf } from './engine-types.js';
import { isoTime } from './time.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;
const EVENT_KINDS = FINDING_KINDS.filter((k) => KIND_FAMILY[k] === 'event');
const STATE_KINDS = FINDING_KINDS.filter((k) => KIND_FAMILY[k] === 'state');
/** Flat ECS names only (`event.action`, `@timestamp`, `host.os.family`). */
const FIELD_NAME = /^[A-Za-z0-9_@][A-Za-z0-9_@.-]{0,127}$/;

/** Deepest page a search may reach (the indices' max_result_window). */
export const MAX_WINDOW = 100_000;

export function page(q: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const raw = q.limit === undefined ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, Math.max(0, Math.trunc(q.limit)));
  const rawOffset = Math.max(0, Math.trunc(q.offset ?? 0));
  const limit = Number.isFinite(raw) ? raw : DEFAULT_LIMIT;
  const offset = Number.isFinite(rawOffset) ? rawOffset : 0;
  if (offset + limit > MAX_WINDOW) {
    throw new StoreError(StoreCodes.INVALID_INPUT, `offset ${offset} + limit ${limit} is beyond the ${MAX_WINDOW} results a search can page through`, {
      hint: 'Narrow the query (since, agent, filters) instead of paging that deep.',
    });
  }
  return { limit, offset };
}

const dir = (d: string | undefined, fallback: 'asc' | 'desc'): 'asc' | 'desc' => (d === 'asc' || d === 'desc' ? d : fallback);

type Query = Record<string, unknown>;

// ── findings ──────────────────────────────────────────────────────────────────────────────

/** Current state reads the state index; history and events read the findings alias. */
export function findingTarget(ctx: Ctx, q: FindingQuery): string {
  return KIND_FAMILY[q.kind] === 'state' && q.current !== false ? ctx.n.state : ctx.n.findings;
}

export function findingQuery(q: FindingQuery): Query {
  if (!FINDING_KINDS.includes(q.kind)) throw new StoreError(StoreCodes.INVALID_INPUT, `unknown finding kind ${JSON.stringify(String(q.kind).slice(0, 32))}`);
  const filter: Query[] = [{ term: { 'canhgac.kind': q.kind } }];
  if (q.agentId !== undefined) filter.push({ term: { 'agent.id': q.agentId } });
  if (q.hostName !== undefined) filter.push({ term: { 'host.name': q.hostName } });
  if (q.since !== undefined) filter.push({ range: { '@timestamp': { gte: isoTime(q.since, 'since') } } });
  for (const [name, value] of Object.entries(q.where ?? {})) {
    if (!FIELD_NAME.test(name)) throw new StoreError(StoreCodes.INVALID_INPUT, `not a field name: ${JSON.stringify(name.slice(0, 64))}`);
    filter.push({ term: { [name]: value } });
  }
  return { bool: { filter } };
}

export async function listFindings(ctx: Ctx, q: FindingQuery): Promise<Page<FindingRecord>> {
  const { limit, offset } = page(q);
  const body = await ctx.search<Doc>(findingTarget(ctx, q), {
    query: findingQuery(q), from: offset, size: limit, track_total_hits: true,
    sort: [{ '@timestamp': dir(q.sort?.dir, 'desc') }, { 'event.id': 'asc' }],
  }, 'list findings');
  return { items: body.hits.hits.map((h) => docToFinding(h._source ?? {})), total: totalOf(body) };
}

async function countBy(ctx: Ctx, index: string, field: string, filter: Query[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let after: Record<string, unknown> | undefined;
  for (;;) {
    const body = await ctx.search(index, {
      size: 0, track_total_hits: false, query: { bool: { filter } },
      aggs: { by: { composite: { size: 1000, sources: [{ k: { terms: { field } } }], ...(after ? { after } : {}) } } },
    }, 'count');
    const agg = body.aggregations?.by;
    for (const b of agg?.buckets ?? []) {
      const key = String((b.key as Record<string, unknown>).k);
      out[key] = (out[key] ?? 0) + b.doc_count;
    }
    if (!agg?.after_key || (agg.buckets?.length ?? 0) < 1000) return out;
    after = agg.after_key;
  }
}

export async function countFindings(ctx: Ctx, by: 'kind' | 'agent', q: { agentId?: string } = {}): Promise<Record<string, number>> {
  if (by !== 'kind' && by !== 'agent') throw new StoreError(StoreCodes.INVALID_INPUT, `cannot count findings by ${String(by)}`);
  const field = by === 'kind' ? 'canhgac.kind' : 'agent.id';
  const agent: Query[] = q.agentId !== undefined ? [{ term: { 'agent.id': q.agentId } }] : [];
  const [state, events] = await Promise.all([
    countBy(ctx, ctx.n.state, field, [...agent, { terms: { 'canhgac.kind': STATE_KINDS } }]),
    countBy(ctx, ctx.n.findings, field, [...agent, { terms: { 'canhgac.kind': EVENT_KINDS } }]),
  ]);
  const out: Record<string, number> = { ...state };
  for (const [k, v] of Object.entries(events)) out[k] = (out[k] ?? 0) + v;
  for (const k of Object.keys(out)) if (out[k] === 0) delete out[k];
  return out;
}

/**
 * Ids among `ids` stored in the findings indices. Runs on every ingested batch, so it never forces a
 * refresh: what this process committed within the last seconds is answered from memory, the rest by search.
 */
export async function knownFindingIds(ctx: Ctx, ids: string[]): Promise<Set<string>> {
  const known = new Set<string>();
  const ask: string[] = [];
  for (const id of ids) {
    if (ctx.isRecentFinding(id)) known.add(id);
    else ask.push(id);
  }
  for (let i = 0; i < ask.length; i += 1000) {
    const chunk = ask.slice(i, i + 1000);
    const body = await ctx.search(ctx.n.findings, {
      query: { ids: { values: chunk } }, size: chunk.length, _source: false, track_total_hits: false,
    }, 'look up finding ids', { refresh: false });
    for (const h of body.hits.hits) known.add(h._id);
  }
  return known;
}

// ── alerts ────────────────────────────────────────────────────────────────────────────────

export function alertQuery(q: AlertQuery = {}): Query {
  const filter: Query[] = [];
  if (q.severity?.length) filter.push({ terms: { 'canhgac.alert.severity': q.severity } });
  if (q.status?.length) filter.push({ terms: { 'canhgac.alert.status': q.status } });
  if (q.agentId !== undefined) filter.push({ term: { 'agent.id': q.agentId } });
  if (q.hostName !== undefined) filter.push({ term: { 'host.name': q.hostName } });
  if (q.ruleId !== undefined) filter.push({ term: { 'rule.id': q.ruleId } });
  return { bool: { filter } };
}

const ALERT_SORT: Record<NonNullable<AlertQuery['sort']>['field'], string> = {
  lastSeen: 'canhgac.alert.last_seen', firstSeen: 'canhgac.alert.first_seen',
  severity: 'canhgac.alert.severity_rank', count: 'canhgac.alert.count',
};

export async function listAlerts(ctx: Ctx, q: AlertQuery): Promise<Page<Alert>> {
  const { limit, offset } = page(q);
  const field = ALERT_SORT[q.sort?.field ?? 'lastSeen'] ?? ALERT_SORT.lastSeen;
  const body = await ctx.search<Doc>(ctx.n.alerts, {
    query: alertQuery(q), from: offset, size: limit, track_total_hits: true,
    sort: [{ [field]: dir(q.sort?.dir, 'desc') }, { 'canhgac.alert.last_seen': 'desc' }, { 'canhgac.alert.id': 'asc' }],
  }, 'list alerts');
  return { items: body.hits.hits.map((h) => docToAlert(h._source ?? {})), total: totalOf(body) };
}

const ALERT_GROUP = { severity: 'canhgac.alert.severity', status: 'canhgac.alert.status', host: 'host.name' } as const;

export async function countAlerts(ctx: Ctx, by: 'severity' | 'status' | 'host', q: AlertQuery = {}): Promise<Record<string, number>> {
  const field = ALERT_GROUP[by];
  if (!field) throw new StoreError(StoreCodes.INVALID_INPUT, `cannot count alerts by ${String(by)}`);
  const filter = (alertQuery(q).bool as { filter: Query[] }).filter;
  return countBy(ctx, ctx.n.alerts, field, filter);
}

// ── audit, agents, tokens ─────────────────────────────────────────────────────────────────

export async function listAudit(ctx: Ctx, q: { target?: string; limit?: number }): Promise<AuditEntry[]> {
  const { limit } = page(q.limit === undefined ? {} : { limit: q.limit });
  const body = await ctx.search<Doc>(ctx.n.audit, {
    query: q.target === undefined ? { match_all: {} } : { term: { target: q.target } },
    size: limit, track_total_hits: false, sort: [{ at: 'desc' }, { seq: 'desc' }],
  }, 'list the audit trail');
  return body.hits.hits.map((h) => docToAudit(h._source ?? {}));
}

export async function listAgents(ctx: Ctx): Promise<AgentRecord[]> {
  const out: AgentRecord[] = [];
  for await (const h of ctx.scan<Doc>(ctx.n.agents, { query: { match_all: {} }, sort: [{ hostName: 'asc' }, { id: 'asc' }] }, 'list agents')) {
    out.push(docToAgent(h._source ?? {}));
  }
  return out;
}

export async function listTokens(ctx: Ctx): Promise<TokenRecord[]> {
  const out: TokenRecord[] = [];
  for await (const h of ctx.scan<Doc>(ctx.n.tokens, { query: { term: { doc: 'token' } }, sort: [{ createdAt: 'asc' }, { id: 'asc' }] }, 'list tokens')) {
    out.push(docToToken(h._source ?? {}));
  }
  return out;
}
