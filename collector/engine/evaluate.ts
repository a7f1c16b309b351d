import type { FieldValue, FindingKind, FindingRecord } from '../../common/finding.js';
import type { AlertUpsert } from '../store/types.js';
import { CLOCK_FIELD } from './modifiers.js';
import type { CompiledRule, EvalFields } from './types.js';

/**
 * What rules see for one finding: its flat ECS fields plus the envelope. Envelope fields win
 * over body fields of the same name, as in the indexed document (common/finding.ts toDocument).
 * `canhgac.evaluated_at` is the clock of the age modifiers: `now` when given (scheduled
 * evaluation), else when the collector received the finding.
 */
export function evaluationFields(r: FindingRecord, now?: Date): Record<string, FieldValue> {
  const out = Object.create(null) as Record<string, FieldValue>;
  for (const k of Object.keys(r.fields)) out[k] = r.fields[k]!;
  out['agent.id'] = r.agentId;
  out['host.name'] = r.hostName;
  out['event.kind'] = r.family;
  out['event.id'] = r.id;
  out['event.module'] = r.check;
  out['canhgac.kind'] = r.kind;
  if (r.stateKey) out['canhgac.state_key'] = r.stateKey;
  out['@timestamp'] = r.observedAt;
  out[CLOCK_FIELD] = now === undefined ? r.receivedAt : now.toISOString();
  return out;
}

export interface EvaluateOptions {
  /** The evaluation clock for age modifiers (default: the finding's receivedAt). */
  now?: Date;
  /** Only rules whose outcome depends on the clock (CompiledRule.usesClock): the scheduled pass. */
  clockOnly?: boolean;
  /**
   * The finding was evaluated before: which alerts would it raise now (e.g. to find the alerts of a
   * vulnerability that went away). Like clockOnly, it feeds no correlation window.
   */
  recheck?: boolean;
}

/** Rules that never fire, whatever they say. */
const SILENT_STATUSES = new Set(['deprecated', 'unsupported']);

const byCategoryCache = new WeakMap<readonly CompiledRule[], Map<FindingKind, CompiledRule[]>>();

/** Rules grouped by the finding kind they run on; computed once per rules array. */
function rulesFor(rules: readonly CompiledRule[], kind: FindingKind): readonly CompiledRule[] {
  let index = byCategoryCache.get(rules);
  if (!index) {
    index = new Map();
    for (const rule of rules) {
      // Correlation rules have no detection of their own; evaluator.ts feeds them their base rules' matches.
      if (SILENT_STATUSES.has(rule.status) || rule.correlation) continue;
      const list = index.get(rule.category) ?? [];
      list.push(rule);
      index.set(rule.category, list);
    }
    byCategoryCache.set(rules, index);
  }
  return index.get(kind) ?? [];
}

function keyPart(v: FieldValue | undefined): string {
  if (v === undefined) return '';
  const s = Array.isArray(v) ? v.join(',') : String(v);
  return s.replace(/[\\|]/g, '\\$&');
}

/** `<rule id>|<value>|<value>…`; `|` and `\` inside values are escaped so keys never collide. */
export function dedupKeyFor(rule: CompiledRule, f: EvalFields): string {
  const fields = rule.dedupFields ?? ['agent.id', f['canhgac.state_key'] !== undefined ? 'canhgac.state_key' : 'event.id'];
  return [rule.id, ...fields.map((name) => keyPart(f[name]))].join('|');
}

function str(v: FieldValue | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** The most telling fields of a finding, in order; the first that is present goes in the summary. */
const TELLING: ((f: EvalFields) => string | undefined)[] = [
  (f) => str(f['file.path']),
  (f) => {
    const port = str(f['server.port']);
    if (port === undefined) return undefined;
    const ip = str(f['server.ip']) ?? '*';
    const addr = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
    const transport = str(f['network.transport']);
    const proc = str(f['process.name']);
    return `${addr}${transport ? `/${transport}` : ''}${proc ? ` (${proc})` : ''}`;
  },
  (f) => {
    const id = str(f['vulnerability.id']);
    const pkg = str(f['package.name']);
    return id && pkg ? `${id} in ${pkg} ${str(f['package.version']) ?? ''}`.trim() : id;
  },
  (f) => {
    const pkg = str(f['package.name']);
    return pkg ? `${pkg} ${str(f['package.version']) ?? ''}`.trim() : undefined;
  },
  (f) => str(f['sca.check.title']) ?? str(f['sca.check.id']),
  (f) => str(f['firewall.profile']),
];

const MAX_SUMMARY = 300;

/** "<rule title>: <most telling field>", e.g. "Executable created in a temp folder: /tmp/x/run.sh". */
export function summaryFor(rule: CompiledRule, f: EvalFields): string {
  let detail: string | undefined;
  for (const t of TELLING) {
    detail = t(f);
    if (detail !== undefined) break;
  }
  const s = detail === undefined ? rule.title : `${rule.title}: ${detail}`;
  return s.length > MAX_SUMMARY ? `${s.slice(0, MAX_SUMMARY - 1)}…` : s;
}

/** The alert upsert for one match of a (single-event) rule: count 1, keyed by the rule's dedup key. */
export function alertFor(rule: CompiledRule, r: FindingRecord, f: EvalFields): AlertUpsert {
  return {
    dedupKey: dedupKeyFor(rule, f),
    rule: { id: rule.id, title: rule.title, version: rule.version },
    severity: rule.level,
    agentId: r.agentId,
    hostName: r.hostName,
    findingIds: [r.id],
    seenAt: r.observedAt,
    count: 1,
    tags: { mitre: [...rule.tags.mitre], compliance: Object.fromEntries(Object.entries(rule.tags.compliance).map(([k, v]) => [k, [...v]])) },
    summary: summaryFor(rule, f),
  };
}

/**
 * The single-event rules (not correlations) whose `logsource.category` is the finding's kind and
 * whose detection matches it, with the fields they saw. Pure.
 */
export function matchingRules(rules: readonly CompiledRule[], r: FindingRecord, opts: EvaluateOptions = {}): { fields: EvalFields; matched: CompiledRule[] } {
  const candidates = rulesFor(rules, r.kind);
  const matched: CompiledRule[] = [];
  if (candidates.length === 0) return { fields: {}, matched };
  if (opts.clockOnly === true && !candidates.some((c) => c.usesClock)) return { fields: {}, matched };
  const f = evaluationFields(r, opts.now);
  for (const rule of candidates) {
    if (opts.clockOnly === true && !rule.usesClock) continue;
    if (rule.match(f)) matched.push(rule);
  }
  return { fields: f, matched };
}

/**
 * Runs the rules whose `logsource.category` is the finding's kind. Each match is one alert upsert
 * (count 1). Deprecated and unsupported rules never fire, nor do rules that only feed correlations
 * (`alerts: false`). Correlation rules need state: see evaluator.ts. Pure: no state, no I/O.
 */
export function evaluate(rules: readonly CompiledRule[], r: FindingRecord, opts: EvaluateOptions = {}): AlertUpsert[] {
  const { fields, matched } = matchingRules(rules, r, opts);
  return matched.filter((rule) => rule.alerts !== false).map((rule) => alertFor(rule, r, fields));
}
