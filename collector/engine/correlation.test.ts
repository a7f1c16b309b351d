import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FindingRecord } from '../../common/finding.js';
import { compileRule } from './compile.js';
import { MAX_GROUPS, resolveCorrelations } from './correlation.js';
import { createRuleEngine } from './engine.js';
import { evaluate } from './evaluate.js';
import { createEvaluator } from './evaluator.js';
import { ruleDoc, ruleYaml } from './fixtures/rule.js';
import { recordFromFlat } from './flat-finding.js';
import { loadRuleSet } from './loader.js';

const BASE_ID = '11111111-2222-4333-8444-555555555555';
const CORR_ID = '66666666-7777-4888-9999-000000000000';

/** A correlation rule document over the base rule named `renamed-file`. */
function corrDoc(correlation: Record<string, unknown>, over: Record<string, unknown> = {}): Record<string, unknown> {
  const { logsource: _l, detection: _d, ...rest } = ruleDoc({ id: CORR_ID, title: 'Many renames', level: 'high' });
  return { ...rest, correlation: { type: 'event_count', rules: ['renamed-file'], 'group-by': ['agent.id'], timespan: '60s', condition: { gte: 5 }, ...correlation }, ...over };
}

function ruleSet(correlation: Record<string, unknown> = {}, baseOver: Record<string, unknown> = {}) {
  const base = compileRule(ruleDoc({ name: 'renamed-file', detection: { sel: { 'event.action': 'renamed' }, condition: 'sel' }, ...baseOver }));
  const corr = compileRule(corrDoc(correlation));
  const r = resolveCorrelations([base, corr]);
  expect(r.problems).toEqual([]);
  return r.rules;
}

let n = 0;
const T0 = Date.parse('2026-03-01T08:00:00.000Z');
/** A renamed-file finding `sec` seconds after T0. */
function renamed(sec: number, extra: Record<string, unknown> = {}): FindingRecord {
  n++;
  return recordFromFlat({
    kind: 'fim', 'event.action': 'renamed', 'file.path': `/srv/share/doc-${n}.docx.locked`, 'file.extension': 'locked',
    'event.id': `finding-${n}`, '@timestamp': new Date(T0 + sec * 1000).toISOString(), ...extra,
  }, n);
}

const fired = (alerts: { rule: { id: string } }[]) => alerts.filter((a) => a.rule.id === CORR_ID);

describe('event_count', () => {
  it('fires when the threshold is reached inside the timespan, once per burst, with the findings that made it', () => {
    const ev = createEvaluator(ruleSet());
    const seen = [0, 10, 20, 30].flatMap((s) => fired(ev.evaluate(renamed(s))));
    expect(seen).toEqual([]);
    const last = renamed(40);
    const [a, ...more] = fired(ev.evaluate(last));
    expect(more).toEqual([]);
    expect(a).toMatchObject({
      severity: 'high', agentId: 'agent-test-0001', count: 1, seenAt: last.observedAt,
      dedupKey: `${CORR_ID}|agent-test-0001`, summary: 'Many renames: 5 matching findings within 60 s',
    });
    expect(a!.findingIds).toHaveLength(5);
    expect(a!.findingIds.at(-1)).toBe(last.id);
    // The group starts counting anew: four more are not enough, the fifth fires again (same dedup key).
    expect([41, 42, 43, 44].flatMap((s) => fired(ev.evaluate(renamed(s))))).toEqual([]);
    expect(fired(ev.evaluate(renamed(45)))).toHaveLength(1);
  });

  it('does not fire when the matches are spread wider than the timespan, or arrive too late', () => {
    const ev = createEvaluator(ruleSet());
    expect([0, 20, 40, 61, 81, 101, 121].flatMap((s) => fired(ev.evaluate(renamed(s))))).toEqual([]);
    const ev2 = createEvaluator(ruleSet());
    for (const s of [200, 201, 202, 203]) ev2.evaluate(renamed(s));
    // A finding observed long before the group's newest is outside the window: it does not count.
    expect(fired(ev2.evaluate(renamed(100)))).toEqual([]);
    expect(fired(ev2.evaluate(renamed(204)))).toHaveLength(1);
  });

  it('counts per group: agent.id is always part of it', () => {
    const ev = createEvaluator(ruleSet({ 'group-by': ['host.name'] }));
    const out = [0, 1, 2, 3, 4].flatMap((s) => [
      ...fired(ev.evaluate(renamed(s, { 'agent.id': 'agent-a' }))),
      ...fired(ev.evaluate(renamed(s, { 'agent.id': 'agent-b' }))),
    ]);
    expect(out.map((a) => a.agentId)).toEqual(['agent-a', 'agent-b']);
    expect(out[0]!.dedupKey).toBe(`${CORR_ID}|agent-a|may-tram-01`);
  });

  it('counts only its base rules\' matches, and gt means more than', () => {
    const ev = createEvaluator(ruleSet({ condition: { gt: 2 } }));
    const other = (s: number) => renamed(s, { 'event.action': 'modified' });
    expect([0, 1, 2, 3].flatMap((s) => fired(ev.evaluate(other(s))))).toEqual([]);
    expect([0, 1].flatMap((s) => fired(ev.evaluate(renamed(s))))).toEqual([]);
    expect(fired(ev.evaluate(renamed(2)))).toHaveLength(1);
  });

  it('base rules raise no alert of their own unless the correlation says generate: true', () => {
    const quiet = ruleSet();
    expect(quiet.find((r) => r.id === BASE_ID)!.alerts).toBe(false);
    expect(evaluate(quiet, renamed(0))).toEqual([]);
    expect(createEvaluator(quiet).evaluate(renamed(0))).toEqual([]);
    const loud = ruleSet({ generate: true });
    expect(evaluate(loud, renamed(0)).map((a) => a.rule.id)).toEqual([BASE_ID]);
  });

  it('a scheduled pass (clockOnly) is not a new finding and is not counted', () => {
    const ev = createEvaluator(ruleSet({ condition: { gte: 1 } }));
    expect(ev.evaluate(renamed(0), { clockOnly: true, now: new Date(T0) })).toEqual([]);
    expect(fired(ev.evaluate(renamed(1)))).toHaveLength(1);
  });

  it('keeps at most MAX_GROUPS groups, dropping the least recently used', () => {
    const ev = createEvaluator(ruleSet({ 'group-by': ['file.path'] }));
    for (let i = 0; i <= MAX_GROUPS; i++) ev.evaluate(renamed(0));
    expect(ev.windows().get(CORR_ID)).toBe(MAX_GROUPS);
  });
});

describe('value_count', () => {
  it('fires on enough distinct values of the field in the timespan; repeats of one value count once', () => {
    const ev = createEvaluator(ruleSet({ type: 'value_count', condition: { gte: 3, field: 'file.extension' } }));
    expect([0, 1, 2, 3].flatMap((s) => fired(ev.evaluate(renamed(s, { 'file.extension': 'locked' }))))).toEqual([]);
    expect(fired(ev.evaluate(renamed(4, { 'file.extension': 'crypt' })))).toEqual([]);
    const [a] = fired(ev.evaluate(renamed(5, { 'file.extension': 'enc' })));
    expect(a!.summary).toBe('Many renames: 3 distinct file.extension values within 60 s');
    // Findings without the field do not count.
    expect(fired(ev.evaluate(renamed(6, { 'file.extension': '' })))).toEqual([]);
  });
});

describe('loading correlation rules', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'canhgac-corr-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  const corrYaml = (body: string) => ruleYaml({ id: CORR_ID }).replace(/logsource:[\s\S]*?condition: sel\n/, `correlation:\n${body}`);
  const base = () => ruleYaml().replace('title: Test rule', 'title: Test rule\nname: renamed-file').replace('event.action: created', 'event.action: renamed');

  it('resolves base rules by name or id, takes their category, and an engine counts across findings', () => {
    writeFileSync(join(dir, 'base.yml'), base());
    writeFileSync(join(dir, 'corr.yml'), corrYaml(`  type: event_count\n  rules: [renamed-file, ${BASE_ID}]\n  group-by: [agent.id]\n  timespan: 1m\n  condition:\n    gte: 3\n`));
    const set = loadRuleSet(dir);
    expect(set.errors).toEqual([]);
    const corr = set.rules.find((r) => r.id === CORR_ID)!;
    expect(corr.category).toBe('fim');
    expect(corr.correlation).toMatchObject({ ruleIds: [BASE_ID], timespanMs: 60_000, threshold: 3, groupBy: ['agent.id'] });
    const engine = createRuleEngine({ dir });
    expect([0, 1].flatMap((s) => engine.evaluate(renamed(s)))).toEqual([]);
    // A reload that keeps the correlation keeps its window.
    engine.reload();
    expect(engine.evaluate(renamed(2)).map((a) => a.rule.id)).toEqual([CORR_ID]);
  });

  it('reports an unknown base rule at its line, and skips only the correlation', () => {
    writeFileSync(join(dir, 'base.yml'), base());
    const f = join(dir, 'corr.yml');
    writeFileSync(f, corrYaml('  type: event_count\n  rules:\n    - renamed-file\n    - no-such-rule\n  timespan: 60s\n  condition: { gte: 3 }\n'));
    const set = loadRuleSet(dir);
    expect(set.rules.map((r) => r.id)).toEqual([BASE_ID]);
    expect(set.errors).toEqual([expect.objectContaining({ code: 'COLLECTOR_RULE_CORRELATION', file: f, line: 10, ruleId: CORR_ID })]);
    // Without the correlation, the base rule raises alerts of its own again.
    expect(set.rules[0]!.alerts).toBeUndefined();
  });

  it('refuses bounds it cannot evaluate as findings arrive, and incomplete conditions, by code', () => {
    const problems = (correlation: Record<string, unknown>) => {
      try {
        compileRule(corrDoc(correlation));
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(problems({})).toBe('ok');
    expect(problems({ condition: { lt: 5 } })).toBe('COLLECTOR_RULE_UNSUPPORTED');
    expect(problems({ condition: { gte: 5, eq: 5 } })).toBe('COLLECTOR_RULE_UNSUPPORTED');
    expect(problems({ condition: {} })).toBe('COLLECTOR_RULE_SCHEMA');
    expect(problems({ condition: { gt: 1, gte: 2 } })).toBe('COLLECTOR_RULE_SCHEMA');
    expect(problems({ type: 'value_count' })).toBe('COLLECTOR_RULE_SCHEMA');
    expect(problems({ type: 'temporal' })).toBe('COLLECTOR_RULE_UNSUPPORTED');
    expect(problems({ type: 'count' })).toBe('COLLECTOR_RULE_SCHEMA');
    expect(problems({ timespan: 'soon' })).toBe('COLLECTOR_RULE_SCHEMA');
    expect(problems({ rules: [] })).toBe('COLLECTOR_RULE_SCHEMA');
    expect(problems({ aliases: {} })).toBe('COLLECTOR_RULE_UNSUPPORTED');
    expect(problems({ extra: 1 })).toBe('COLLECTOR_RULE_SCHEMA');
  });

  it('refuses base rules of different categories', () => {
    const a = compileRule(ruleDoc({ name: 'a' }));
    const b = compileRule(ruleDoc({ id: '22222222-2222-4333-8444-555555555555', name: 'b', logsource: { product: 'canhgac', category: 'listener' } }));
    const c = compileRule(corrDoc({ rules: ['a', 'b'] }));
    const r = resolveCorrelations([a, b, c]);
    expect(r.rules.map((x) => x.id)).toEqual([a.id, b.id]);
    expect(r.problems[0]!.message).toContain('one logsource category');
  });
});
