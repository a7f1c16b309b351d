/** SQL for the read side: filters, sort and paging of findings and alerts. Values are always bound, never spliced. */
import { KIND_FAMILY } from '../../../common/finding.js';
import { StoreCodes, StoreError } from '../errors.js';
import type { AlertQuery, FindingQuery } from '../types.js';
import { bindable, isoTime } from './rows.js';

export type Param = string | number | null;
export interface Sql { sql: string; params: Param[] }

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

export function page(q: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const limit = q.limit === undefined ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, Math.max(0, Math.trunc(q.limit)));
  const offset = Math.max(0, Math.trunc(q.offset ?? 0));
  return { limit: Number.isFinite(limit) ? limit : DEFAULT_LIMIT, offset: Number.isFinite(offset) ? offset : 0 };
}

const direction = (d: string | undefined, fallback: 'ASC' | 'DESC'): 'ASC' | 'DESC' =>
  d === 'asc' ? 'ASC' : d === 'desc' ? 'DESC' : fallback;

/** Flat ECS names only (`event.action`, `@timestamp`, `host.os.family`): they go into a JSON path. */
const FIELD_NAME = /^[A-Za-z0-9_@][A-Za-z0-9_@.-]{0,127}$/;

/**
 * FROM/WHERE for a finding query. Current state reads join the state table to the finding each row
 * points to; everything else reads the findings table. `t` is the alias whose time/fields to use.
 */
export function findingFilter(q: FindingQuery): Sql & { t: 's' | 'f' } {
  const current = KIND_FAMILY[q.kind] === 'state' && q.current !== false;
  const t = current ? 's' : 'f';
  const params: Param[] = [q.kind];
  const where = [`${t}.kind = ?`];
  if (q.agentId !== undefined) { where.push(`${t}.agent_id = ?`); params.push(q.agentId); }
  if (q.hostName !== undefined) { where.push('f.host_name = ?'); params.push(q.hostName); }
  if (q.since !== undefined) { where.push(`${t}.observed_at >= ?`); params.push(isoTime(q.since, 'since')); }
  for (const [name, value] of Object.entries(q.where ?? {})) {
    if (!FIELD_NAME.test(name)) throw new StoreError(StoreCodes.INVALID_INPUT, `not a field name: ${JSON.stringify(name.slice(0, 64))}`);
    // json_each yields the value itself for a scalar and each element for a list: a list matches when any element does.
    where.push(`EXISTS (SELECT 1 FROM json_each(${t}.fields, ?) AS j WHERE j.value = ?)`);
    params.push(`$."${name}"`, bindable(value));
  }
  const from = current ? 'state AS s JOIN findings AS f ON f.id = s.finding_id' : 'findings AS f';
  return { sql: `FROM ${from} WHERE ${where.join(' AND ')}`, params, t };
}

export function findingOrder(q: FindingQuery, t: 's' | 'f'): string {
  return `ORDER BY ${t}.observed_at ${direction(q.sort?.dir, 'DESC')}, f.id ASC`;
}

/** WHERE for an alert query; an empty list filter means no filter. */
export function alertFilter(q: AlertQuery = {}): Sql {
  const where: string[] = [];
  const params: Param[] = [];
  const inList = (column: string, values: readonly string[] | undefined): void => {
    if (!values?.length) return;
    where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  inList('severity', q.severity);
  inList('status', q.status);
  if (q.agentId !== undefined) { where.push('agent_id = ?'); params.push(q.agentId); }
  if (q.hostName !== undefined) { where.push('host_name = ?'); params.push(q.hostName); }
  if (q.ruleId !== undefined) { where.push('rule_id = ?'); params.push(q.ruleId); }
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

const ALERT_SORT: Record<NonNullable<AlertQuery['sort']>['field'], string> = {
  lastSeen: 'last_seen', firstSeen: 'first_seen', severity: 'severity_rank', count: 'count',
};

export function alertOrder(q: AlertQuery): string {
  const column = ALERT_SORT[q.sort?.field ?? 'lastSeen'] ?? 'last_seen';
  return `ORDER BY ${column} ${direction(q.sort?.dir, 'DESC')}, last_seen DESC, id ASC`;
}

export const ALERT_GROUP: Record<'severity' | 'status' | 'host', string> = {
  severity: 'severity', status: 'status', host: 'host_name',
};
