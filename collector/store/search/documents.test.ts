import { describe, expect, it } from 'vitest';
import type { FindingRecord } from '../../../common/finding.js';
import type { Alert } from '../types.js';
import { alertToDoc, docToAlert, docToFinding, findingToDoc } from './documents.js';

const base: FindingRecord = {
  id: 'f-1', agentId: 'agent-1', hostName: 'PC-01', seq: 42, observedAt: '2025-03-01T10:00:00.000Z', receivedAt: '2025-03-01T10:00:01.000Z',
  check: 'fim', kind: 'fim', family: 'event', stateKey: '', snapshotId: '', fields: {},
};

describe('finding documents', () => {
  it('are nested ECS with the envelope at its ECS places', () => {
    const doc = findingToDoc({ ...base, fields: { 'file.path': '/etc/passwd', 'event.action': 'modified', 'file.size': 10 } });
    expect(doc).toMatchObject({
      '@timestamp': base.observedAt,
      event: { id: 'f-1', kind: 'event', dataset: 'canhgac.fim', module: 'fim', ingested: base.receivedAt, sequence: 42, action: 'modified' },
      agent: { id: 'agent-1' }, host: { name: 'PC-01' }, file: { path: '/etc/passwd', size: 10 },
      canhgac: { kind: 'fim', state_key: '', snapshot_id: '' },
    });
    expect((doc.canhgac as Record<string, unknown>).overlap).toBeUndefined();
  });

  it('read back exactly, including fields the envelope shadows and leaves that are also parents', () => {
    const tricky: FindingRecord = {
      ...base, kind: 'host', family: 'state', stateKey: 'host', snapshotId: 'snap-7',
      fields: {
        'host.name': 'pc-01.example.vn', 'host': 'odd', 'event.kind': 'weird', '@timestamp': 'x', 'file': 'leaf', 'file.path': '/a',
        'canhgac.overlap': 'y', 'canhgac.overlap.z': 1, 'canhgac.rejected.id': 'r', 'host.ip': ['10.0.0.1', 'fe80::1'],
        'update.security': true, 'vulnerability.score.base': 9.8, 'tags': [],
      },
    };
    const doc = JSON.parse(JSON.stringify(findingToDoc(tricky, { findingIndex: 'x-findings-2025.03', updatedAt: base.receivedAt })));
    expect(docToFinding(doc)).toEqual(tricky);
    expect(doc.host.name).toBe('PC-01');
  });
});

describe('alert documents', () => {
  it('read back exactly', () => {
    const a: Alert = {
      id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', dedupKey: 'k', rule: { id: 'r1', title: 'Tiêu đề', version: '2' }, severity: 'high',
      status: 'in_progress', agentId: 'agent-1', hostName: 'PC-01', findingIds: ['f1', 'f2'], firstSeen: '2025-01-01T00:00:00.000Z',
      lastSeen: '2025-01-02T00:00:00.000Z', count: 3, tags: { mitre: ['T1190'], compliance: { tcvn_11930_2017: ['4.1'] } }, summary: 's',
      version: 4, updatedAt: '2025-01-02T00:00:01.000Z',
    };
    const doc = JSON.parse(JSON.stringify(alertToDoc(a)));
    expect(doc).toMatchObject({ rule: { id: 'r1', name: 'Tiêu đề' }, event: { kind: 'alert', severity: 3 }, threat: { technique: { id: ['T1190'] } } });
    expect(docToAlert(doc)).toEqual(a);
  });
});
