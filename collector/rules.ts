/** The collector's view of the rule engine: load, evaluate per finding, reload on SIGHUP, report problems. */
import { createRuleEngine } from './engine/index.js';
import type { RuleEvaluator } from './app.js';

export function loadRules(dir: string): RuleEvaluator & { reload(): void } {
  const engine = createRuleEngine({ dir });
  const fmt = () => engine.errors().map((e) => `${e.file}:${e.line}: ${e.message} [${e.code}]`);
  return {
    evaluate: (r, opts) => engine.evaluate(r, opts),
    clockKinds: () => [...new Set(engine.rules().filter((x) => x.usesClock && x.kind === 'state').map((x) => x.category))],
    summary: () => ({ rules: engine.rules().length, errors: fmt() }),
    reload: () => { engine.reload(); },
  };
}
