import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Fields, FindingRecord } from '../../common/finding.js';
import { parseDpkgQuery } from '../../agent/host/linux/dpkg.js';
import { dpkgFields, toItems } from '../../agent/checks/packages/package-items.js';
import { verifyBundle } from './bundle.js';
import { evaluateHost } from './findings.js';
import { buildFeedIndex } from './match.js';
import { resolutionReason } from './service.js';
import { FEED_FIXTURES, TEST_BUNDLE, testTrustedKey } from './testing/fixtures.js';

const feed = verifyBundle(readFileSync(TEST_BUNDLE), [testTrustedKey()]);
const index = buildFeedIndex(feed.osv.get('Debian:12')!, feed.kev);
const NOW = new Date('2026-12-01T00:00:00.000Z');

function rec(kind: FindingRecord['kind'], stateKey: string, fields: Fields): FindingRecord {
  return { id: `${kind}-${stateKey}`, agentId: 'a1', hostName: 'h1', seq: 1, observedAt: NOW.toISOString(), receivedAt: NOW.toISOString(), check: 'x', kind, family: 'state', stateKey, snapshotId: 's', fields };
}

const packages = toItems(parseDpkgQuery(readFileSync(`${FEED_FIXTURES}/dpkg-query.debian12.txt`, 'utf8')).packages.map(dpkgFields))
  .map((o) => rec('package', o.stateKey!, o.fields));
const host = rec('host', 'host', { 'host.os.platform': 'debian', 'host.os.version': '12' });
let n = 0;
const ids = (): string => `id-${++n}`;

describe('evaluateHost', () => {
  it('reports fixable and unfixed advisories per installed binary; Debian "unimportant" without a fix only when asked', () => {
    const ev = evaluateHost({ agentId: 'a1', hostName: 'h1', host, packages, previous: [] }, index, 'feed-1', NOW, {}, ids);
    expect(ev.ecosystem).toBe('Debian:12');
    expect(ev.matches).toBe(6);
    expect(ev.hidden).toBe(3);
    expect(new Set(ev.findings.map((f) => f.fields['vulnerability.id']))).toEqual(new Set(['DEBIAN-CVE-2023-50495', 'DEBIAN-CVE-2024-8176', 'DEBIAN-CVE-2025-40909']));
    expect(ev.findings.every((f) => f.snapshotId === ev.snapshotId && f.kind === 'vulnerability' && f.observedAt === NOW.toISOString())).toBe(true);
    const all = evaluateHost({ agentId: 'a1', hostName: 'h1', host, packages, previous: [] }, index, 'feed-1', NOW, { includeUnimportant: true }, ids);
    expect(all.hidden).toBe(0);
    const glibc = all.findings.filter((f) => f.fields['vulnerability.id'] === 'DEBIAN-CVE-2010-4756');
    expect(glibc.map((f) => f.fields['package.name']).sort()).toContain('libc6');
    expect(glibc[0]!.fields['vulnerability.distribution_rating']).toBe('unimportant');
  });

  it('carries first_seen and fix_available_since from the previous evaluation', () => {
    const first = evaluateHost({ agentId: 'a1', hostName: 'h1', host, packages, previous: [] }, index, 'feed-1', new Date('2026-01-01T00:00:00Z'), {}, ids);
    const later = evaluateHost({ agentId: 'a1', hostName: 'h1', host, packages, previous: first.findings }, index, 'feed-1', NOW, {}, ids);
    for (const f of later.findings) {
      expect(f.fields['vulnerability.first_seen']).toBe('2026-01-01T00:00:00.000Z');
      if (f.fields['vulnerability.fix_available'] === true) expect(f.fields['vulnerability.fix_available_since']).toBe('2026-01-01T00:00:00.000Z');
    }
  });

  it('matches nothing without a host inventory or for an OS without advisories', () => {
    expect(evaluateHost({ agentId: 'a1', hostName: 'h1', host: undefined, packages, previous: [] }, index, 'f', NOW).skippedReason).toBe('no host inventory yet');
    const win = rec('host', 'host', { 'host.os.platform': 'windows', 'host.os.version': '10.0.22631' });
    const ev = evaluateHost({ agentId: 'a1', hostName: 'h1', host: win, packages, previous: [] }, index, 'f', NOW);
    expect(ev.findings).toEqual([]);
    expect(ev.skippedReason).toMatch(/windows/);
  });
});

describe('resolutionReason', () => {
  const prev = rec('vulnerability', 'DEBIAN-CVE-2024-8176:libexpat1:amd64', {
    'vulnerability.id': 'DEBIAN-CVE-2024-8176', 'package.name': 'libexpat1', 'package.version': '2.5.0-1+deb12u1', 'vulnerability.fixed_version': '2.5.0-1+deb12u2',
  });
  it('names the upgrade, the removal, or the feed change', () => {
    const upgraded = new Map([['libexpat1:amd64', rec('package', 'libexpat1:amd64', { 'package.name': 'libexpat1', 'package.version': '2.5.0-1+deb12u2' })]]);
    expect(resolutionReason(prev, upgraded, 'feed-2')).toBe('resolved by patch: libexpat1 2.5.0-1+deb12u1 → 2.5.0-1+deb12u2 (fixed in 2.5.0-1+deb12u2); DEBIAN-CVE-2024-8176 no longer matches (feed feed-2)');
    expect(resolutionReason(prev, new Map(), 'feed-2')).toBe('resolved: package libexpat1 2.5.0-1+deb12u1 is no longer installed; DEBIAN-CVE-2024-8176 no longer applies');
    const same = new Map([['libexpat1:amd64', rec('package', 'libexpat1:amd64', { 'package.name': 'libexpat1', 'package.version': '2.5.0-1+deb12u1' })]]);
    expect(resolutionReason(prev, same, 'feed-2')).toMatch(/no longer lists libexpat1 2\.5\.0-1\+deb12u1 as affected in feed feed-2/);
  });
});
