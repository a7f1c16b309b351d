/** The rule engine (DESIGN §3.5): load, compile and evaluate Sigma-style rules. No rule-specific code. */
export { loadRuleSet, loadRuleFile, listRuleFiles, type RuleSet } from './loader.js';
export { compileRule, tryCompileRule, type Locator, type RuleSource } from './compile.js';
export { evaluate, evaluationFields, dedupKeyFor, summaryFor, matchingRules, alertFor, type EvaluateOptions } from './evaluate.js';
export { createEvaluator, type Evaluator } from './evaluator.js';
export { resolveCorrelations, type CompiledCorrelation, type CorrelationDoc } from './correlation.js';
export { createRuleEngine, type RuleEngine, type ReloadReport } from './engine.js';
export { RuleCodes, RuleLoadError, type RuleCode } from './errors.js';
export { recordFromFlat, type FlatFinding } from './flat-finding.js';
export { viTitlesById } from './i18n.js';
export type { CompiledRule, EvalFields } from './types.js';
export type { RuleDoc } from './schema.js';
