/** The age modifiers (`age_gt`, `age_lt`), the evaluation clock and the scheduled (clock-only) pass. */
import { describe, expect, it } from 'vitest';
import { recordFromFlat } from './flat-finding.js';
import { evaluate, evaluationFields } from './evaluate.js';
import { RuleCodes, RuleLoadError } from './errors.js';
import { matcher, ruleWith } from './fixtures/rule.js';

const NOW = '2026-03-10T12:00:00.000Z';
const at = (fields: Record<string, string | string[]>) => ({ 'canhgac.evaluated_at': NOW, ...fields });

describe('age_gt / age_lt', () => {
  const older7d = matcher('vulnerability.first_seen|age_gt', '7d');
  const newer1h = matcher('vulnerability.first_seen|age_lt', '1h');

  it('compares the timestamp with the evaluation clock', () => {
    expect(older7d(at({ 'vulnerability.first_seen': '2026-03-03T11:59:59.999Z' }))).toBe(true);
    expect(older7d(at({ 'vulnerability.first_seen': '2026-03-03T12:00:00.000Z' }))).toBe(false); // exactly 7 d: not more
    expect(older7d(at({ 'vulnerability.first_seen': '2026-03-09T00:00:00Z' }))).toBe(false);
    expect(newer1h(at({ 'vulnerability.first_seen': '2026-03-10T11:30:00Z' }))).toBe(true);
    expect(newer1h(at({ 'vulnerability.first_seen': '2026-03-10T10:59:00Z' }))).toBe(false);
  });

  it('treats a future timestamp as younger than any age', () => {
    expect(older7d(at({ 'vulnerability.first_seen': '2027-01-01T00:00:00Z' }))).toBe(false);
    expect(newer1h(at({ 'vulnerability.first_seen': '2027-01-01T00:00:00Z' }))).toBe(true);
  });

  it('never matches a missing field or a value that is not a timestamp', () => {
    expect(older7d(at({}))).toBe(false);
    expect(older7d(at({ 'vulnerability.first_seen': 'yesterday' }))).toBe(false);
    expect(older7d(at({ 'vulnerability.first_seen': '12' }))).toBe(false);
    expect(older7d({ 'canhgac.evaluated_at': NOW, 'vulnerability.first_seen': 1_000 })).toBe(false);
  });

  it('matches a list when any element is old enough', () => {
    expect(older7d(at({ 'vulnerability.first_seen': ['2026-03-09T00:00:00Z', '2025-01-01T00:00:00Z'] }))).toBe(true);
  });

  it('accepts s, m, h and d', () => {
    const f = at({ t: '2026-03-10T11:59:00Z' });
    expect(matcher('t|age_gt', '30s')(f)).toBe(true);
    expect(matcher('t|age_gt', '2m')(f)).toBe(false);
    expect(matcher('t|age_lt', '1h')(f)).toBe(true);
    expect(matcher('t|age_gt', '0d')(f)).toBe(true);
  });

  it('uses the real clock when the fields carry none', () => {
    const old = new Date(Date.now() - 8 * 86_400_000).toISOString();
    expect(older7d({ 'vulnerability.first_seen': old })).toBe(true);
  });

  it('refuses a value that is not a duration, with the entry named', () => {
    for (const bad of ['7', '7 days', '1w', 7, true]) {
      let err: unknown;
      try {
        matcher('vulnerability.first_seen|age_gt', bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RuleLoadError);
      expect((err as RuleLoadError).code).toBe(RuleCodes.VALUE);
      expect((err as RuleLoadError).message).toContain('vulnerability.first_seen|age_gt');
    }
  });

  it('cannot be combined with another operator', () => {
    expect(() => matcher('t|age_gt|gt', '7d')).toThrow(/cannot be combined/);
  });
});

describe('the evaluation clock', () => {
  it('is the finding\'s receivedAt by default and the given time in a scheduled pass', () => {
    const r = recordFromFlat({ kind: 'host', '@timestamp': '2026-01-01T00:00:00.000Z' });
    expect(evaluationFields(r)['canhgac.evaluated_at']).toBe('2026-01-01T00:00:00.000Z');
    expect(evaluationFields(r, new Date(NOW))['canhgac.evaluated_at']).toBe(NOW);
  });

  it('cannot be set by the agent: the envelope wins over a body field of the same name', () => {
    const r = recordFromFlat({ kind: 'host', '@timestamp': '2026-01-01T00:00:00.000Z', 'canhgac.evaluated_at': '2099-01-01T00:00:00.000Z' });
    expect(evaluationFields(r)['canhgac.evaluated_at']).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('usesClock and the clock-only pass', () => {
  const state = { logsource: { product: 'canhgac', category: 'host' } };
  const xState = (id: string) => ({
    id,
    'x-canhgac': {
      kind: 'state', compliance: { nist_800_53: ['SI-2'] },
      i18n: { vi: { title: 'Thử', remediation: 'Không cần làm gì.' }, en: { remediation: 'Nothing to do.' } },
    },
  });
  const timed = ruleWith({ sel: { 'host.reboot.required': true, 'host.reboot.pending_since|age_gt': '7d' }, condition: 'sel' }, { ...state, ...xState('11111111-2222-4333-8444-000000000001') });
  const plain = ruleWith({ sel: { 'host.reboot.required': true }, condition: 'sel' }, { ...state, ...xState('11111111-2222-4333-8444-000000000002') });
  const inList = ruleWith({ sel: [{ 'host.os.name': 'x' }, { 't|age_lt': '1d' }], condition: 'sel' }, { ...state, ...xState('11111111-2222-4333-8444-000000000003') });

  it('marks rules with an age modifier anywhere in their selections', () => {
    expect(timed.usesClock).toBe(true);
    expect(plain.usesClock).toBe(false);
    expect(inList.usesClock).toBe(true);
  });

  it('evaluates only clock rules when asked, with the given clock', () => {
    const r = recordFromFlat({ kind: 'host', '@timestamp': '2026-03-01T00:00:00.000Z', 'host.reboot.required': true, 'host.reboot.pending_since': '2026-02-25T00:00:00.000Z' });
    // At receipt (2026-03-01) the reboot is pending 4 days: only the plain rule fires.
    expect(evaluate([timed, plain], r).map((a) => a.rule.id)).toEqual([plain.id]);
    // A scheduled pass on 2026-03-10: only the clock rule is evaluated, and it fires.
    expect(evaluate([timed, plain], r, { now: new Date(NOW), clockOnly: true }).map((a) => a.rule.id)).toEqual([timed.id]);
    expect(evaluate([plain], r, { now: new Date(NOW), clockOnly: true })).toEqual([]);
  });
});
