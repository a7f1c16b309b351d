import { describe, expect, it } from 'vitest';
import { isCanhGacError } from '../../common/errors.js';
import { ConditionSyntaxError, parseCondition } from './condition.js';
import { ruleWith } from './fixtures/rule.js';

/** Three independent selections a, b, c, each true when the field of the same name is "y". */
function rule(condition: string | string[], names = ['a', 'b', 'c']) {
  const detection: Record<string, unknown> = { condition };
  for (const n of names) detection[n] = { [n]: 'y' };
  return ruleWith(detection);
}

/** Truth table of a boolean function over a, b, c, in the same order as table(). */
function truth(fn: (a: boolean, b: boolean, c: boolean) => boolean): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += fn((i & 4) > 0, (i & 2) > 0, (i & 1) > 0) ? '1' : '0';
  return out;
}

/** Truth table of a condition over a, b, c (only the selections it names are defined). */
function table(condition: string): string {
  const r = rule(condition, ['a', 'b', 'c'].filter((n) => new RegExp(`\\b${n}\\b`).test(condition)));
  let out = '';
  for (let i = 0; i < 8; i++) {
    const f = { a: i & 4 ? 'y' : 'n', b: i & 2 ? 'y' : 'n', c: i & 1 ? 'y' : 'n' };
    out += r.match(f) ? '1' : '0';
  }
  return out;
}

function syntaxError(text: string, names = ['a', 'b', 'c', 'sel_x', 'sel_y']): ConditionSyntaxError {
  try {
    parseCondition(text, names);
  } catch (e) {
    if (e instanceof ConditionSyntaxError) return e;
    throw e;
  }
  throw new Error(`"${text}" parsed`);
}

describe('condition grammar', () => {
  it('and, or, not', () => {
    expect(table('a and b')).toBe('00000011');
    expect(table('a or b')).toBe('00111111');
    expect(table('not a')).toBe('11110000');
  });

  it('not binds tighter than and, and tighter than or', () => {
    // a or b and c  ==  a or (b and c)
    expect(table('a or b and c')).toBe(table('a or (b and c)'));
    expect(table('a or b and c')).not.toBe(table('(a or b) and c'));
    // not a and b  ==  (not a) and b
    expect(table('not a and b')).toBe(table('(not a) and b'));
    expect(table('not a and b')).not.toBe(table('not (a and b)'));
    // not a or b and not c == (not a) or (b and (not c))
    expect(table('not a or b and not c')).toBe(table('(not a) or (b and (not c))'));
  });

  it('parentheses and double negation', () => {
    expect(table('(a or b) and not (c)')).toBe(truth((a, b, c) => (a || b) && !c));
    expect(table('a or b and c')).toBe(truth((a, b, c) => a || (b && c)));
    expect(table('not a or b and not c')).toBe(truth((a, b, c) => !a || (b && !c)));
    expect(table('not not a')).toBe(table('a'));
    expect(table('((a))')).toBe(table('a'));
  });

  it('1 of / all of with patterns and them', () => {
    const names = ['sel_x', 'sel_y', 'other'];
    const r1 = rule('1 of sel_* and other', names);
    expect(r1.match({ sel_x: 'y', other: 'y' })).toBe(true);
    expect(r1.match({ sel_y: 'y', other: 'y' })).toBe(true);
    expect(r1.match({ other: 'y' })).toBe(false);
    const rAll = rule('all of sel_* and other', names);
    expect(rAll.match({ sel_x: 'y', other: 'y' })).toBe(false);
    expect(rAll.match({ sel_x: 'y', sel_y: 'y', other: 'y' })).toBe(true);
    expect(rule('1 of them', names).match({ other: 'y' })).toBe(true);
    expect(rule('all of them', names).match({ sel_x: 'y', other: 'y' })).toBe(false);
    expect(rule('all of them', names).match({ sel_x: 'y', sel_y: 'y', other: 'y' })).toBe(true);
    expect(rule('not 1 of sel_*', ['sel_x', 'sel_y']).match({})).toBe(true);
  });

  it('"them" leaves out selections starting with _', () => {
    const r = rule('all of them or _extra', ['a', '_extra']);
    expect(r.match({ a: 'y' })).toBe(true);
    expect(parseCondition('1 of them', ['a', '_x'])).toEqual({ t: 'of', quant: 'one', names: ['a'] });
  });

  it('a list of conditions matches when any does', () => {
    const r = rule(['a and b', 'c']);
    expect(r.match({ c: 'y' })).toBe(true);
    expect(r.match({ a: 'y', b: 'y' })).toBe(true);
    expect(r.match({ a: 'y' })).toBe(false);
  });
});

describe('condition errors say where', () => {
  it('a dangling operator', () => {
    const e = syntaxError('a and');
    expect(e.column).toBe(6);
    expect(e.message).toContain('the end of the condition');
  });

  it('two operators in a row', () => {
    const e = syntaxError('a and or b');
    expect(e.column).toBe(7);
    expect(e.message).toContain('"or"');
  });

  it('an unclosed or unmatched parenthesis', () => {
    expect(syntaxError('(a or b').message).toContain('")" to close the "(" at column 1');
    const e = syntaxError('a or b)');
    expect(e.column).toBe(7);
    expect(e.message).toContain('no matching "("');
  });

  it('an unknown selection', () => {
    const e = syntaxError('a and selction');
    expect(e.column).toBe(7);
    expect(e.message).toContain('no selection named "selction"');
  });

  it('a pattern that matches nothing, or without 1 of', () => {
    expect(syntaxError('1 of filter_*').message).toContain('matches no selection');
    expect(syntaxError('sel_*').message).toContain('needs "1 of" or "all of"');
  });

  it('unsupported forms', () => {
    expect(syntaxError('2 of sel_*').message).toContain('only "1 of" and "all of"');
    expect(syntaxError('any of sel_*').message).toContain('only "1 of" and "all of"');
    expect(syntaxError('a | count() > 5').message).toContain('correlation rule');
    expect(syntaxError('a AND b').message).toContain('keywords are lowercase');
    expect(syntaxError('a && b').message).toContain('unexpected character "&"');
    expect(syntaxError('').message).toContain('the end of the condition');
    expect(syntaxError('1 sel_x').message).toContain('"of" after "1"');
  });

  it('a rule with a bad condition fails with COLLECTOR_RULE_CONDITION', () => {
    try {
      rule('a and (b or c');
      throw new Error('compiled');
    } catch (e) {
      expect(isCanhGacError(e, 'COLLECTOR_RULE_CONDITION')).toBe(true);
    }
  });

  it('a selection not used in the condition is an error', () => {
    try {
      rule('a and b');
      throw new Error('compiled');
    } catch (e) {
      expect(isCanhGacError(e, 'COLLECTOR_RULE_UNUSED_SELECTION')).toBe(true);
      expect((e as Error).message).toContain('"c"');
    }
  });
});
