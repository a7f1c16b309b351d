import { cidrContains, parseCidr, parseIp, type Cidr } from './cidr.js';
import { RuleCodes, RuleCompileProblem } from './errors.js';
import { FIELD_NAME } from './schema.js';
import type { EvalFields } from './types.js';

/**
 * One `field|modifier|…: value` entry of a selection, compiled to a closure.
 *
 * Values: a scalar, a list (any of them; all of them with `|all`) or null (field missing).
 * A field holding a list matches a value when any element does.
 * Strings compare case-insensitively; in plain, contains, startswith and endswith values `*` and
 * `?` are wildcards, and `\*`, `\?`, `\\` stand for the characters themselves (as in Sigma).
 */

export type FieldMatcher = (fields: EvalFields) => boolean;
type Scalar = string | number | boolean;
/** `lower` is `String(x).toLowerCase()`, computed once per element; `now` is the evaluation clock (ms), for age_*. */
type ElemPred = (x: Scalar, lower: string, now: number) => boolean;

const OPERATORS = ['contains', 'startswith', 'endswith', 're', 'cidr', 'gt', 'gte', 'lt', 'lte', 'exists', 'age_gt', 'age_lt'] as const;
type Operator = (typeof OPERATORS)[number];
const RE_FLAGS = ['i', 'm', 's'] as const;
export const MODIFIERS: readonly string[] = [...OPERATORS, 'all', ...RE_FLAGS];

type Path = readonly (string | number)[];

/** The evaluation clock: `canhgac.evaluated_at` of the fields (see evaluationFields), else now. */
export const CLOCK_FIELD = 'canhgac.evaluated_at';
const AGE = /^(\d+)(s|m|h|d)$/;
const AGE_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `7d` → ms, or undefined when the value is not such a duration. */
function ageMs(v: Scalar): number | undefined {
  const m = typeof v === 'string' ? AGE.exec(v.trim()) : null;
  return m ? Number(m[1]) * AGE_UNIT_MS[m[2] as keyof typeof AGE_UNIT_MS] : undefined;
}

/** Milliseconds since the epoch of a timestamp field value (ISO-8601 text), or undefined. */
function timeOf(x: Scalar): number | undefined {
  if (typeof x !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(x)) return undefined;
  const t = Date.parse(x);
  return Number.isNaN(t) ? undefined : t;
}

/** Whether a compiled `field|modifier` key makes the outcome depend on the clock (age_gt, age_lt). */
export function keyUsesClock(key: string): boolean {
  return key.split('|').slice(1).some((m) => m === 'age_gt' || m === 'age_lt');
}

interface ParsedKey { field: string; op: Operator | undefined; all: boolean; reFlags: string }

function parseKey(key: string, path: Path): ParsedKey {
  const [field = '', ...mods] = key.split('|');
  if (!FIELD_NAME.test(field)) {
    throw new RuleCompileProblem(RuleCodes.SELECTION, `"${field}" is not a field name (expected a flat ECS name such as file.path)`, path, true);
  }
  let op: Operator | undefined;
  let all = false;
  let reFlags = '';
  for (const m of mods) {
    if ((OPERATORS as readonly string[]).includes(m)) {
      if (op !== undefined) {
        throw new RuleCompileProblem(RuleCodes.MODIFIER, `"${key}": modifiers "${op}" and "${m}" cannot be combined; use two entries or two selections`, path, true);
      }
      op = m as Operator;
    } else if (m === 'all') {
      if (all) throw new RuleCompileProblem(RuleCodes.MODIFIER, `"${key}": "all" is given twice`, path, true);
      all = true;
    } else if ((RE_FLAGS as readonly string[]).includes(m)) {
      if (op !== 're') throw new RuleCompileProblem(RuleCodes.MODIFIER, `"${key}": "${m}" is a regex flag and must follow "re" (field|re|${m})`, path, true);
      if (reFlags.includes(m)) throw new RuleCompileProblem(RuleCodes.MODIFIER, `"${key}": regex flag "${m}" is given twice`, path, true);
      reFlags += m;
    } else {
      const what = m === '' ? 'an empty modifier (two "|" in a row)' : `unknown modifier "${m}"`;
      throw new RuleCompileProblem(RuleCodes.MODIFIER, `"${key}": ${what}; known modifiers: ${MODIFIERS.join(', ')}`, path, true);
    }
  }
  if (all && op === 'exists') throw new RuleCompileProblem(RuleCodes.MODIFIER, `"${key}": "exists" cannot be combined with "all"`, path, true);
  return { field, op, all, reFlags };
}

/** Splits a Sigma string into literal text and wildcards; returns a RegExp source or undefined if none. */
function wildcardSource(raw: string): { literal: string; regex: string | undefined } {
  let literal = '';
  let regex = '';
  let wild = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    const next = raw[i + 1];
    if (c === '\\' && (next === '*' || next === '?' || next === '\\')) {
      literal += next;
      regex += next.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    } else if (c === '*' || c === '?') {
      wild = true;
      regex += c === '*' ? '.*' : '.';
    } else {
      literal += c;
      regex += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return { literal, regex: wild ? regex : undefined };
}

function stringPred(op: 'exact' | 'contains' | 'startswith' | 'endswith', value: Scalar): ElemPred {
  if (typeof value !== 'string') {
    const lit = String(value).toLowerCase();
    return stringPredLiteral(op, lit);
  }
  const { literal, regex } = wildcardSource(value);
  if (regex === undefined) return stringPredLiteral(op, literal.toLowerCase());
  const src = (op === 'exact' || op === 'startswith' ? '^' : '') + regex + (op === 'exact' || op === 'endswith' ? '$' : '');
  const re = new RegExp(src, 'is');
  return (_x, lower) => re.test(lower);
}

function stringPredLiteral(op: 'exact' | 'contains' | 'startswith' | 'endswith', lit: string): ElemPred {
  switch (op) {
    case 'exact': return (_x, lower) => lower === lit;
    case 'contains': return (_x, lower) => lower.includes(lit);
    case 'startswith': return (_x, lower) => lower.startsWith(lit);
    case 'endswith': return (_x, lower) => lower.endsWith(lit);
  }
}

function asNumber(x: Scalar): number | undefined {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(x)) return Number(x);
  return undefined;
}

function numberPred(op: 'gt' | 'gte' | 'lt' | 'lte', v: number): ElemPred {
  switch (op) {
    case 'gt': return (x) => { const n = asNumber(x); return n !== undefined && n > v; };
    case 'gte': return (x) => { const n = asNumber(x); return n !== undefined && n >= v; };
    case 'lt': return (x) => { const n = asNumber(x); return n !== undefined && n < v; };
    case 'lte': return (x) => { const n = asNumber(x); return n !== undefined && n <= v; };
  }
}

function cidrPred(c: Cidr): ElemPred {
  return (x) => {
    if (typeof x !== 'string') return false;
    const ip = parseIp(x);
    return ip !== undefined && cidrContains(c, ip);
  };
}

function valuePred(k: ParsedKey, key: string, v: Scalar, path: Path): ElemPred {
  const bad = (what: string): never => {
    throw new RuleCompileProblem(RuleCodes.VALUE, `"${key}": ${what}`, path);
  };
  switch (k.op) {
    case undefined: return stringPred('exact', v);
    case 'contains': case 'startswith': case 'endswith':
      if (typeof v === 'string' && v === '') bad(`"${k.op}" needs a non-empty value`);
      return stringPred(k.op, v);
    case 're': {
      if (typeof v !== 'string') return bad(`"re" needs a regular expression as a string, not ${JSON.stringify(v)}`);
      let re: RegExp;
      try {
        re = new RegExp(v, k.reFlags);
      } catch (e) {
        return bad(`invalid regular expression: ${(e as Error).message}`);
      }
      return (x) => re.test(typeof x === 'string' ? x : String(x));
    }
    case 'cidr': {
      const c = typeof v === 'string' ? parseCidr(v.trim()) : undefined;
      if (!c) return bad(`"cidr" needs an IPv4 or IPv6 range such as 10.0.0.0/8 or fd00::/8 with host bits zero, not ${JSON.stringify(v)}`);
      return cidrPred(c);
    }
    case 'gt': case 'gte': case 'lt': case 'lte':
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`"${k.op}" needs a number, not ${JSON.stringify(v)}`);
      return numberPred(k.op, v);
    case 'age_gt': case 'age_lt': {
      const d = ageMs(v);
      if (d === undefined) return bad(`"${k.op}" needs a duration such as 30m, 24h or 7d, not ${JSON.stringify(v)}`);
      // The clock is bound per evaluation by compileFieldEntry (the element predicate sees one value).
      return k.op === 'age_gt' ? (x, _l, now) => { const t = timeOf(x); return t !== undefined && now - t > d; }
        : (x, _l, now) => { const t = timeOf(x); return t !== undefined && now - t < d; };
    }
    case 'exists':
      return bad('unreachable');
  }
}

/** Compiles one selection entry. `path` points at the entry in the rule document (for errors). */
export function compileFieldEntry(key: string, value: unknown, path: Path): FieldMatcher {
  const k = parseKey(key, path);
  const { field } = k;

  if (k.op === 'exists') {
    if (typeof value !== 'boolean') throw new RuleCompileProblem(RuleCodes.VALUE, `"${key}": "exists" takes true or false`, path);
    return value ? (f) => f[field] !== undefined : (f) => f[field] === undefined;
  }

  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new RuleCompileProblem(RuleCodes.VALUE, `"${key}": the list of values is empty`, path);
  if (k.all && !Array.isArray(value)) {
    throw new RuleCompileProblem(RuleCodes.MODIFIER, `"${key}": "all" needs a list of values`, path, true);
  }

  let nullAllowed = false;
  const preds: ElemPred[] = [];
  list.forEach((v, i) => {
    const at = Array.isArray(value) ? [...path, i] : path;
    if (v === null) {
      if (k.op !== undefined || k.all) {
        throw new RuleCompileProblem(RuleCodes.VALUE, `"${key}": null (field missing) cannot be used with modifiers; use ${field}|exists: false`, at);
      }
      nullAllowed = true;
      return;
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new RuleCompileProblem(RuleCodes.VALUE, `"${key}": values are strings, numbers, booleans or null, not ${Array.isArray(v) ? 'a nested list' : 'a map'}`, at);
    }
    preds.push(valuePred(k, key, v, at));
  });

  const needsLower = k.op === undefined || k.op === 'contains' || k.op === 'startswith' || k.op === 'endswith';
  const lowerOf = needsLower ? (x: Scalar) => (typeof x === 'string' ? x : String(x)).toLowerCase() : () => '';
  const clocked = k.op === 'age_gt' || k.op === 'age_lt';
  const clock = clocked
    ? (f: EvalFields): number => { const c = f[CLOCK_FIELD]; const t = typeof c === 'string' ? Date.parse(c) : Number.NaN; return Number.isNaN(t) ? Date.now() : t; }
    : (): number => 0;

  if (k.all) {
    return (f) => {
      const fv = f[field];
      if (fv === undefined) return false;
      const elems: readonly Scalar[] = Array.isArray(fv) ? fv : [fv];
      const lowers = elems.map(lowerOf);
      const now = clock(f);
      for (const p of preds) {
        let hit = false;
        for (let i = 0; i < elems.length && !hit; i++) hit = p(elems[i]!, lowers[i]!, now);
        if (!hit) return false;
      }
      return true;
    };
  }

  if (preds.length === 1 && !nullAllowed) {
    const p = preds[0]!;
    return (f) => {
      const fv = f[field];
      if (fv === undefined) return false;
      if (!Array.isArray(fv)) return p(fv, lowerOf(fv), clock(f));
      const now = clock(f);
      for (const x of fv) if (p(x, lowerOf(x), now)) return true;
      return false;
    };
  }

  return (f) => {
    const fv = f[field];
    if (fv === undefined) return nullAllowed;
    const elems: readonly Scalar[] = Array.isArray(fv) ? fv : [fv];
    const now = clock(f);
    for (const x of elems) {
      const lower = lowerOf(x);
      for (const p of preds) if (p(x, lower, now)) return true;
    }
    return false;
  };
}
