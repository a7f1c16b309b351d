import { describe, expect, it } from 'vitest';
import type { FindingRecord } from '../../common/finding.js';
import { compileRule } from './compile.js';
import { dedupKeyFor, evaluate, evaluationFields } from './evaluate.js';
import { ruleDoc } from './fixtures/rule.js';
import { recordFromFlat } from './flat-finding.js';

function fim(fields: Record<string, unknown>, n = 1): FindingRecord {
  return recordFromFlat({ kind: 'fim', 'event.action': 'created', ...fields }, n);
}

const tempExec = compileRule(ruleDoc({
  title: 'Executable created in a temp folder',
  level: 'high',
  tags: ['attack.execution', 'attack.t1204.002'],
  detection: {
    sel: { 'event.action': 'created', 'file.path|startswith': '/tmp/' },
    condition: 'sel',
  },
  'x-canhgac': {
    kind: 'event',
    dedup: { key: ['file.path'], suppress: '24h' },
    compliance: { nist_800_53: ['SI-3', 'SI-7'], cis_v8: ['10.1'], tcvn_11930_2017: [] },
    mitre: ['T1204'],
    i18n: { vi: { title: 'Tệp thực thi', remediation: 'Kiểm tra.' }, en: { remediation: 'Check.' } },
  },
}));

describe('evaluationFields', () => {
  it('adds the envelope; the envelope wins over body fields of the same name', () => {
    const r: FindingRecord = {
      id: 'f-1', agentId: 'a-1', hostName: 'srv-01', seq: 3, observedAt: '2025-02-01T00:00:00Z', receivedAt: '2025-02-01T00:00:01Z',
      check: 'listeners', kind: 'listener', family: 'state', stateKey: 'tcp:0.0.0.0:22', snapshotId: 's1',
      fields: { 'server.port': 22, 'host.name': 'spoofed', 'file.attributes': ['x'] },
    };
    expect(evaluationFields(r)).toEqual({
      'server.port': 22,
      'file.attributes': ['x'],
      'agent.id': 'a-1',
      'host.name': 'srv-01',
      'event.kind': 'state',
      'event.id': 'f-1',
      'event.module': 'listeners',
      'canhgac.kind': 'listener',
      'canhgac.state_key': 'tcp:0.0.0.0:22',
      '@timestamp': '2025-02-01T00:00:00Z',
      'canhgac.evaluated_at': '2025-02-01T00:00:01Z',
    });
  });

  it('rules can match envelope fields', () => {
    const r = compileRule(ruleDoc({ detection: { sel: { 'agent.id': 'agent-7', 'event.kind': 'event', 'canhgac.kind': 'fim' }, condition: 'sel' } }));
    expect(evaluate([r], recordFromFlat({ kind: 'fim', 'agent.id': 'agent-7' }))).toHaveLength(1);
    expect(evaluate([r], recordFromFlat({ kind: 'fim', 'agent.id': 'agent-8' }))).toHaveLength(0);
  });
});

describe('evaluate', () => {
  it('one alert upsert per matching rule, with rule, severity, tags and summary', () => {
    const [a, ...rest] = evaluate([tempExec], fim({ 'file.path': '/tmp/tmp.Xa12/run.sh', 'event.id': 'f-9', '@timestamp': '2025-03-01T10:00:00Z' }));
    expect(rest).toEqual([]);
    expect(a).toEqual({
      dedupKey: `${tempExec.id}|agent-test-0001|/tmp/tmp.Xa12/run.sh`,
      rule: { id: tempExec.id, title: 'Executable created in a temp folder', version: '1' },
      severity: 'high',
      agentId: 'agent-test-0001',
      hostName: 'may-tram-01',
      findingIds: ['f-9'],
      seenAt: '2025-03-01T10:00:00Z',
      count: 1,
      tags: { mitre: ['T1204', 'T1204.002'], compliance: { nist_800_53: ['SI-3', 'SI-7'], cis_v8: ['10.1'] } },
      summary: 'Executable created in a temp folder: /tmp/tmp.Xa12/run.sh',
    });
  });

  it('only runs rules whose category is the finding kind', () => {
    const listenerRule = compileRule(ruleDoc({
      id: '99999999-2222-4333-8444-555555555555',
      logsource: { product: 'canhgac', category: 'listener' },
      detection: { sel: { 'server.port': 23 }, condition: 'sel' },
    }));
    const finding = fim({ 'file.path': '/tmp/x', 'server.port': 23 });
    expect(evaluate([tempExec, listenerRule], finding).map((a) => a.rule.id)).toEqual([tempExec.id]);
  });

  it('deprecated and unsupported rules never fire', () => {
    const dep = compileRule({ ...ruleDoc(), status: 'deprecated' });
    expect(evaluate([dep], fim({}))).toEqual([]);
  });

  it('no match, no alert', () => {
    expect(evaluate([tempExec], fim({ 'file.path': '/home/lan/run.sh' }))).toEqual([]);
    expect(evaluate([tempExec], fim({ 'file.path': '/tmp/x', 'event.action': 'deleted' }))).toEqual([]);
  });
});

describe('dedup keys', () => {
  it('an explicit key folds repeats for the same values and always includes agent.id', () => {
    expect(tempExec.dedupFields).toEqual(['agent.id', 'file.path']);
    expect(tempExec.suppressMs).toBe(24 * 3600 * 1000);
    const k1 = evaluate([tempExec], fim({ 'file.path': '/tmp/a' }, 1))[0]!.dedupKey;
    const k2 = evaluate([tempExec], fim({ 'file.path': '/tmp/a' }, 2))[0]!.dedupKey;
    const k3 = evaluate([tempExec], fim({ 'file.path': '/tmp/b' }, 3))[0]!.dedupKey;
    const k4 = evaluate([tempExec], fim({ 'file.path': '/tmp/a', 'agent.id': 'other' }, 4))[0]!.dedupKey;
    expect(k1).toBe(k2);
    expect(new Set([k1, k3, k4]).size).toBe(3);
  });

  it('default key: agent.id + event.id for events, so distinct findings give distinct alerts', () => {
    const r = compileRule(ruleDoc());
    expect(r.dedupFields).toBeUndefined();
    const a = evaluate([r], fim({}, 1))[0]!;
    const b = evaluate([r], fim({}, 2))[0]!;
    expect(a.dedupKey).toBe(`${r.id}|agent-test-0001|test-finding-1`);
    expect(a.dedupKey).not.toBe(b.dedupKey);
  });

  it('default key: agent.id + state key for state findings, so a resent state folds', () => {
    const r = compileRule(ruleDoc({ logsource: { product: 'canhgac', category: 'listener' }, detection: { sel: { 'server.port': 23 }, condition: 'sel' } }));
    const one = recordFromFlat({ kind: 'listener', 'server.port': 23, 'canhgac.state_key': 'tcp:0.0.0.0:23', 'event.id': 'x1' });
    const again = recordFromFlat({ kind: 'listener', 'server.port': 23, 'canhgac.state_key': 'tcp:0.0.0.0:23', 'event.id': 'x2' });
    expect(evaluate([r], one)[0]!.dedupKey).toBe(`${r.id}|agent-test-0001|tcp:0.0.0.0:23`);
    expect(evaluate([r], again)[0]!.dedupKey).toBe(evaluate([r], one)[0]!.dedupKey);
  });

  it('values with | and \\ cannot make two different findings collide', () => {
    const r = compileRule(ruleDoc({ 'x-canhgac': { ...(ruleDoc()['x-canhgac'] as object), dedup: { key: ['a', 'b'] } } }));
    const k = (a: string, b: string) => dedupKeyFor(r, { 'agent.id': 'x', a, b });
    expect(k('p|q', 'r')).not.toBe(k('p', 'q|r'));
    expect(k('p\\', '|r')).not.toBe(k('p\\|', 'r'));
  });
});

describe('summary', () => {
  it('uses the listener address and process for listeners', () => {
    const r = compileRule(ruleDoc({ title: 'Telnet exposed', logsource: { product: 'canhgac', category: 'listener' }, detection: { sel: { 'server.port': 23 }, condition: 'sel' } }));
    const s = (f: Record<string, unknown>) => evaluate([r], recordFromFlat({ kind: 'listener', 'server.port': 23, ...f }))[0]!.summary;
    expect(s({ 'server.ip': '0.0.0.0', 'network.transport': 'tcp', 'process.name': 'inetd' })).toBe('Telnet exposed: 0.0.0.0:23/tcp (inetd)');
    expect(s({ 'server.ip': '::' })).toBe('Telnet exposed: [::]:23');
  });

  it('falls back to the title and is bounded', () => {
    const r = compileRule(ruleDoc({ title: 'T' }));
    expect(evaluate([r], fim({}))[0]!.summary).toBe('T');
    expect(evaluate([r], fim({ 'file.path': `/tmp/${'a'.repeat(1000)}` }))[0]!.summary.length).toBe(300);
  });
});
