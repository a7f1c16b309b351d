import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuleEngine } from './engine.js';
import { ruleYaml } from './fixtures/rule.js';
import { recordFromFlat } from './flat-finding.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'canhgac-engine-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const created = recordFromFlat({ kind: 'fim', 'event.action': 'created', 'file.path': '/tmp/x' });
const deleted = recordFromFlat({ kind: 'fim', 'event.action': 'deleted', 'file.path': '/tmp/x' });

describe('createRuleEngine', () => {
  it('loads at start and evaluates', () => {
    writeFileSync(join(dir, 'a.yml'), ruleYaml());
    const engine = createRuleEngine({ dir });
    expect(engine.rules()).toHaveLength(1);
    expect(engine.errors()).toEqual([]);
    expect(engine.evaluate(created)).toHaveLength(1);
    expect(engine.evaluate(deleted)).toHaveLength(0);
  });

  it('reload swaps in the new set; an array handed out earlier is not changed', () => {
    writeFileSync(join(dir, 'a.yml'), ruleYaml());
    const engine = createRuleEngine({ dir });
    const before = engine.rules();
    writeFileSync(join(dir, 'a.yml'), ruleYaml().replace('event.action: created', 'event.action: deleted'));
    writeFileSync(join(dir, 'bad.yml'), ruleYaml({ id: '22222222-3333-4444-8555-666666666666' }).replace('condition: sel', 'condition: sel and'));
    const report = engine.reload();
    expect(report).toMatchObject({ loaded: 1, keptPrevious: false });
    expect(report.errors.map((e) => e.code)).toEqual(['COLLECTOR_RULE_CONDITION']);
    expect(engine.errors()).toHaveLength(1);
    expect(engine.evaluate(created)).toHaveLength(0);
    expect(engine.evaluate(deleted)).toHaveLength(1);
    expect(before).toHaveLength(1);
    expect(before[0]!.match({ 'event.action': 'created' })).toBe(true);
    expect(engine.rules()).not.toBe(before);
  });

  it('keeps the previous rules when the folder disappears', () => {
    writeFileSync(join(dir, 'a.yml'), ruleYaml());
    const engine = createRuleEngine({ dir });
    const moved = `${dir}-moved`;
    renameSync(dir, moved);
    try {
      const report = engine.reload();
      expect(report.keptPrevious).toBe(true);
      expect(report.errors[0]!.code).toBe('COLLECTOR_RULE_READ');
      expect(engine.evaluate(created)).toHaveLength(1);
    } finally {
      renameSync(moved, dir);
    }
  });

  it('an empty folder is an empty rule set, not an error', () => {
    const engine = createRuleEngine({ dir });
    expect(engine.rules()).toEqual([]);
    expect(engine.errors()).toEqual([]);
    expect(engine.evaluate(created)).toEqual([]);
  });
});
