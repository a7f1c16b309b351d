import { CanhGacError } from '../../common/errors.js';

/**
 * Error codes of the rule engine. Stable: callers and tests match on them.
 * Each is listed with its meaning in docs/rules.md ("Loader errors").
 */
export const RuleCodes = {
  /** The rules folder (or a file in it) cannot be read. */
  READ: 'COLLECTOR_RULE_READ',
  /** The file is larger than a rule can reasonably be. */
  TOO_LARGE: 'COLLECTOR_RULE_TOO_LARGE',
  /** YAML syntax error (indentation, quoting, duplicate key…). */
  YAML: 'COLLECTOR_RULE_YAML',
  /** More than one YAML document in a rule file. */
  MULTIPLE_DOCUMENTS: 'COLLECTOR_RULE_MULTIPLE_DOCUMENTS',
  /** A key is missing, unknown, or has the wrong type or value. */
  SCHEMA: 'COLLECTOR_RULE_SCHEMA',
  /** A Sigma feature the engine does not implement yet (correlation rules, keyword lists…). */
  UNSUPPORTED: 'COLLECTOR_RULE_UNSUPPORTED',
  /** Another file already defines a rule with this id. */
  DUPLICATE_ID: 'COLLECTOR_RULE_DUPLICATE_ID',
  /** The condition expression cannot be parsed or names a selection that does not exist. */
  CONDITION: 'COLLECTOR_RULE_CONDITION',
  /** A selection is not a map or a list of maps, or is empty. */
  SELECTION: 'COLLECTOR_RULE_SELECTION',
  /** A selection is defined but no condition uses it (usually a typo). */
  UNUSED_SELECTION: 'COLLECTOR_RULE_UNUSED_SELECTION',
  /** `field|modifier` names a modifier that does not exist, or modifiers that cannot be combined. */
  MODIFIER: 'COLLECTOR_RULE_MODIFIER',
  /** A value does not fit its modifier (a number for `gt`, a CIDR for `cidr`, a valid regex for `re`…). */
  VALUE: 'COLLECTOR_RULE_VALUE',
  /** A correlation rule names a rule that is not loaded, or rules of different categories. */
  CORRELATION: 'COLLECTOR_RULE_CORRELATION',
} as const;

export type RuleCode = (typeof RuleCodes)[keyof typeof RuleCodes];

/** What a person can do about each code; used as the error's hint. */
export const RULE_HINTS: Record<RuleCode, string> = {
  COLLECTOR_RULE_READ: 'check that the path exists and the collector may read it',
  COLLECTOR_RULE_TOO_LARGE: 'a rule file holds one rule; split it or remove embedded data',
  COLLECTOR_RULE_YAML: 'fix the YAML syntax at this line (indentation, quoting, duplicate keys)',
  COLLECTOR_RULE_MULTIPLE_DOCUMENTS: 'keep one rule per file: move the document after "---" to its own file',
  COLLECTOR_RULE_SCHEMA: 'see docs/rules.md ("Rule format") for the allowed keys and values',
  COLLECTOR_RULE_UNSUPPORTED: 'see docs/rules.md for the Sigma features this engine supports',
  COLLECTOR_RULE_DUPLICATE_ID: 'give this rule a new UUID (e.g. `node -e "console.log(crypto.randomUUID())"`)',
  COLLECTOR_RULE_CONDITION: 'see docs/rules.md ("Conditions"): and, or, not, ( ), 1 of x*, all of them',
  COLLECTOR_RULE_SELECTION: 'a selection is a map of field: value (all must match) or a list of such maps (any may match)',
  COLLECTOR_RULE_UNUSED_SELECTION: 'use the selection in the condition, or delete it',
  COLLECTOR_RULE_MODIFIER: 'see docs/rules.md ("Modifiers") for the modifiers and how they combine',
  COLLECTOR_RULE_VALUE: 'see docs/rules.md ("Modifiers") for the values each modifier takes',
  COLLECTOR_RULE_CORRELATION: 'name base rules by their `name:` or id, loaded from the same rules folder, all of one logsource category; see docs/rules.md ("Correlation rules")',
};

/**
 * A rule that could not be loaded. The rest of the rule set still loads; this one is skipped.
 * `line`/`column` are 1-based; 0 when the rule did not come from a file (compileRule on an object).
 */
export class RuleLoadError extends CanhGacError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The rule's id when it could be read. */
  readonly ruleId: string | undefined;

  constructor(code: RuleCode, message: string, at: { file: string; line: number; column: number; ruleId?: string | undefined; cause?: unknown }) {
    super(code, message, {
      where: at.line > 0 ? `${at.file}:${at.line}:${at.column}` : at.file || undefined,
      hint: RULE_HINTS[code],
      ...(at.cause === undefined ? {} : { cause: at.cause }),
    });
    this.name = 'RuleLoadError';
    this.file = at.file;
    this.line = at.line;
    this.column = at.column;
    this.ruleId = at.ruleId;
  }
}

/**
 * Thrown while compiling; carries the path of the offending node inside the rule document
 * (e.g. ['detection', 'sel', 'file.path|foo']) so the loader can turn it into a line.
 */
export class RuleCompileProblem extends Error {
  readonly code: RuleCode;
  readonly path: readonly (string | number)[];
  /** Point at the key of the last path element rather than its value. */
  readonly atKey: boolean;
  /** 1-based column inside a one-line string value (condition errors), to point into the file. */
  readonly innerColumn: number | undefined;

  constructor(code: RuleCode, message: string, path: readonly (string | number)[], atKey = false, innerColumn?: number) {
    super(message);
    this.innerColumn = innerColumn;
    this.name = 'RuleCompileProblem';
    this.code = code;
    this.path = path;
    this.atKey = atKey;
  }
}
