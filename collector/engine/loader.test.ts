import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeError } from '../../common/errors.js';
import { ruleYaml } from './fixtures/rule.js';
import { loadRuleSet } from './loader.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'canhgac-rules-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

function write(rel: string, text: string): string {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const ID2 = '22222222-3333-4444-8555-666666666666';

describe('loadRuleSet', () => {
  it('loads .yml and .yaml files recursively and skips tests files and dot-files', () => {
    write('fim/a.yml', ruleYaml());
    write('listener/b.yaml', ruleYaml({ id: ID2 }));
    write('fim/a.tests.yaml', 'match: []\nno_match: []\n');
    write('.hidden/c.yml', ': broken');
    write('README.md', '# not a rule');
    const set = loadRuleSet(dir);
    expect(set.errors).toEqual([]);
    expect(set.rules.map((r) => r.id).sort()).toEqual(['11111111-2222-4333-8444-555555555555', ID2]);
    expect(set.rules.find((r) => r.id === ID2)!.file).toBe(join(dir, 'listener/b.yaml'));
  });

  it('a YAML syntax error: COLLECTOR_RULE_YAML with file and line; the other rules load', () => {
    const bad = write('bad.yml', ruleYaml({ id: ID2 }).replace('level: medium', 'level: medium\n  oops: [unclosed'));
    write('good.yml', ruleYaml());
    const set = loadRuleSet(dir);
    expect(set.rules).toHaveLength(1);
    expect(set.errors.length).toBeGreaterThan(0);
    const e = set.errors[0]!;
    expect(e.code).toBe('COLLECTOR_RULE_YAML');
    expect(e.file).toBe(bad);
    // The value of `level` runs on into the badly indented line below it.
    expect(e.line).toBe(4);
    expect(e.column).toBe(8);
  });

  it('a duplicate key is a YAML error at the second key', () => {
    const f = write('dup-key.yml', ruleYaml().replace('level: medium', 'level: medium\nlevel: high'));
    const [e] = loadRuleSet(dir).errors;
    expect(e).toMatchObject({ code: 'COLLECTOR_RULE_YAML', file: f, line: 5 });
  });

  it('a bad condition: COLLECTOR_RULE_CONDITION at the condition line and column', () => {
    const f = write('cond.yml', ruleYaml({ detection: 'detection:\n  sel:\n    event.action: created\n  condition: sel and (sel' }));
    const set = loadRuleSet(dir);
    expect(set.rules).toHaveLength(0);
    const [e] = set.errors;
    expect(e).toMatchObject({ code: 'COLLECTOR_RULE_CONDITION', file: f, line: 12 });
    // "  condition: " is 13 characters; the condition text ends at its column 13.
    expect(e!.column).toBe(14 + 13 - 1);
    expect(e!.message).toContain('")" to close the "("');
    expect(describeError(e)).toContain(`${f}:12:`);
  });

  it('an unknown modifier: COLLECTOR_RULE_MODIFIER at the line of the key', () => {
    const f = write('mod.yml', ruleYaml({
      detection: 'detection:\n  sel:\n    event.action: created\n    file.path|beginswith: /tmp/\n  condition: sel',
    }));
    const [e] = loadRuleSet(dir).errors;
    expect(e).toMatchObject({ code: 'COLLECTOR_RULE_MODIFIER', file: f, line: 12, column: 5 });
    expect(e!.message).toContain('beginswith');
    expect(e!.hint).toContain('docs/rules.md');
  });

  it('a bad value inside a list points at the list item', () => {
    const f = write('cidr.yml', ruleYaml({
      detection: 'detection:\n  sel:\n    server.ip|cidr:\n      - 10.0.0.0/8\n      - 10.0.0.0/33\n  condition: sel',
    }));
    const [e] = loadRuleSet(dir).errors;
    expect(e).toMatchObject({ code: 'COLLECTOR_RULE_VALUE', file: f, line: 13, column: 9 });
  });

  it('duplicate id: an error for the second file only, at its id line', () => {
    const first = write('a/first.yml', ruleYaml());
    const second = write('b/second.yml', ruleYaml());
    const set = loadRuleSet(dir);
    expect(set.rules).toHaveLength(1);
    expect(set.rules[0]!.file).toBe(first);
    expect(set.errors).toHaveLength(1);
    expect(set.errors[0]).toMatchObject({ code: 'COLLECTOR_RULE_DUPLICATE_ID', file: second, line: 2, ruleId: '11111111-2222-4333-8444-555555555555' });
    expect(set.errors[0]!.message).toContain(first);
  });

  it('schema: an unknown key is reported at its line', () => {
    const f = write('unknown.yml', ruleYaml({ extra: '  dedupe:\n    key: [file.path]\n' }));
    const [e] = loadRuleSet(dir).errors;
    expect(e).toMatchObject({ code: 'COLLECTOR_RULE_SCHEMA', file: f, line: 20, column: 3 });
    expect(e!.message).toContain('unknown key "dedupe" in x-canhgac');
  });

  it('schema: a bad level and a missing key', () => {
    const f = write('level.yml', ruleYaml().replace('level: medium', 'level: severe'));
    const [e] = loadRuleSet(dir).errors;
    expect(e).toMatchObject({ code: 'COLLECTOR_RULE_SCHEMA', file: f, line: 4 });
    expect(e!.message).toContain('level');
    rmSync(f);
    const g = write('no-title.yml', ruleYaml().replace('title: Test rule\n', ''));
    const [e2] = loadRuleSet(dir).errors;
    expect(e2).toMatchObject({ code: 'COLLECTOR_RULE_SCHEMA', file: g });
    expect(e2!.message).toContain('title is missing');
  });

  it('schema: not a UUID, wrong product, unknown category', () => {
    write('id.yml', ruleYaml({ id: 'not-a-uuid' }));
    write('prod.yml', ruleYaml({ id: ID2 }).replace('product: canhgac', 'product: windows'));
    write('cat.yml', ruleYaml({ id: '33333333-4444-4555-8666-777777777777' }).replace('category: fim', 'category: process_creation'));
    const errors = loadRuleSet(dir).errors;
    const byFile = Object.fromEntries(errors.map((e) => [e.file.slice(dir.length + 1), e]));
    expect(byFile['id.yml']).toMatchObject({ code: 'COLLECTOR_RULE_SCHEMA', line: 2 });
    expect(byFile['prod.yml']).toMatchObject({ code: 'COLLECTOR_RULE_SCHEMA', line: 7 });
    expect(byFile['cat.yml']).toMatchObject({ code: 'COLLECTOR_RULE_SCHEMA', line: 8 });
  });

  it('more than one document in a file', () => {
    const f = write('multi.yml', `${ruleYaml()}\n---\n${ruleYaml({ id: ID2 })}`);
    const [e] = loadRuleSet(dir).errors;
    expect(e).toMatchObject({ code: 'COLLECTOR_RULE_MULTIPLE_DOCUMENTS', file: f });
    expect(e!.line).toBeGreaterThan(18);
  });

  it('an empty file and a file that is not a map', () => {
    write('empty.yml', '');
    write('list.yml', '- a\n- b\n');
    const errors = loadRuleSet(dir).errors;
    expect(errors.map((e) => e.code)).toEqual(['COLLECTOR_RULE_SCHEMA', 'COLLECTOR_RULE_SCHEMA']);
  });

  it('a temporal correlation is reported as unsupported, at its type (event_count and value_count load: correlation.test.ts)', () => {
    const f = write('corr.yml', ruleYaml({ id: '44444444-5555-4666-8777-888888888888' })
      .replace(/logsource:[\s\S]*?condition: sel\n/, 'correlation:\n  type: temporal\n  rules: [a]\n  timespan: 60s\n  condition: { gte: 2 }\n'));
    const [e] = loadRuleSet(dir).errors;
    expect(e).toMatchObject({ code: 'COLLECTOR_RULE_UNSUPPORTED', file: f, line: 7 });
  });

  it('a missing folder is one READ error, not an exception', () => {
    const set = loadRuleSet(join(dir, 'nope'));
    expect(set.rules).toEqual([]);
    expect(set.errors).toHaveLength(1);
    expect(set.errors[0]!.code).toBe('COLLECTOR_RULE_READ');
  });

  it('a huge file is refused', () => {
    write('huge.yml', ruleYaml() + `# ${'x'.repeat(300 * 1024)}\n`);
    expect(loadRuleSet(dir).errors[0]!.code).toBe('COLLECTOR_RULE_TOO_LARGE');
  });
});
