/**
 * validateFinding builds the internal finding in its own pass over the fields; proto/convert.ts fromWire
 * is the reference it must agree with (same finding for valid input, same reason for a valueless field).
 */
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../common/finding.js';
import { fromWire, toWire as toWireObject, type WireFinding } from '../../proto/convert.js';
import { T, decode, encode } from '../../proto/index.js';
import { validateFinding } from './validate.js';

/** What the collector receives: the finding encoded as an agent does, decoded as the server does. */
const toWire = (f: Finding): WireFinding => decode<WireFinding>(T.Finding, encode(T.Finding, toWireObject(f) as unknown as Record<string, unknown>));

const base: Finding = {
  id: 'f0e1d2c3-0000-4000-8000-000000000001', seq: 7, observedAt: '2026-11-28T02:45:47.123Z', check: 'packages', kind: 'package',
  stateKey: 'libc6:amd64', snapshotId: 'snap-1', snapshotTotal: 3,
  fields: {
    'package.name': 'libc6', 'package.size': 12345, 'package.score': 7.5, 'package.installed': true, 'package.empty': '',
    'package.zero': 0, 'package.tags': ['a', 'b'], 'package.none': [], 'host.os.name': 'Debian GNU/Linux 12 (bookworm)',
  },
};

describe('validateFinding', () => {
  it('gives the finding fromWire gives, for every kind of field value', () => {
    const w = toWire(base);
    const v = validateFinding(w);
    expect(v.ok).toBe(true);
    expect(v.ok && v.finding).toEqual(fromWire(w));
    expect(v.ok && v.finding).toEqual(base);
  });

  it('refuses a field without a value with fromWire\'s reason, after the time check as before', () => {
    const w: WireFinding = { ...toWire(base), fields: { ...toWire(base).fields, 'x.y': {} } };
    const v = validateFinding(w);
    expect(v).toMatchObject({ ok: false, reason: fromWire(w) });
    expect(validateFinding({ ...w, observedAtMs: 5 })).toMatchObject({ ok: false, reason: 'observed_at is not a plausible time' });
  });

  it('refuses bad field names, also once good names are remembered', () => {
    expect(validateFinding(toWire(base)).ok).toBe(true);
    const w = toWire(base);
    const v = validateFinding({ ...w, fields: { ...w.fields, 'bad name!': { s: 'x', v: 's' } } });
    expect(v).toMatchObject({ ok: false, reason: expect.stringContaining('field name "bad name!" is not an ECS-style dotted name') });
  });

  it('refuses names with a __proto__, constructor or prototype segment (they would reach Object.prototype when nested)', () => {
    const w = toWire(base);
    for (const n of ['a.__proto__.polluted', '__proto__', 'x.constructor', 'prototype.y', 'a.constructor.prototype.z']) {
      // Built with defineProperty: a literal `__proto__` key would set the prototype instead of a field.
      const fields = { ...w.fields };
      Object.defineProperty(fields, n, { value: { s: 'x', v: 's' }, enumerable: true });
      expect(validateFinding({ ...w, fields }), n).toMatchObject({ ok: false, reason: expect.stringContaining('no segment __proto__') });
    }
    // Names that only contain the words are fine.
    const fields = { ...w.fields, 'process.constructor_name': { s: 'x', v: 's' }, 'a.prototypes': { s: 'y', v: 's' } };
    expect(validateFinding({ ...w, fields }).ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
