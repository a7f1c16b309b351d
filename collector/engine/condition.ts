/**
 * The `condition` of a rule: a small tokenizer and a recursive-descent parser.
 *
 *   expr    := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | primary
 *   primary := '(' expr ')' | ('1' | 'all') 'of' target | NAME
 *   target  := 'them' | NAME-PATTERN            (a name, `*` matches any characters)
 *
 * Precedence: not > and > or. Keywords are lowercase. `them` means every selection whose name
 * does not start with `_` (as in Sigma).
 */

export type CondNode =
  | { t: 'sel'; name: string }
  | { t: 'and'; items: CondNode[] }
  | { t: 'or'; items: CondNode[] }
  | { t: 'not'; item: CondNode }
  | { t: 'of'; quant: 'one' | 'all'; names: string[] };

/** A condition that does not parse; `column` is 1-based within the condition text. */
export class ConditionSyntaxError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(message);
    this.name = 'ConditionSyntaxError';
    this.column = column;
  }
}

interface Token { kind: 'word' | 'lparen' | 'rparen' | 'end'; text: string; pos: number }

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', 'all', '1']);
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['and', 'or', 'not', 'of', 'them', 'all']);
const WORD_CHAR = /[A-Za-z0-9_.*-]/;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '(') { out.push({ kind: 'lparen', text: c, pos: i }); i++; continue; }
    if (c === ')') { out.push({ kind: 'rparen', text: c, pos: i }); i++; continue; }
    if (c === '|') {
      throw new ConditionSyntaxError(`column ${i + 1}: aggregations after "|" are not supported; write a correlation rule instead`, i + 1);
    }
    if (!WORD_CHAR.test(c)) throw new ConditionSyntaxError(`column ${i + 1}: unexpected character "${c}"`, i + 1);
    const start = i;
    while (i < text.length && WORD_CHAR.test(text[i]!)) i++;
    out.push({ kind: 'word', text: text.slice(start, i), pos: start });
  }
  out.push({ kind: 'end', text: '', pos: text.length });
  return out;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

/**
 * Parses `text` against the selection names of the rule. Throws ConditionSyntaxError saying
 * where (column) and what was expected.
 */
export function parseCondition(text: string, selections: readonly string[]): CondNode {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token => tokens[i]!;
  const describe = (t: Token): string => (t.kind === 'end' ? 'the end of the condition' : `"${t.text}"`);
  const fail = (t: Token, expected: string): never => {
    if (t.kind === 'word' && !KEYWORDS.has(t.text) && KEYWORDS.has(t.text.toLowerCase())) {
      throw new ConditionSyntaxError(`column ${t.pos + 1}: keywords are lowercase: write "${t.text.toLowerCase()}" instead of "${t.text}"`, t.pos + 1);
    }
    throw new ConditionSyntaxError(`column ${t.pos + 1}: expected ${expected} but found ${describe(t)}`, t.pos + 1);
  };
  const isWord = (t: Token, w: string): boolean => t.kind === 'word' && t.text === w;

  const parseExpr = (): CondNode => {
    const items = [parseAnd()];
    while (isWord(peek(), 'or')) { i++; items.push(parseAnd()); }
    return items.length === 1 ? items[0]! : { t: 'or', items };
  };
  const parseAnd = (): CondNode => {
    const items = [parseUnary()];
    while (isWord(peek(), 'and')) { i++; items.push(parseUnary()); }
    return items.length === 1 ? items[0]! : { t: 'and', items };
  };
  const parseUnary = (): CondNode => {
    if (isWord(peek(), 'not')) { i++; return { t: 'not', item: parseUnary() }; }
    return parsePrimary();
  };
  const parsePrimary = (): CondNode => {
    const t = peek();
    if (t.kind === 'lparen') {
      i++;
      const inner = parseExpr();
      if (peek().kind !== 'rparen') fail(peek(), `")" to close the "(" at column ${t.pos + 1}`);
      i++;
      return inner;
    }
    if (t.kind !== 'word') return fail(t, 'a selection name, "(", "not", "1 of" or "all of"');
    if (t.text === '1' || t.text === 'all') {
      i++;
      if (!isWord(peek(), 'of')) fail(peek(), `"of" after "${t.text}"`);
      i++;
      return parseTarget(t.text === '1' ? 'one' : 'all');
    }
    if ((/^\d+$/.test(t.text) || t.text === 'any') && isWord(tokens[i + 1]!, 'of')) {
      throw new ConditionSyntaxError(`column ${t.pos + 1}: only "1 of" and "all of" are supported, not "${t.text} of"`, t.pos + 1);
    }
    if (KEYWORDS.has(t.text)) return fail(t, 'a selection name, "(", "not", "1 of" or "all of"');
    if (KEYWORDS.has(t.text.toLowerCase())) {
      throw new ConditionSyntaxError(`column ${t.pos + 1}: keywords are lowercase: write "${t.text.toLowerCase()}" instead of "${t.text}"`, t.pos + 1);
    }
    if (t.text.includes('*')) {
      throw new ConditionSyntaxError(`column ${t.pos + 1}: a pattern such as "${t.text}" needs "1 of" or "all of" before it`, t.pos + 1);
    }
    if (!selections.includes(t.text)) {
      const known = selections.length ? selections.join(', ') : 'none';
      throw new ConditionSyntaxError(`column ${t.pos + 1}: no selection named "${t.text}" (selections: ${known})`, t.pos + 1);
    }
    i++;
    return { t: 'sel', name: t.text };
  };
  const parseTarget = (quant: 'one' | 'all'): CondNode => {
    const t = peek();
    if (t.kind !== 'word' || (KEYWORDS.has(t.text) && t.text !== 'them')) return fail(t, '"them" or a selection name pattern such as sel_*');
    i++;
    let names: string[];
    if (t.text === 'them') {
      names = selections.filter((s) => !s.startsWith('_'));
    } else {
      const re = globToRegExp(t.text);
      names = selections.filter((s) => re.test(s));
    }
    if (names.length === 0) {
      throw new ConditionSyntaxError(`column ${t.pos + 1}: "${t.text}" matches no selection`, t.pos + 1);
    }
    return { t: 'of', quant, names };
  };

  const node = parseExpr();
  if (peek().kind !== 'end') {
    const t = peek();
    fail(t, t.kind === 'rparen' ? '"and", "or" or the end (this ")" has no matching "(")' : '"and", "or" or the end of the condition');
  }
  return node;
}

/** Selection names a condition uses. */
export function referencedSelections(node: CondNode, out: Set<string> = new Set()): Set<string> {
  switch (node.t) {
    case 'sel': out.add(node.name); break;
    case 'of': for (const n of node.names) out.add(n); break;
    case 'not': referencedSelections(node.item, out); break;
    case 'and': case 'or': for (const n of node.items) referencedSelections(n, out); break;
  }
  return out;
}

/** Turns the tree into one closure; `sel` gives the compiled matcher of each selection. */
export function compileCondition<C>(node: CondNode, sel: (name: string) => (ctx: C) => boolean): (ctx: C) => boolean {
  switch (node.t) {
    case 'sel': return sel(node.name);
    case 'not': {
      const f = compileCondition(node.item, sel);
      return (c) => !f(c);
    }
    case 'and': {
      const fs = node.items.map((n) => compileCondition(n, sel));
      return (c) => { for (const f of fs) if (!f(c)) return false; return true; };
    }
    case 'or': {
      const fs = node.items.map((n) => compileCondition(n, sel));
      return (c) => { for (const f of fs) if (f(c)) return true; return false; };
    }
    case 'of': {
      const fs = node.names.map(sel);
      if (node.quant === 'one') return (c) => { for (const f of fs) if (f(c)) return true; return false; };
      return (c) => { for (const f of fs) if (!f(c)) return false; return true; };
    }
  }
}
