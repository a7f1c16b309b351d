/**
 * Windows build-to-fix matching. Hosts come from GENUINE Windows recordings
 * (agent/host/windows/fixtures: CurrentVersion of a Server 2022 at 20348.2762 and of a Server 2019
 * at 17763.720, Get-HotFix of that Server 2019), parsed by the agent's own parsers into the fields
 * the inventory check sends. The fixed builds are the test bundle's windows-builds.json (May 2025,
 * test/fixtures/feed/README.md). Where a test needs data the recordings do not have, it says
 * HAND-WRITTEN.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { windowsOsFields } from '../../agent/checks/inventory/host-fields.js';
import { hotfixFields } from '../../agent/checks/packages/windows-items.js';
import { parseHotfixes } from '../../agent/host/windows/hotfix.js';
import { parseCurrentVersion } from '../../agent/host/windows/os-version.js';
import type { Fields, FindingRecord } from '../../common/finding.js';
import { verifyBundle } from './bundle.js';
import { evaluateHost } from './findings.js';
import { buildFeedIndex } from './match.js';
import { REPO_ROOT, TEST_BUNDLE, testTrustedKey } from './testing/fixtures.js';
import { buildWindowsIndex, hotfixSet, matchWindows, parseWindowsBuilds, windowsHostOf, WINDOWS_BUILDS_SCHEMA } from './windows.js';

const WIN = join(REPO_ROOT, 'agent', 'host', 'windows', 'fixtures');
const feed = verifyBundle(readFileSync(TEST_BUNDLE), [testTrustedKey()]);
const table = parseWindowsBuilds(JSON.parse(feed.files.get('windows-builds.json')!.toString('utf8')), 'windows-builds.json');
const index = buildFeedIndex([...feed.osv.values()].flat(), feed.kev, table);
const kev = index.kev;

function hostFields(file: string, extra: Fields = {}): Fields {
  const v = parseCurrentVersion(readFileSync(join(WIN, file), 'utf8'));
  return { 'host.os.platform': 'windows', 'host.os.type': 'windows', 'host.architecture': 'x86_64', ...windowsOsFields(v), ...extra };
}

const ws2019 = hostFields('CurrentVersion.ws2019.cnquery.json');
const ws2022 = hostFields('CurrentVersion.ws2022.cnquery.json');
const hotfixes2019 = parseHotfixes(readFileSync(join(WIN, 'Get-HotFix.ws2019.cnquery.json'), 'utf8')).hotfixes.map((h) => ({ fields: hotfixFields(h) }));

describe('the Windows host of a recorded inventory', () => {
  it('Server 2022 (20348.2762, ServerDatacenter) and Server 2019 (17763.720, ServerDatacenterEval)', () => {
    expect(windowsHostOf(ws2022)).toEqual({ version: '10.0.20348.2762', build: 20348, ubr: 2762, class: 'server', arch: 'x64', product: 'Windows Server 2022' });
    expect(windowsHostOf(ws2019)).toEqual({ version: '10.0.17763.720', build: 17763, ubr: 720, class: 'server', arch: 'x64', product: 'Windows Server 2019' });
  });

  it('a client edition on a shared build is Windows 10/11, and without edition or name a shared build is undecided', () => {
    expect(windowsHostOf({ 'host.os.version': '10.0.17763.720', 'host.os.edition': 'Professional' })).toMatchObject({ class: 'client', product: 'Windows 10 Version 1809' });
    expect(windowsHostOf({ 'host.os.version': '10.0.26100.4061', 'host.os.name': 'Windows 11 Pro' })).toMatchObject({ class: 'client', product: 'Windows 11 Version 24H2' });
    expect(windowsHostOf({ 'host.os.version': '10.0.26100.100' })).toMatchObject({ class: undefined, product: undefined });
    // EditionID ServerRdsh is Windows 10/11 Enterprise multi-session, a client product for Microsoft's update guide
    expect(windowsHostOf({ 'host.os.version': '10.0.26100.4061', 'host.os.edition': 'ServerRdsh', 'host.os.name': 'Windows 10 Enterprise multi-session' }))
      .toMatchObject({ class: 'client', product: 'Windows 11 Version 24H2' });
    expect(windowsHostOf({ 'host.os.version': '10.0.17763.720', 'host.os.edition': 'ServerRdsh' })).toMatchObject({ class: 'client', product: 'Windows 10 Version 1809' });
    expect(windowsHostOf({ 'host.os.version': '10.0.19045.100' })).toMatchObject({ class: 'client', product: 'Windows 10 Version 22H2' });
    // "cannot evaluate", with a reason that is true for the input (HAND-WRITTEN versions)
    expect(windowsHostOf({ 'host.os.version': '10.0.20348' })).toEqual({ reason: 'host.os.version "10.0.20348" has no UBR (update build revision): the installed cumulative update is unknown, so the build cannot be compared with fixed builds' });
    expect(windowsHostOf({ 'host.os.version': '6.3.9600.21620' })).toEqual({ reason: 'host.os.version "6.3.9600.21620" is Windows NT 6.3 (build 9600), older than Windows 10: the fixed-build table covers Windows 10/11 and Server 2016 and later only' });
    expect(windowsHostOf({})).toEqual({ reason: 'the inventory has no host.os.version: the Windows build (10.0.<build>.<UBR>) cannot be compared' });
    expect(windowsHostOf({ 'host.os.version': '10.0.x.1' })).toEqual({ reason: 'host.os.version "10.0.x.1" is not a Windows build 10.0.<build>.<UBR>' });
  });
});

describe('product by build number, as Microsoft\'s update guide names them (HAND-WRITTEN versions, real build numbers)', () => {
  it.each([
    ['10.0.17763.7314', 'ServerStandard', 'server', 'Windows Server 2019'],
    ['10.0.17763.7314', 'EnterpriseS', 'client', 'Windows 10 Version 1809'],
    ['10.0.20348.3692', 'ServerDatacenter', 'server', 'Windows Server 2022'],
    ['10.0.22621.5335', 'Professional', 'client', 'Windows 11 Version 22H2'],
    ['10.0.22631.5335', 'Professional', 'client', 'Windows 11 Version 23H2'],
    ['10.0.25398.1611', 'ServerDatacenterACor', 'server', 'Windows Server 2022, 23H2 Edition'],
    ['10.0.26100.4061', 'ServerDatacenter', 'server', 'Windows Server 2025'],
    ['10.0.26100.4061', 'Enterprise', 'client', 'Windows 11 Version 24H2'],
  ])('%s %s → %s %s', (version, edition, cls, product) => {
    expect(windowsHostOf({ 'host.os.version': version, 'host.os.edition': edition })).toMatchObject({ class: cls, product });
  });

  it('22621 and 22631 share a servicing stream but are separate branches: a 22631 row never applies to a 22621 host (HAND-WRITTEN rows)', () => {
    const own = buildWindowsIndex(parseWindowsBuilds({
      schema: WINDOWS_BUILDS_SCHEMA, source: 'hand-written test rows',
      fixes: [{ cve: 'CVE-2025-29966', product: 'Windows 11 Version 23H2 for x64-based Systems', fixed_build: '10.0.22631.5335', kb: 'KB5058405' }],
    }, 'test'));
    const h22 = windowsHostOf({ 'host.os.version': '10.0.22621.5000', 'host.os.edition': 'Professional', 'host.architecture': 'x86_64' });
    const h23 = windowsHostOf({ 'host.os.version': '10.0.22631.5000', 'host.os.edition': 'Professional', 'host.architecture': 'x86_64' });
    if ('reason' in h22 || 'reason' in h23) throw new Error('unexpected');
    expect(matchWindows(h22, new Set(), own, kev)).toMatchObject({ matches: [], reason: 'the feed has no fixed-build data for build 22621 (Windows 11 Version 22H2)' });
    expect(matchWindows(h23, new Set(), own, kev).matches.map((m) => m.fixedVersion)).toEqual(['10.0.22631.5335']);
  });
});

describe('matching the recorded Server 2019 against the May 2025 fixed builds', () => {
  const host = windowsHostOf(ws2019);
  if ('reason' in host) throw new Error(host.reason);

  it('its UBR 720 is below the fixed 7314 of every Server 2019 fix; its recorded hotfixes (early 2019) do not include KB5058392', () => {
    expect(hotfixSet(hotfixes2019).has('KB4470788')).toBe(true);
    const r = matchWindows(host, hotfixSet(hotfixes2019), index.windows!, kev);
    expect(r.reason).toBeUndefined();
    expect(r.matches.map((m) => `${m.id} ${m.fixedVersion} kev=${m.kev} ${m.severity} ${m.score}`)).toEqual([
      'CVE-2025-29966 10.0.17763.7314 kev=false high 8.8',
      'CVE-2025-29968 10.0.17763.7314 kev=false medium 6.5',
      'CVE-2025-30400 10.0.17763.7314 kev=true high 7.8',
    ]);
    expect(r.matches[2]!.explanation).toBe('installed 10.0.17763.720 < fixed 10.0.17763.7314 (KB5058392) for Windows Server 2019; same servicing branch (build 17763), UBR 720 < 7314; KB5058392 is not among the installed hotfixes');
    expect(r.matches[2]).toMatchObject({ ecosystem: 'Windows', cves: ['CVE-2025-30400'], kevDateAdded: '2025-05-13', fixAvailable: true, package: { name: 'Windows Server 2019', version: '10.0.17763.720' } });
  });

  it('at the fixed UBR, or past it, nothing is reported', () => {
    expect(matchWindows({ ...host, ubr: 7314, version: '10.0.17763.7314' }, new Set(), index.windows!, kev).matches).toEqual([]);
    expect(matchWindows({ ...host, ubr: 7792, version: '10.0.17763.7792' }, new Set(), index.windows!, kev).matches).toEqual([]);
    expect(matchWindows({ ...host, ubr: 7313, version: '10.0.17763.7313' }, new Set(), index.windows!, kev).matches).toHaveLength(3);
  });

  it('the fixing KB listed as installed while the UBR is still 720 (restart pending) does not make the host fixed; the explanation says so (HAND-WRITTEN hotfix entry added to the recorded list)', () => {
    // Windows Update history reports a cumulative update "succeeded" before the restart that raises the
    // UBR; until then the old build runs, vulnerable. Before the review this counted as fixed.
    const withKb = hotfixSet([...hotfixes2019, { fields: { 'package.name': 'KB5058392', 'package.type': 'hotfix' } }]);
    const r = matchWindows(host, withKb, index.windows!, kev);
    expect(r.matches.map((m) => m.id)).toEqual(['CVE-2025-29966', 'CVE-2025-29968', 'CVE-2025-30400']);
    expect(r.installedNotRunning.map((x) => `${x.cve} ${x.kb}`)).toEqual(['CVE-2025-29966 KB5058392', 'CVE-2025-29968 KB5058392', 'CVE-2025-30400 KB5058392']);
    expect(r.matches[2]!.explanation).toBe('installed 10.0.17763.720 < fixed 10.0.17763.7314 (KB5058392) for Windows Server 2019; same servicing branch (build 17763), UBR 720 < 7314; KB5058392 is listed as installed but the host still runs UBR 720: the update takes effect after a restart (restart pending, or the update was rolled back)');
  });

  it('KBs of other products (Windows 10 22H2, Windows 11 24H2 / Server 2025) and superseded ones (the recorded 2019 KBs) do not mark it fixed', () => {
    const other = hotfixSet([...hotfixes2019, ...['KB5058379', 'KB5058411', 'KB5058384'].map((kb) => ({ fields: { 'package.name': kb, 'package.type': 'hotfix' } }))]);
    const r = matchWindows(host, other, index.windows!, kev);
    expect(r.matches).toHaveLength(3);
    expect(r.installedNotRunning).toEqual([]);
    expect(r.matches.every((m) => m.explanation.endsWith('KB5058392 is not among the installed hotfixes'))).toBe(true);
  });

  it('the same build as Windows 10 1809 (a client) gets no Server fixes, and says it could not be compared (not a silent "nothing missing")', () => {
    const client = windowsHostOf({ ...ws2019, 'host.os.edition': 'Enterprise' });
    if ('reason' in client) throw new Error(client.reason);
    const r = matchWindows(client, new Set(), index.windows!, kev);
    expect(r.matches).toEqual([]);
    expect(r.reason).toBe('the feed has fixed-build data for build 17763 only for Windows Server products, none for Windows 10 Version 1809 (client)');
  });

  it('an architecture the branch has no rows for is "cannot compare", not "nothing missing" (HAND-WRITTEN rows: real KB5058411 / 26100.4061 of May 2025)', () => {
    const own = buildWindowsIndex(parseWindowsBuilds({
      schema: WINDOWS_BUILDS_SCHEMA, source: 'hand-written test rows',
      fixes: [{ cve: 'CVE-2025-29966', product: 'Windows 11 Version 24H2 for x64-based Systems', fixed_build: '10.0.26100.4061', kb: 'KB5058411' }],
    }, 'test'));
    const arm = windowsHostOf({ 'host.os.version': '10.0.26100.3000', 'host.os.edition': 'Professional', 'host.architecture': 'arm64' });
    if ('reason' in arm) throw new Error(arm.reason);
    expect(matchWindows(arm, new Set(), own, kev)).toMatchObject({ matches: [], reason: 'the feed has fixed-build data for Windows 11 Version 24H2 (build 26100) only for x64, none for ARM64' });
    const x64 = windowsHostOf({ 'host.os.version': '10.0.26100.3000', 'host.os.edition': 'Professional', 'host.architecture': 'x86_64' });
    if ('reason' in x64) throw new Error(x64.reason);
    expect(matchWindows(x64, new Set(), own, kev).matches.map((m) => m.id)).toEqual(['CVE-2025-29966']);
  });
});

describe('the recorded Server 2022 (20348.2762)', () => {
  it('the May 2025 table has no 20348 rows (the mapping it comes from names only the 23H2 Edition, build 25398): nothing matched, and it says why', () => {
    const host = windowsHostOf(ws2022);
    if ('reason' in host) throw new Error(host.reason);
    const r = matchWindows(host, new Set(), index.windows!, kev);
    expect(r).toEqual({ matches: [], installedNotRunning: [], reason: 'the feed has no fixed-build data for build 20348 (Windows Server 2022)' });
  });

  it('against a 20348 fix it is affected, with the explanation (HAND-WRITTEN table row: placeholder CVE, real KB5046616 = 20348.2849 of November 2024)', () => {
    const own = buildWindowsIndex(parseWindowsBuilds({
      schema: WINDOWS_BUILDS_SCHEMA, source: 'hand-written test row',
      fixes: [
        { cve: 'CVE-2099-0001', product: 'Windows Server 2022', fixed_build: '10.0.20348.2849', kb: 'KB5046616', severity: 'Important' },
        { cve: 'CVE-2099-0001', product: 'Windows Server 2022 (Server Core installation)', fixed_build: '10.0.20348.2849', kb: 'KB5046616', severity: 'Important' },
        { cve: 'CVE-2099-0002', product: 'Windows 11 Version 24H2 for x64-based Systems', fixed_build: '10.0.26100.2314', kb: 'KB5046617' },
      ],
    }, 'test'));
    const host = windowsHostOf(ws2022);
    if ('reason' in host) throw new Error(host.reason);
    const r = matchWindows(host, new Set(), own, kev);
    expect(r.matches).toHaveLength(1);
    expect(r.matches[0]!.explanation).toMatch(/^installed 10\.0\.20348\.2762 < fixed 10\.0\.20348\.2849 \(KB5046616\) for Windows Server 2022;/);
    expect(r.matches[0]).toMatchObject({ severity: 'high', severitySource: 'distribution', score: null });
  });
});

describe('evaluateHost for a Windows host (the collector path)', () => {
  const rec = (fields: Fields, kind: 'host' | 'package', stateKey: string): FindingRecord => ({
    id: stateKey, agentId: 'a1', hostName: 'WIN', seq: 0, observedAt: '2026-05-02T00:00:00Z', receivedAt: '2026-05-02T00:00:00Z',
    check: 'inventory', kind, family: 'state', stateKey, snapshotId: 's', fields,
  } as FindingRecord);

  it('one vulnerability finding per CVE on the OS, with the explanation and the KEV flag', () => {
    const ev = evaluateHost({
      agentId: 'a1', hostName: 'WIN', host: rec(ws2019, 'host', 'host'),
      packages: hotfixes2019.map((h, i) => rec(h.fields, 'package', `hotfix:${i}`)), previous: [],
    }, index, 'feed-1', new Date('2026-05-02T00:00:00Z'));
    expect(ev.ecosystem).toBe('Windows');
    expect(ev.skippedReason).toBeUndefined();
    expect(ev.findings.map((f) => f.stateKey)).toEqual(['CVE-2025-29966:os', 'CVE-2025-29968:os', 'CVE-2025-30400:os']);
    const f = ev.findings[2]!.fields;
    expect(f).toMatchObject({
      'vulnerability.id': 'CVE-2025-30400', 'vulnerability.kev': true, 'vulnerability.fixed_version': '10.0.17763.7314',
      'package.name': 'Windows Server 2019', 'package.version': '10.0.17763.720', 'package.type': 'os',
      'package.source.name': 'Windows Server 2019', 'package.architecture': 'x64', 'vulnerability.fix_available': true,
    });
    expect(ev.findings.every((x) => x.fields['vulnerability.first_seen'] === '2026-05-02T00:00:00.000Z')).toBe(true);
    expect(String(f['vulnerability.explanation'])).toContain('(KB5058392) for Windows Server 2019');
  });

  it('a Windows host and a feed without Windows data: nothing, and why', () => {
    const noWin = buildFeedIndex([...feed.osv.values()].flat(), feed.kev);
    const ev = evaluateHost({ agentId: 'a1', hostName: 'WIN', host: rec(ws2019, 'host', 'host'), packages: [], previous: [] }, noWin, 'f', new Date());
    expect(ev).toMatchObject({ ecosystem: 'Windows', findings: [], skippedReason: 'the feed has no Windows fixed-build data (windows-builds.json)' });
  });
});

describe('windows-builds.json validation', () => {
  it('names the entry and field at fault', () => {
    expect(() => parseWindowsBuilds({ schema: WINDOWS_BUILDS_SCHEMA, source: 's', fixes: [{ cve: 'CVE-2025-1', product: 'p', fixed_build: '10.0.1.2', kb: 'KB5' }] }, 'w.json'))
      .toThrow(/fixes\.0\.cve: a CVE id/);
    expect(() => parseWindowsBuilds({ schema: WINDOWS_BUILDS_SCHEMA, source: 's', fixes: [{ cve: 'CVE-2025-1234', product: 'p', fixed_build: '20348.2849', kb: 'KB5046616' }] }, 'w.json'))
      .toThrow(/fixes\.0\.fixed_build: 10\.0\.<build>\.<UBR>/);
    expect(() => parseWindowsBuilds([], 'w.json')).toThrow(/COLLECTOR_WINDOWS_BUILDS_INVALID|not a Windows fixed-build table/);
  });

  it('refuses rows the matcher would misread, naming the row: a product that is not Windows, a server product on a client-only build (HAND-WRITTEN rows)', () => {
    const table = (row: object): unknown => ({ schema: WINDOWS_BUILDS_SCHEMA, source: 's', fixes: [table0, row] });
    const table0 = { cve: 'CVE-2025-29966', product: 'Windows Server 2019', fixed_build: '10.0.17763.7314', kb: 'KB5058392' };
    expect(() => parseWindowsBuilds(table({ ...table0, product: 'Microsoft Office LTSC 2021 for 64-bit editions' }), 'w.json'))
      .toThrow('not a Windows fixed-build table: fixes.1 (CVE-2025-29966, "Microsoft Office LTSC 2021 for 64-bit editions"): the product is not Windows');
    expect(() => parseWindowsBuilds(table({ ...table0, fixed_build: '10.0.19045.5854' }), 'w.json'))
      .toThrow('fixes.1 (CVE-2025-29966, "Windows Server 2019"): build 19045 is Windows 10 Version 22H2, which has no Windows Server release');
    expect(() => parseWindowsBuilds(table({ ...table0, product: 'Windows 11 Version 24H2 for x64-based Systems', fixed_build: '10.0.20348.3692' }), 'w.json'))
      .toThrow(/build 20348 is Windows Server 2022, which has no Windows client release/);
    // the error carries the file
    let err: unknown;
    try { parseWindowsBuilds(table({ ...table0, product: 'Office' }), 'bundle/windows-builds.json'); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'COLLECTOR_WINDOWS_BUILDS_INVALID', where: 'bundle/windows-builds.json' });
    // the shipped table passes
    expect(parseWindowsBuilds(JSON.parse(feed.files.get('windows-builds.json')!.toString('utf8')), 'windows-builds.json').fixes).toHaveLength(14);
  });
});
