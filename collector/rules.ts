/** The collector's view of the rule engine: load once, evaluate per finding, report problems. */
import { evaluate } from './engine/evaluate.js';
import { loadRuleSet } from './engine/loader.js';
import type { RuleEvaluator } from './app.js';

export function loadRules(dir: string): RuleEvaluator & { errors: { code: string; file: string; line: number; message: string }[] } {
  const set = loadRuleSet(dir);
  const errors = set.errors.map((e) => ({ code: e.code, file: e.file, line: e.line, message: e.message }));
  return {
    errors,
    evaluate: (r) => evaluate(set.rules, r),
    summary: () => ({ rules: set.rules.length, errors: errors.map((e) => `${e.file}:${e.line}: ${e.message} [${e.code}]`) }),
  };
}
