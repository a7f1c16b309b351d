import type { z } from 'zod';
import { compileCondition, ConditionSyntaxError, parseCondition, referencedSelections, RESERVED_NAMES, type CondNode } from './condition.js';
import { RuleCodes, RuleCompileProblem, RuleLoadError } from './errors.js';
import { compileCorrelation, CorrelationDocSchema, type CorrelationDoc } from './correlation.js';
import { compileFieldEntry, keyUsesClock, type FieldMatcher } from './modifiers.js';
import { durationMs, RuleDocSchema, type RuleDoc } from './schema.js';
import type { CompiledRule, EvalFields } from './types.js';

/** Where a node of the rule document is in its file, for error messages. Lines are 1-based. */
export type Locator = (path: readonly (string | number)[], atKey: boolean, innerColumn?: number) => { line: number; column: number };

export interface RuleSource {
  /** File the rule came from; '' when compiled from an object. */
  file?: string;
  /** Maps a path in the document to a line; without it errors have line 0. */
  locate?: Locator;
}

type Path = readonly (string | number)[];
type Selection = (f: EvalFields) => boolean;

const SELECTION_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ATTACK_TAG = /^attack\.(t\d{4}(?:\.\d{3})?)$/i;

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function andOf(ms: FieldMatcher[]): Selection {
  if (ms.length === 1) return ms[0]!;
  return (f) => { for (const m of ms) if (!m(f)) return false; return true; };
}

function compileMap(map: Record<string, unknown>, path: Path): Selection {
  const keys = Object.keys(map);
  if (keys.length === 0) throw new RuleCompileProblem(RuleCodes.SELECTION, 'this selection is empty; give at least one field: value', path);
  return andOf(keys.map((k) => compileFieldEntry(k, map[k], [...path, k])));
}

/** A selection: a map (all entries must match) or a list of maps (any map may match). */
export function compileSelection(name: string, value: unknown): Selection {
  const path = ['detection', name];
  if (isPlainMap(value)) return compileMap(value, path);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new RuleCompileProblem(RuleCodes.SELECTION, `selection "${name}" is an empty list`, path);
    if (value.every((v) => typeof v === 'string' || typeof v === 'number')) {
      throw new RuleCompileProblem(RuleCodes.UNSUPPORTED, `selection "${name}" is a keyword list; keyword search is not supported — name the field (e.g. file.path|contains: …)`, path);
    }
    const alts = value.map((v, i) => {
      if (!isPlainMap(v)) throw new RuleCompileProblem(RuleCodes.SELECTION, `item ${i + 1} of selection "${name}" is not a map of field: value`, [...path, i]);
      return compileMap(v, [...path, i]);
    });
    if (alts.length === 1) return alts[0]!;
    return (f) => { for (const a of alts) if (a(f)) return true; return false; };
  }
  throw new RuleCompileProblem(RuleCodes.SELECTION, `selection "${name}" must be a map of field: value or a list of such maps`, path);
}

function zodProblems(error: z.ZodError): RuleCompileProblem[] {
  return error.issues.slice(0, 10).map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const where = path.length ? path.join('.') : 'rule';
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      const more = issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).map((k) => `"${k}"`).join(', ')})` : '';
      return new RuleCompileProblem(RuleCodes.SCHEMA, `unknown key "${key}"${more} in ${where}`, [...path, key], true);
    }
    if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
      return new RuleCompileProblem(RuleCodes.SCHEMA, `${where} is missing (${issue.message})`, path.slice(0, -1), true);
    }
    return new RuleCompileProblem(RuleCodes.SCHEMA, `${where}: ${issue.message}`, path);
  });
}

function conditionText(c: unknown): string | string[] | undefined {
  if (typeof c === 'string') return c;
  if (Array.isArray(c) && c.length > 0 && c.every((x) => typeof x === 'string')) return c as string[];
  return undefined;
}

function compileDetection(detection: Record<string, unknown>): (f: EvalFields) => boolean {
  const cond = conditionText(detection.condition);
  if (detection.condition === undefined) {
    throw new RuleCompileProblem(RuleCodes.CONDITION, 'detection has no condition; add e.g. "condition: selection"', ['detection'], true);
  }
  if (cond === undefined) {
    throw new RuleCompileProblem(RuleCodes.CONDITION, 'condition must be a string (or a list of strings, any of which may match)', ['detection', 'condition']);
  }
  if ('timeframe' in detection) {
    throw new RuleCompileProblem(RuleCodes.UNSUPPORTED, 'detection.timeframe is not supported; write a correlation rule', ['detection', 'timeframe'], true);
  }

  const names = Object.keys(detection).filter((k) => k !== 'condition');
  if (names.length === 0) throw new RuleCompileProblem(RuleCodes.SELECTION, 'detection has no selections', ['detection'], true);
  const selections = new Map<string, Selection>();
  for (const name of names) {
    if (!SELECTION_NAME.test(name) || RESERVED_NAMES.has(name)) {
      throw new RuleCompileProblem(RuleCodes.SELECTION, `"${name}" cannot name a selection (letters, digits, _ . -; not a keyword such as and/or/not/of/them/all)`, ['detection', name], true);
    }
    selections.set(name, compileSelection(name, detection[name]));
  }

  const texts = Array.isArray(cond) ? cond : [cond];
  const trees: CondNode[] = texts.map((text, i) => {
    try {
      return parseCondition(text, names);
    } catch (e) {
      if (!(e instanceof ConditionSyntaxError)) throw e;
      const path = Array.isArray(cond) ? ['detection', 'condition', i] : ['detection', 'condition'];
      throw new RuleCompileProblem(RuleCodes.CONDITION, `condition "${text}": ${e.message}`, path, false, e.column);
    }
  });

  const used = new Set<string>();
  for (const t of trees) referencedSelections(t, used);
  for (const name of names) {
    if (!used.has(name)) throw new RuleCompileProblem(RuleCodes.UNUSED_SELECTION, `selection "${name}" is not used in the condition`, ['detection', name], true);
  }

  const fs = trees.map((t) => compileCondition(t, (n) => selections.get(n)!));
  if (fs.length === 1) return fs[0]!;
  return (f) => { for (const c of fs) if (c(f)) return true; return false; };
}

/** Whether any selection entry of the detection has an age modifier. */
function detectionUsesClock(detection: Record<string, unknown>): boolean {
  const maps = Object.entries(detection).filter(([k]) => k !== 'condition').flatMap(([, v]) => (Array.isArray(v) ? v : [v]));
  return maps.some((m) => isPlainMap(m) && Object.keys(m).some(keyUsesClock));
}

/** MITRE techniques (from x-canhgac.mitre and attack.tNNNN tags), compliance citations and dedup fields. */
function tagsOf(doc: RuleDoc | CorrelationDoc): Pick<CompiledRule, 'tags' | 'dedupFields' | 'suppressMs'> {
  const x = doc['x-canhgac'];
  const mitre = new Set(x.mitre);
  for (const t of doc.tags) {
    const m = ATTACK_TAG.exec(t);
    if (m) mitre.add(m[1]!.toUpperCase());
  }
  const compliance: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(x.compliance)) if (v && v.length) compliance[k] = [...v];
  let dedupFields: string[] | undefined;
  if (x.dedup) dedupFields = x.dedup.key.includes('agent.id') ? [...x.dedup.key] : ['agent.id', ...x.dedup.key];
  return {
    dedupFields,
    suppressMs: x.dedup?.suppress === undefined ? undefined : durationMs(x.dedup.suppress),
    tags: { mitre: [...mitre].sort(), compliance },
  };
}

function buildRule(doc: RuleDoc, file: string): CompiledRule {
  const x = doc['x-canhgac'];
  const match = compileDetection(doc.detection);
  const { dedupFields, suppressMs, tags } = tagsOf(doc);

  return {
    id: doc.id,
    title: doc.title,
    version: doc.modified ?? doc.date ?? '1',
    level: doc.level,
    status: doc.status,
    category: doc.logsource.category,
    kind: x.kind,
    file,
    dedupFields,
    usesClock: detectionUsesClock(doc.detection),
    suppressMs,
    tags,
    doc,
    match,
  };
}

/**
 * A correlation rule before its references are resolved (loader: resolveCorrelations). Until then
 * it counts nothing, and its category is a placeholder that no evaluation looks at.
 */
function buildCorrelationRule(doc: CorrelationDoc, file: string): CompiledRule {
  const correlation = compileCorrelation(doc.correlation);
  const { dedupFields, suppressMs, tags } = tagsOf(doc);
  return {
    id: doc.id,
    title: doc.title,
    version: doc.modified ?? doc.date ?? '1',
    level: doc.level,
    status: doc.status,
    category: 'gap',
    kind: doc['x-canhgac'].kind,
    file,
    dedupFields: dedupFields ?? correlation.groupBy,
    usesClock: false,
    suppressMs,
    tags,
    doc,
    match: () => false,
    correlation,
  };
}

/**
 * Validates and compiles one rule document (already parsed from YAML). Returns the rule or the
 * problems found, each with the path of the offending node. Never throws for a bad rule.
 */
export function tryCompileRule(raw: unknown, file = ''): { rule: CompiledRule; problems: [] } | { rule: undefined; problems: RuleCompileProblem[] } {
  if (isPlainMap(raw) && 'correlation' in raw) {
    const doc = CorrelationDocSchema.safeParse(raw);
    if (!doc.success) return { rule: undefined, problems: zodProblems(doc.error) };
    try {
      return { rule: buildCorrelationRule(doc.data, file), problems: [] };
    } catch (e) {
      if (e instanceof RuleCompileProblem) return { rule: undefined, problems: [e] };
      throw e;
    }
  }
  if (isPlainMap(raw) && raw.type === 'correlation') {
    return { rule: undefined, problems: [new RuleCompileProblem(RuleCodes.UNSUPPORTED, 'write a correlation rule with a "correlation:" block (Sigma v2), not "type: correlation"', ['type'], true)] };
  }
  const parsed = RuleDocSchema.safeParse(raw);
  if (!parsed.success) return { rule: undefined, problems: zodProblems(parsed.error) };
  try {
    return { rule: buildRule(parsed.data, file), problems: [] };
  } catch (e) {
    if (e instanceof RuleCompileProblem) return { rule: undefined, problems: [e] };
    throw e;
  }
}

/** Turns a compile problem into a load error with file and line. */
export function toLoadError(p: RuleCompileProblem, source: RuleSource, ruleId: string | undefined): RuleLoadError {
  const at = source.locate ? source.locate(p.path, p.atKey, p.innerColumn) : { line: 0, column: 0 };
  return new RuleLoadError(p.code, p.message, { file: source.file ?? '', line: at.line, column: at.column, ruleId });
}

/**
 * Validates and compiles one rule; throws the first RuleLoadError (code, file, line) when the
 * rule is bad. The loader uses tryCompileRule and never throws.
 */
export function compileRule(raw: unknown, source: RuleSource = {}): CompiledRule {
  const r = tryCompileRule(raw, source.file ?? '');
  if (r.rule) return r.rule;
  const id = isPlainMap(raw) && typeof raw.id === 'string' ? raw.id : undefined;
  throw toLoadError(r.problems[0]!, source, id);
}
