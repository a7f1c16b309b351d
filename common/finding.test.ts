import { describe, expect, it } from 'vitest';
import { flatten, nest } from './finding.js';

describe('nest', () => {
  it('nests dotted names and keeps a value that is also a parent under `value`', () => {
    expect(nest({ 'a.b': 1, 'a.c.d': 'x', e: true })).toEqual({ a: { b: 1, c: { d: 'x' } }, e: true });
    expect(nest({ a: 1, 'a.b': 2 })).toEqual({ a: { value: 1, b: 2 } });
    expect(flatten(nest({ 'a.b': 1, 'a.c.d': 'x' }))).toEqual({ 'a.b': 1, 'a.c.d': 'x' });
  });

  it('never writes through __proto__: such a segment becomes a plain key of the document', () => {
    const flat: Record<string, unknown> = {};
    Object.defineProperty(flat, 'a.__proto__.polluted', { value: 'yes', enumerable: true });
    Object.defineProperty(flat, '__proto__.top', { value: 'yes', enumerable: true });
    const doc = nest(flat);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).top).toBeUndefined();
    expect(JSON.parse(JSON.stringify(doc))).toEqual(JSON.parse('{"__proto__":{"top":"yes"},"a":{"__proto__":{"polluted":"yes"}}}'));
    expect(Object.getPrototypeOf(doc.a)).toBe(Object.prototype);
  });
});
