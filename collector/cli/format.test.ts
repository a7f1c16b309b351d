import { describe, expect, it } from 'vitest';
import type { FindingKind, FindingRecord } from '../../common/finding.js';
import { findingsTable } from './format.js';

const rec = (kind: FindingKind, fields: FindingRecord['fields']): FindingRecord => ({
  id: 'f-00000001', agentId: 'a1', hostName: 'pc-01', seq: 1, observedAt: '2026-11-28T03:35:49.059Z', receivedAt: '2026-11-28T03:35:49.100Z',
  check: 'packages', kind, family: kind === 'health' ? 'event' : 'state', stateKey: 'k', snapshotId: '', fields,
});

describe('findings table', () => {
  it('shows the columns of each kind people triage by, booleans as yes/no', () => {
    const out = findingsTable('update', [rec('update', {
      'package.name': 'libgcrypt20', 'package.version': '1.10.1-3', 'update.version': '1.10.1-3+deb12u1', 'update.security': true,
    })]);
    const [header, , row] = out.split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['HOST', 'PACKAGE', 'INSTALLED', 'CANDIDATE', 'SECURITY', 'SEVERITY']);
    expect(row!.trim().split(/\s{2,}/)).toEqual(['pc-01', 'libgcrypt20', '1.10.1-3', '1.10.1-3+deb12u1', 'yes']);
    const fw = findingsTable('firewall', [rec('firewall', { 'firewall.product': 'nftables', 'firewall.profile': 'all', 'firewall.enabled': false, 'firewall.default_inbound': 'allow', 'firewall.rules.count': 0 })]);
    expect(fw.split('\n')[2]!.trim().split(/\s{2,}/)).toEqual(['pc-01', 'nftables', 'all', 'no', 'allow', '0']);
    const health = findingsTable('health', [rec('health', { 'agent.health.check': 'fim', 'event.action': 'baseline_created', 'agent.health.message': 'FIM baseline created' })]);
    expect(health.split('\n')[2]).toContain('FIM baseline created');
  });
});
