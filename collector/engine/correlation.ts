/**
 * Sigma correlation rules (https://sigmahq.io/docs/meta/correlations.html), evaluated as findings
 * arrive, over a sliding in-memory window per group:
 *
 *   correlation:
 *     type: event_count            # or value_count (distinct values of condition.field)
 *     rules: [base-rule-name]      # names (`name:`) or ids of the rules whose matches are counted
 *     group-by: [agent.id]         # agent.id is always part of the group: an alert has one agent
 *     timespan: 60s
 *     condition: { gte: 50 }       # gt or gte; value_count also names `field`
 *     generate: false              # default: the base rules raise no alerts of their own
 *
 * The window of a group is measured in finding time (`@timestamp`): matches older than the newest
 * one minus the timespan drop out. When the condition holds the rule raises one alert (dedup key:
 * rule id + group values, so bursts fold into one open alert) and the group starts counting anew.
 * Memory is bounded: a group keeps at most threshold entries, a rule at most MAX_GROUPS groups
 * (the least recently used one goes first). State lives in the collector process: a restart or a
 * rule reload that changes the correlation starts the windows empty.
 */
import { z } from 'zod';
import type { FieldValue, FindingRecord } from '../../common/finding.js';
import type { AlertUpsert } from '../store/types.js';
import { RuleCodes, RuleCompileProblem } from './errors.js';
import { durationMs, FIELD_NAME, RuleDocSchema } from './schema.js';
import type { CompiledRule, EvalFields } from './types.js';

export const CORRELATION_TYPES = ['event_count', 'value_count'] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

/** Groups one correlation rule keeps at most. */
export const MAX_GROUPS = 10_000;
/** The largest threshold a rule may set (a group keeps that many entries). */
export const MAX_THRESHOLD = 100_000;
/** Finding ids an alert carries at most (the store keeps 100). */
const MAX_IDS = 100;

const FieldName = z.string().regex(FIELD_NAME, 'expected a flat ECS field name such as file.path');
const DURATION = /^(\d+)(s|m|h|d)$/;

export const CorrelationBlock = z.strictObject({
  type: z.string(),
  rules: z.array(z.string().trim().min(1)).min(1),
  'group-by': z.array(FieldName).default([]),
  timespan: z.string().regex(DURATION, 'expected a duration such as 60s, 15m or 1h'),
  condition: z.strictObject({
    gt: z.number().int().min(0).optional(),
    gte: z.number().int().min(1).optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    eq: z.number().optional(),
    field: FieldName.optional(),
  }),
  generate: z.boolean().default(false),
  aliases: z.unknown().optional(),
});

/** A correlation rule file: a rule document with `correlation` in place of `logsource` and `detection`. */
export const CorrelationDocSchema = RuleDocSchema.omit({ logsource: true, detection: true }).extend({ correlation: CorrelationBlock });
export type CorrelationDoc = z.infer<typeof CorrelationDocSchema>;

export interface CompiledCorrelation {
  readonly type: CorrelationType;
  /** As written: names or ids of base rules. */
  readonly refs: readonly string[];
  /** Ids of the base rules, once resolved against the rule set (empty before). */
  readonly ruleIds: readonly string[];
  /** Always starts with agent.id. */
  readonly groupBy: readonly string[];
  readonly timespanMs: number;
  /** Matches (event_count) or distinct values (value_count) needed to fire. */
  readonly threshold: number;
  /** value_count: the field whose distinct values are counted. */
  readonly field: string | undefined;
  readonly generate: boolean;
}

/** Checks the `correlation` block (already shape-checked by the schema) and compiles it. */
export function compileCorrelation(block: z.output<typeof CorrelationBlock>): CompiledCorrelation {
  const at = (...p: (string | number)[]) => ['correlation', ...p];
  if (!(CORRELATION_TYPES as readonly string[]).includes(block.type)) {
    const code = block.type === 'temporal' || block.type === 'temporal_ordered' ? RuleCodes.UNSUPPORTED : RuleCodes.SCHEMA;
    throw new RuleCompileProblem(code, `correlation type "${block.type}" is not supported; use event_count or value_count`, at('type'));
  }
  if (block.aliases !== undefined) throw new RuleCompileProblem(RuleCodes.UNSUPPORTED, 'correlation aliases are not supported; name the same field in every base rule', at('aliases'), true);
  const c = block.condition;
  for (const k of ['lt', 'lte', 'eq'] as const) {
    if (c[k] !== undefined) {
      throw new RuleCompileProblem(RuleCodes.UNSUPPORTED, `condition "${k}" is not supported: findings are counted as they arrive, so only lower bounds (gt, gte) can fire`, at('condition', k), true);
    }
  }
  if ((c.gt === undefined) === (c.gte === undefined)) {
    throw new RuleCompileProblem(RuleCodes.SCHEMA, 'the correlation condition needs exactly one of gt or gte', at('condition'));
  }
  const threshold = c.gte ?? c.gt! + 1;
  if (threshold > MAX_THRESHOLD) throw new RuleCompileProblem(RuleCodes.VALUE, `the threshold ${threshold} is above ${MAX_THRESHOLD}`, at('condition'));
  const type = block.type as CorrelationType;
  if (type === 'value_count' && c.field === undefined) throw new RuleCompileProblem(RuleCodes.SCHEMA, 'value_count needs condition.field: the field whose distinct values are counted', at('condition'));
  if (type === 'event_count' && c.field !== undefined) throw new RuleCompileProblem(RuleCodes.SCHEMA, 'condition.field is for value_count; event_count counts matches', at('condition', 'field'), true);
  const timespanMs = durationMs(block.timespan);
  return {
    type,
    refs: [...new Set(block.rules)],
    ruleIds: [],
    groupBy: ['agent.id', ...block['group-by'].filter((g) => g !== 'agent.id')],
    timespanMs,
    threshold,
    field: c.field,
    generate: block.generate,
  };
}

export interface ResolveProblem {
  rule: CompiledRule;
  /** Index of the reference in correlation.rules, or -1 for the whole block. */
  index: number;
  message: string;
}

/**
 * Connects correlation rules to their base rules (by `name`, else `id`), gives each correlation the
 * category of its base rules, and marks base rules that only feed correlations (generate: false)
 * as raising no alert of their own. Correlations with a bad reference are left out and reported.
 */
export function resolveCorrelations(rules: readonly CompiledRule[]): { rules: CompiledRule[]; problems: ResolveProblem[] } {
  const base = rules.filter((r) => !r.correlation);
  const byRef = new Map<string, CompiledRule>();
  for (const r of base) byRef.set(r.id, r);
  for (const r of base) if (r.doc.name) byRef.set(r.doc.name, r);
  const problems: ResolveProblem[] = [];
  const silent = new Set<string>();
  const resolved = new Map<string, CompiledRule>();
  for (const r of rules) {
    const c = r.correlation;
    if (!c) continue;
    const targets: CompiledRule[] = [];
    let bad = false;
    c.refs.forEach((ref, index) => {
      const t = byRef.get(ref);
      if (t) {
        if (!targets.includes(t)) targets.push(t);
      } else {
        bad = true;
        problems.push({ rule: r, index, message: `correlation.rules names "${ref}", which is neither the name nor the id of a loaded rule (correlations of correlations are not supported)` });
      }
    });
    if (bad) continue;
    const categories = new Set(targets.map((t) => t.category));
    if (categories.size > 1) {
      problems.push({ rule: r, index: -1, message: `the rules of a correlation must share one logsource category; these have ${[...categories].join(', ')}` });
      continue;
    }
    if (!c.generate) for (const t of targets) silent.add(t.id);
    resolved.set(r.id, { ...r, category: targets[0]!.category, correlation: { ...c, ruleIds: targets.map((t) => t.id) } });
  }
  const out: CompiledRule[] = [];
  for (const r of rules) {
    if (r.correlation) {
      const x = resolved.get(r.id);
      if (x) out.push(x);
    } else {
      out.push(silent.has(r.id) ? { ...r, alerts: false } : r);
    }
  }
  return { rules: out, problems };
}

function keyPart(v: FieldValue | undefined): string {
  if (v === undefined) return '';
  const s = Array.isArray(v) ? v.join(',') : String(v);
  return s.replace(/[\\|]/g, '\\$&');
}

interface Group {
  /** Times and finding ids of the matches in the window, oldest first (event_count). */
  times: number[];
  ids: string[];
  /** value_count: value → [time, finding id] of its latest match. */
  values: Map<string, [number, string]>;
  newest: number;
}

/** The state of one correlation rule: its groups, least recently used first. */
export class CorrelationWindow {
  private readonly groups = new Map<string, Group>();
  constructor(readonly rule: CompiledRule & { correlation: CompiledCorrelation }) {}

  get size(): number {
    return this.groups.size;
  }

  /** Feeds one finding that matched a base rule; returns an alert when the condition now holds. */
  add(r: FindingRecord, f: EvalFields): AlertUpsert | undefined {
    const c = this.rule.correlation;
    const t = Date.parse(r.observedAt);
    if (Number.isNaN(t)) return undefined;
    let value: string | undefined;
    if (c.type === 'value_count') {
      const v = f[c.field!];
      if (v === undefined || v === '') return undefined;
      value = Array.isArray(v) ? v.join(',') : String(v);
    }
    const key = c.groupBy.map((g) => keyPart(f[g])).join('|');
    let g = this.groups.get(key);
    if (g) this.groups.delete(key); // re-inserted below: most recently used last
    else g = { times: [], ids: [], values: new Map(), newest: t };
    this.groups.set(key, g);
    if (this.groups.size > MAX_GROUPS) this.groups.delete(this.groups.keys().next().value!);

    g.newest = Math.max(g.newest, t);
    const cutoff = g.newest - c.timespanMs;
    if (t <= cutoff) return undefined; // late: already outside the window
    let n: number;
    if (c.type === 'event_count') {
      let i = 0;
      while (i < g.times.length && g.times[i]! <= cutoff) i++;
      if (i > 0) { g.times.splice(0, i); g.ids.splice(0, i); }
      g.times.push(t);
      g.ids.push(r.id);
      if (g.times.length > c.threshold) { g.times.shift(); g.ids.shift(); }
      n = g.times.length;
    } else {
      for (const [v, [vt]] of g.values) if (vt <= cutoff) g.values.delete(v);
      g.values.set(value!, [t, r.id]);
      n = g.values.size;
    }
    if (n < c.threshold) return undefined;
    const ids = c.type === 'event_count' ? g.ids : [...g.values.values()].map(([, id]) => id);
    const alert = this.alert(r, f, n, ids.slice(-MAX_IDS));
    this.groups.delete(key); // the next burst counts anew
    return alert;
  }

  private alert(r: FindingRecord, f: EvalFields, n: number, findingIds: string[]): AlertUpsert {
    const rule = this.rule;
    const c = rule.correlation;
    const dedupFields = rule.dedupFields ?? c.groupBy;
    const groupText = c.groupBy.filter((g) => g !== 'agent.id').map((g) => `${g}=${keyPart(f[g])}`).join(', ');
    const what = c.type === 'event_count' ? `${n} matching findings` : `${n} distinct ${c.field} values`;
    const summary = `${rule.title}: ${what} within ${Math.round(c.timespanMs / 1000)} s${groupText ? ` (${groupText})` : ''}`;
    return {
      dedupKey: [rule.id, ...dedupFields.map((d) => keyPart(f[d]))].join('|'),
      rule: { id: rule.id, title: rule.title, version: rule.version },
      severity: rule.level,
      agentId: r.agentId,
      hostName: r.hostName,
      findingIds,
      seenAt: r.observedAt,
      count: 1,
      tags: { mitre: [...rule.tags.mitre], compliance: Object.fromEntries(Object.entries(rule.tags.compliance).map(([k, v]) => [k, [...v]])) },
      summary: summary.length > 300 ? `${summary.slice(0, 299)}…` : summary,
    };
  }
}

/** A stable identity of a correlation's definition: windows survive a reload that keeps it. */
export function correlationIdentity(r: CompiledRule): string | undefined {
  return r.correlation ? `${r.id}|${JSON.stringify({ ...r.correlation, refs: undefined })}` : undefined;
}
