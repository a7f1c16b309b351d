import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingKind, FindingRecord } from '../../common/finding.js';
import { programDir } from '../app.js';
import { loadRuleSet } from '../engine/index.js';
import type { Alert } from '../store/types.js';
import { alertDocument, findingsTable } from './format.js';

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

describe('alert document (--json)', () => {
  const alert = (ruleId: string, title: string): Alert => ({
    id: 'al-1', dedupKey: 'k', rule: { id: ruleId, title, version: '2025-01-20' }, severity: 'medium', status: 'open', agentId: 'a1', hostName: 'pc-01',
    findingIds: ['f-1'], firstSeen: '2026-11-28T03:35:49.059Z', lastSeen: '2026-11-28T03:35:49.059Z', count: 1,
    tags: { mitre: ['T1565.001'], compliance: { nist_800_53: ['SI-7'] } }, summary: `${title}: /etc/hosts`, version: 1, updatedAt: '2026-11-28T03:35:49.100Z',
  });

  it('carries the Vietnamese title of a shipped rule next to the English one, as the rule file gives it', () => {
    const shipped = loadRuleSet(join(programDir(), 'rules', 'detection')).rules;
    expect(shipped.length).toBeGreaterThan(0);
    for (const r of shipped) {
      const doc = alertDocument(alert(r.id, r.title)) as { rule: Record<string, unknown> };
      expect(doc.rule, r.id).toEqual({ id: r.id, title: r.title, title_vi: r.doc['x-canhgac'].i18n.vi.title, version: '2025-01-20' });
    }
    const hosts = alertDocument(alert('4d77ca12-67fc-48d3-83da-6a52980b30fd', 'Hosts file changed')) as { rule: Record<string, unknown> };
    expect(hosts.rule.title_vi).toBe('Tệp hosts bị thay đổi');
  });

  it('leaves title_vi out for a rule the shipped ruleset does not have', () => {
    const doc = alertDocument(alert('00000000-0000-4000-8000-000000000000', 'Custom rule')) as { rule: Record<string, unknown> };
    expect(doc.rule).toEqual({ id: '00000000-0000-4000-8000-000000000000', title: 'Custom rule', version: '2025-01-20' });
  });
});
