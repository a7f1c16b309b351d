import { existsSync } from 'node:fs';
import type { FindingRecord } from '../../common/finding.js';
import { logger, type Logger } from '../../common/logger.js';
import type { AlertUpsert } from '../store/types.js';
import { RuleCodes, type RuleLoadError } from './errors.js';
import type { EvaluateOptions } from './evaluate.js';
import { createEvaluator } from './evaluator.js';
import { loadRuleSet } from './loader.js';
import type { CompiledRule } from './types.js';

export interface ReloadReport {
  /** Rules now active. */
  loaded: number;
  /** Problems found in this load (bad rules were skipped). */
  errors: RuleLoadError[];
  /** True when the folder could not be read and the previous rules were kept. */
  keptPrevious: boolean;
}

/** The collector's rules: evaluate findings, reload from disk without a restart. */
export interface RuleEngine {
  readonly dir: string;
  rules(): readonly CompiledRule[];
  /** Problems of the last load. */
  errors(): readonly RuleLoadError[];
  evaluate(r: FindingRecord, opts?: EvaluateOptions): AlertUpsert[];
  /**
   * Loads the folder again and swaps the rule set in one assignment: an evaluation runs against
   * either the old or the new set, never a mix. If the folder cannot be read at all, the
   * current rules stay.
   */
  reload(): ReloadReport;
}

interface State { rules: readonly CompiledRule[]; errors: readonly RuleLoadError[]; evaluator: ReturnType<typeof createEvaluator> }

/** Builds the engine and loads `dir` once. Never throws for bad rules; see errors(). */
export function createRuleEngine(opts: { dir: string; log?: Logger }): RuleEngine {
  const log = opts.log ?? logger('collector.engine');
  let state: State = { rules: [], errors: [], evaluator: createEvaluator([]) };

  const reload = (): ReloadReport => {
    const set = loadRuleSet(opts.dir);
    for (const e of set.errors) {
      log.warn('rule skipped', { code: e.code, file: e.file, line: e.line, column: e.column, rule_id: e.ruleId, reason: e.message });
    }
    const unreadable = set.errors.some((e) => e.code === RuleCodes.READ && e.file === opts.dir) || !existsSync(opts.dir);
    if (unreadable && state.rules.length > 0) {
      state = { rules: state.rules, errors: set.errors, evaluator: state.evaluator };
      log.error('rules folder unreadable, keeping previous rules', { dir: opts.dir, rules: state.rules.length });
      return { loaded: state.rules.length, errors: set.errors, keptPrevious: true };
    }
    // Correlation windows of rules whose correlation did not change carry over.
    state = { rules: set.rules, errors: set.errors, evaluator: createEvaluator(set.rules, state.evaluator) };
    log.info('rules loaded', { dir: opts.dir, rules: set.rules.length, errors: set.errors.length });
    return { loaded: set.rules.length, errors: set.errors, keptPrevious: false };
  };

  reload();
  return {
    dir: opts.dir,
    rules: () => state.rules,
    errors: () => state.errors,
    evaluate: (r, opts) => state.evaluator.evaluate(r, opts),
    reload,
  };
}
