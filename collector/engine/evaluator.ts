/**
 * The stateful evaluator the collector runs: the pure single-event rules (evaluate.ts) plus the
 * correlation rules, fed the matches of their base rules as findings arrive (correlation.ts).
 * One evaluator per loaded rule set; a reload builds a new one that takes over the windows of
 * correlations whose definition did not change.
 */
import type { FindingRecord } from '../../common/finding.js';
import type { AlertUpsert } from '../store/types.js';
import { correlationIdentity, CorrelationWindow, type CompiledCorrelation } from './correlation.js';
import { alertFor, matchingRules, type EvaluateOptions } from './evaluate.js';
import type { CompiledRule } from './types.js';

export interface Evaluator {
  readonly rules: readonly CompiledRule[];
  /**
   * Alerts for one finding. A scheduled pass (`clockOnly`) re-evaluates state, it is not a new
   * finding: correlations do not count it.
   */
  evaluate(r: FindingRecord, opts?: EvaluateOptions): AlertUpsert[];
  /** Groups currently held by each correlation rule (for metrics and tests). */
  windows(): Map<string, number>;
}

const SILENT_STATUSES = new Set(['deprecated', 'unsupported']);

export function createEvaluator(rules: readonly CompiledRule[], previous?: Evaluator & { state?: Map<string, CorrelationWindow> }): Evaluator & { state: Map<string, CorrelationWindow> } {
  const state = new Map<string, CorrelationWindow>(); // identity → window
  const byBase = new Map<string, CorrelationWindow[]>(); // base rule id → windows it feeds
  for (const rule of rules) {
    const c = rule.correlation;
    const identity = correlationIdentity(rule);
    if (!c || !identity || c.ruleIds.length === 0 || SILENT_STATUSES.has(rule.status)) continue;
    const kept = previous?.state?.get(identity);
    const w = kept ?? new CorrelationWindow(rule as CompiledRule & { correlation: CompiledCorrelation });
    state.set(identity, w);
    for (const id of c.ruleIds) byBase.set(id, [...(byBase.get(id) ?? []), w]);
  }

  return {
    rules,
    state,
    evaluate(r, opts = {}) {
      const { fields, matched } = matchingRules(rules, r, opts);
      const out: AlertUpsert[] = [];
      if (matched.length === 0) return out;
      const fed = new Set<CorrelationWindow>();
      for (const rule of matched) {
        if (rule.alerts !== false) out.push(alertFor(rule, r, fields));
        if (opts.clockOnly === true || opts.recheck === true) continue;
        for (const w of byBase.get(rule.id) ?? []) {
          // A finding that matches two base rules of one correlation counts once.
          if (fed.has(w)) continue;
          fed.add(w);
          const a = w.add(r, fields);
          if (a) out.push(a);
        }
      }
      return out;
    },
    windows() {
      return new Map([...state.values()].map((w) => [w.rule.id, w.size]));
    },
  };
}
