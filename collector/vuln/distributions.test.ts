/**
 * Ubuntu and AlmaLinux hosts against the REAL Ubuntu and AlmaLinux OSV records of the shipped test
 * bundle (test/fixtures/feed/README.md cites each record).
 *
 * The host inventories below are CONSTRUCTED, not recorded: no genuine `dpkg-query`/`rpm -qa`
 * output of an Ubuntu or RHEL-family host in our format was found (docs/vulnerability-data.md
 * §11). They are written in the agent's own query formats and parsed by the agent's parsers, and
 * their versions are ones the distributions published (the Ubuntu ones are listed in the record's
 * own `versions[]`). The advisories, the version orders and the explanations are what is tested.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDpkgQuery } from '../../agent/host/linux/dpkg.js';
import { parseRpmQuery } from '../../agent/host/linux/rpm.js';
import { verifyBundle } from './bundle.js';
import { hostOs } from './host-os.js';
import type { InstalledPackage } from './inventory.js';
import { buildFeedIndex, companionEcosystems, matchInventory, type VulnMatch } from './match.js';
import type { OsvRecord } from './osv.js';
import { FEED_FIXTURES, TEST_BUNDLE, testTrustedKey } from './testing/fixtures.js';

const feed = verifyBundle(readFileSync(TEST_BUNDLE), [testTrustedKey()]);
const all: OsvRecord[] = [...feed.osv.values()].flat();
const index = buildFeedIndex(all, feed.kev);

function deb(text: string): InstalledPackage[] {
  return parseDpkgQuery(text).packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture, type: 'deb', source: { name: p.sourceName, version: p.sourceVersion } }));
}

function rpm(text: string): InstalledPackage[] {
  return parseRpmQuery(text).packages.map((p) => ({
    name: p.name, version: p.version, architecture: p.architecture, type: 'rpm',
    ...(p.sourceName !== undefined ? { source: { name: p.sourceName, version: p.sourceVersion } } : {}),
  }));
}

function summary(ms: VulnMatch[]): string[] {
  return ms.map((m) => `${m.id} ${m.ecosystem} ${m.package.name} ${m.installedVersion} fixed=${m.fixedVersion ?? 'none'} kev=${m.kev} ${m.severity}`);
}

const rows = (lines: string[][]): string => lines.map((l) => l.join('\t')).join('\n') + '\n';

describe('Ubuntu 22.04 LTS host (CONSTRUCTED inventory) against Ubuntu record CVE-2024-0727', () => {
  const ecosystem = hostOs({ 'host.os.platform': 'ubuntu', 'host.os.version': '22.04' }).ecosystem!;
  const host = deb(rows([
    ['ii ', 'libssl3', '3.0.2-0ubuntu1.10', 'openssl', '3.0.2-0ubuntu1.10', 'amd64'],
    ['ii ', 'openssl', '3.0.2-0ubuntu1.10', 'openssl', '3.0.2-0ubuntu1.10', 'amd64'],
    ['ii ', 'libnode72', '12.22.9~dfsg-1ubuntu3.6', 'nodejs', '12.22.9~dfsg-1ubuntu3.6', 'amd64'],
    ['ii ', 'nodejs', '12.22.9~dfsg-1ubuntu3.6', 'nodejs', '12.22.9~dfsg-1ubuntu3.6', 'amd64'],
    ['ii ', 'bash', '5.1-6ubuntu1.1', 'bash', '5.1-6ubuntu1.1', 'amd64'],
  ]));

  it('the host is Ubuntu:22.04:LTS (the suffix OSV requires); its Pro companion is Ubuntu:Pro:22.04:LTS', () => {
    expect(ecosystem).toBe('Ubuntu:22.04:LTS');
    expect(companionEcosystems(ecosystem)).toEqual(['Ubuntu:Pro:22.04:LTS']);
    let err: unknown;
    try { matchInventory(host, index, 'Ubuntu:22.04'); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'COLLECTOR_ECOSYSTEM_UNKNOWN', hint: 'use Ubuntu:22.04:LTS' });
  });

  it('matches by source package with the dpkg order and explains each match', () => {
    const ms = matchInventory(host, index, ecosystem);
    expect(summary(ms)).toEqual([
      'CVE-2024-0727 Ubuntu:22.04:LTS nodejs 12.22.9~dfsg-1ubuntu3.6 fixed=none kev=false medium',
      'CVE-2024-0727 Ubuntu:22.04:LTS openssl 3.0.2-0ubuntu1.10 fixed=3.0.2-0ubuntu1.14 kev=false medium',
    ]);
    const [node, ssl] = ms;
    expect(ssl!.explanation).toBe('installed 3.0.2-0ubuntu1.10 < fixed 3.0.2-0ubuntu1.14 (dpkg order); affected range introduced 0; source package openssl of libssl3, openssl');
    expect(ssl).toMatchObject({ score: 5.5, severitySource: 'cvss', distributionRating: 'low', cves: ['CVE-2024-0727'], fixAvailable: true });
    expect(node!.explanation).toBe('installed 12.22.9~dfsg-1ubuntu3.6: no fixed version is listed for Ubuntu:22.04:LTS (dpkg order); affected range introduced 0; source package nodejs of libnode72, nodejs');
  });

  it('a host with the update installed has nothing for openssl', () => {
    const patched = host.map((p) => (p.source?.name === 'openssl' ? { ...p, version: '3.0.2-0ubuntu1.15', source: { name: 'openssl', version: '3.0.2-0ubuntu1.15' } } : p));
    expect(matchInventory(patched, index, ecosystem).map((m) => m.package.name)).toEqual(['nodejs']);
    const atFix = host.map((p) => (p.source?.name === 'openssl' ? { ...p, version: '3.0.2-0ubuntu1.14', source: { name: 'openssl', version: '3.0.2-0ubuntu1.14' } } : p));
    expect(matchInventory(atFix, index, ecosystem).map((m) => m.package.name)).toEqual(['nodejs']);
  });
});

describe('Ubuntu 18.04 LTS host (CONSTRUCTED inventory): its advisories are Ubuntu Pro ones now', () => {
  const ecosystem = hostOs({ 'host.os.platform': 'ubuntu', 'host.os.version': '18.04' }).ecosystem!;
  const host = deb(rows([
    ['ii ', 'libssl1.1', '1.1.1-1ubuntu2.1~18.04.23', 'openssl', '1.1.1-1ubuntu2.1~18.04.23', 'amd64'],
    ['ii ', 'openssl', '1.1.1-1ubuntu2.1~18.04.23', 'openssl', '1.1.1-1ubuntu2.1~18.04.23', 'amd64'],
  ]));

  it('matches the Ubuntu:Pro:18.04:LTS entry and says the fix needs Ubuntu Pro', () => {
    expect(ecosystem).toBe('Ubuntu:18.04:LTS');
    const ms = matchInventory(host, index, ecosystem);
    expect(summary(ms)).toEqual(['CVE-2024-0727 Ubuntu:Pro:18.04:LTS openssl 1.1.1-1ubuntu2.1~18.04.23 fixed=1.1.1-1ubuntu2.1~18.04.23+esm4 kev=false medium']);
    expect(ms[0]!.explanation).toBe('installed 1.1.1-1ubuntu2.1~18.04.23 < fixed 1.1.1-1ubuntu2.1~18.04.23+esm4 (dpkg order); affected range introduced 0; source package openssl of libssl1.1, openssl; advisory of Ubuntu:Pro:18.04:LTS (the fix needs Ubuntu Pro)');
    // +esm4 installed (Ubuntu Pro attached): fixed
    const esm = host.map((p) => ({ ...p, version: '1.1.1-1ubuntu2.1~18.04.23+esm4', source: { name: 'openssl', version: '1.1.1-1ubuntu2.1~18.04.23+esm4' } }));
    expect(matchInventory(esm, index, ecosystem)).toEqual([]);
  });

  it('an advisory with entries in both the release and its Pro ecosystem gives one match, from the release (HAND-WRITTEN record)', () => {
    const rec = {
      id: 'HAND-1',
      affected: [
        { package: { ecosystem: 'Ubuntu:Pro:18.04:LTS', name: 'p' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0-1+esm1' }] }] },
        { package: { ecosystem: 'Ubuntu:18.04:LTS', name: 'p' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0-2' }] }] },
      ],
    } as unknown as OsvRecord;
    const ms = matchInventory([{ name: 'p', version: '1.0-1', source: { name: 'p', version: '1.0-1' } }], buildFeedIndex([rec]), 'Ubuntu:18.04:LTS');
    expect(ms.map((m) => `${m.ecosystem} ${m.fixedVersion}`)).toEqual(['Ubuntu:18.04:LTS 1.0-2']);
  });
});

describe('AlmaLinux 9 host (CONSTRUCTED inventory) against AlmaLinux errata ALSA-2023:5453, ALSA-2024:2447, ALSA-2024:4312', () => {
  const ecosystem = hostOs({ 'host.os.platform': 'almalinux', 'host.os.version': '9.3' }).ecosystem!;
  const host = rpm(rows([
    ['openssh', '0:8.7p1-34.el9', 'x86_64', 'openssh-8.7p1-34.el9.src.rpm'],
    ['openssh-clients', '0:8.7p1-34.el9', 'x86_64', 'openssh-8.7p1-34.el9.src.rpm'],
    ['openssh-server', '0:8.7p1-34.el9', 'x86_64', 'openssh-8.7p1-34.el9.src.rpm'],
    ['openssl', '1:3.0.7-24.el9', 'x86_64', 'openssl-3.0.7-24.el9.src.rpm'],
    ['openssl-libs', '1:3.0.7-24.el9', 'x86_64', 'openssl-3.0.7-24.el9.src.rpm'],
    ['glibc', '0:2.34-83.el9.7', 'x86_64', 'glibc-2.34-83.el9.7.src.rpm'],
    ['glibc-common', '0:2.34-83.el9.7', 'x86_64', 'glibc-2.34-83.el9.7.src.rpm'],
    ['bash', '0:5.1.8-6.el9_1', 'x86_64', 'bash-5.1.8-6.el9_1.src.rpm'],
    ['gpg-pubkey', '0:b86b3716-61e69f29', '(none)', '(none)'],
  ]));

  it('matches binary package names with the rpm order (epoch included) and explains each match', () => {
    expect(ecosystem).toBe('AlmaLinux:9');
    const ms = matchInventory(host, index, ecosystem);
    expect(summary(ms)).toEqual([
      'ALSA-2024:4312 AlmaLinux:9 openssh 0:8.7p1-34.el9 fixed=8.7p1-38.el9_4.1 kev=false high',
      'ALSA-2024:4312 AlmaLinux:9 openssh-clients 0:8.7p1-34.el9 fixed=8.7p1-38.el9_4.1 kev=false high',
      'ALSA-2024:4312 AlmaLinux:9 openssh-server 0:8.7p1-34.el9 fixed=8.7p1-38.el9_4.1 kev=false high',
      'ALSA-2024:2447 AlmaLinux:9 openssl 1:3.0.7-24.el9 fixed=1:3.0.7-27.el9 kev=false low',
      'ALSA-2024:2447 AlmaLinux:9 openssl-libs 1:3.0.7-24.el9 fixed=1:3.0.7-27.el9 kev=false low',
    ]);
    const by = new Map(ms.map((m) => [`${m.id} ${m.package.name}`, m]));
    expect(by.get('ALSA-2024:4312 openssh-server')!.explanation).toBe('installed 0:8.7p1-34.el9 < fixed 8.7p1-38.el9_4.1 (rpm order); affected range introduced 0');
    expect(by.get('ALSA-2024:2447 openssl-libs')!.explanation).toBe('installed 1:3.0.7-24.el9 < fixed 1:3.0.7-27.el9 (rpm order); affected range introduced 0');
    // the CVEs an erratum fixes are in `related`; the severity is the erratum's own word
    expect(by.get('ALSA-2024:4312 openssh')).toMatchObject({ cves: ['CVE-2024-6387'], severitySource: 'distribution', distributionRating: 'important' });
    expect(by.get('ALSA-2024:2447 openssl')!.cves).toContain('CVE-2024-0727');
  });

  it('glibc 2.34-83.el9.7 is past the ALSA-2023:5453 fix; glibc 2.34-60.el9 is not, and that erratum fixes a known-exploited CVE', () => {
    expect(matchInventory(host, index, ecosystem).some((m) => m.id === 'ALSA-2023:5453')).toBe(false);
    const older = host.map((p) => (p.name.startsWith('glibc') ? { ...p, version: '0:2.34-60.el9', source: { name: 'glibc', version: '0:2.34-60.el9' } } : p));
    const ms = matchInventory(older, index, ecosystem).filter((m) => m.id === 'ALSA-2023:5453');
    expect(ms.map((m) => m.package.name)).toEqual(['glibc', 'glibc-common']);
    expect(ms[0]).toMatchObject({ kev: true, kevDateAdded: '2023-11-21', fixedVersion: '2.34-60.el9_2.7', severity: 'high', cves: ['CVE-2023-4527', 'CVE-2023-4806', 'CVE-2023-4813', 'CVE-2023-4911'] });
    expect(ms[0]!.explanation).toBe('installed 0:2.34-60.el9 < fixed 2.34-60.el9_2.7 (rpm order); affected range introduced 0');
  });

  it('a binary the erratum does not list is matched through its source rpm name', () => {
    // glibc-minimal-langpack is not in the trimmed ALSA-2023:5453 entries, glibc (its source) is.
    const ms = matchInventory(rpm(rows([['glibc-minimal-langpack', '0:2.34-60.el9', 'x86_64', 'glibc-2.34-60.el9.src.rpm']])), index, ecosystem);
    expect(ms.map((m) => `${m.id} ${m.package.name} ${m.package.matchedOn}`)).toEqual(['ALSA-2023:5453 glibc source']);
  });

  it('versions[] lists match whether the epoch 0 is written or not (HAND-WRITTEN record: no genuine rpm record with versions[] was found)', () => {
    // Before the review the installed "0:8.7p1-34.el9" never equalled a listed "8.7p1-34.el9".
    const rec = { id: 'HAND-RPM-1', affected: [{ package: { ecosystem: 'AlmaLinux:9', name: 'openssh' }, versions: ['8.7p1-34.el9'] }] } as unknown as OsvRecord;
    const ms = matchInventory(host.filter((p) => p.name === 'openssh'), buildFeedIndex([rec]), ecosystem);
    expect(ms.map((m) => `${m.id} ${m.package.name} ${m.installedVersion}`)).toEqual(['HAND-RPM-1 openssh 0:8.7p1-34.el9']);
    expect(ms[0]!.explanation).toBe('installed 0:8.7p1-34.el9 is listed among the affected versions of openssh in AlmaLinux:9');
    const rec0 = { id: 'HAND-RPM-2', affected: [{ package: { ecosystem: 'AlmaLinux:9', name: 'bash' }, versions: ['0:5.1.8-6.el9_1'] }] } as unknown as OsvRecord;
    expect(matchInventory(host, buildFeedIndex([rec0]), ecosystem).map((m) => m.package.name)).toEqual(['bash']);
  });

  it('the same host as Rocky Linux 9 finds nothing: the test bundle has no Rocky records (none genuine were found)', () => {
    const rocky = hostOs({ 'host.os.platform': 'rocky', 'host.os.version': '9.3' }).ecosystem!;
    expect(rocky).toBe('Rocky Linux:9');
    expect(matchInventory(host, index, rocky)).toEqual([]);
  });
});

describe('AlmaLinux 9 module streams against the REAL erratum ALSA-2023:2654 (nodejs:18; test/fixtures/feed/osv-almalinux-9-modules)', () => {
  // Not in the test bundle: read from its fixture folder (README there cites it).
  const record = JSON.parse(readFileSync(join(FEED_FIXTURES, 'osv-almalinux-9-modules', 'ALSA-2023-2654.json'), 'utf8')) as OsvRecord;
  const modules = buildFeedIndex([record]);
  const ecosystem = 'AlmaLinux:9';

  it('the non-modular nodejs 16 of the base AppStream (CONSTRUCTED inventory) is not compared with the nodejs:18 stream fix', () => {
    // Before the review: "installed 1:16.20.2-8.el9_4 < fixed 1:18.14.2-2.module_el9.2.0+29+de583a0b" for
    // nodejs and npm — every EL9 host with the default nodejs was reported, though nodejs 16 has its own errata.
    const base = rpm(rows([
      ['nodejs', '1:16.20.2-8.el9_4', 'x86_64', 'nodejs-16.20.2-8.el9_4.src.rpm'],
      ['npm', '1:8.19.4-1.16.20.2.8.el9_4', 'x86_64', 'nodejs-16.20.2-8.el9_4.src.rpm'],
    ]));
    expect(matchInventory(base, modules, ecosystem)).toEqual([]);
  });

  it('a nodejs:18 module build below the fix is affected (CONSTRUCTED version, one release below the fix); one past it (Rocky\'s 18.14.2-3.module+el9.2.0 build) is not', () => {
    const old = rpm(rows([['nodejs', '1:18.14.2-1.module_el9.2.0+29+de583a0b', 'x86_64', 'nodejs-18.14.2-1.module_el9.2.0+29+de583a0b.src.rpm']]));
    const ms = matchInventory(old, modules, ecosystem);
    expect(summary(ms)).toEqual(['ALSA-2023:2654 AlmaLinux:9 nodejs 1:18.14.2-1.module_el9.2.0+29+de583a0b fixed=1:18.14.2-2.module_el9.2.0+29+de583a0b kev=false medium']);
    expect(ms[0]!.explanation).toBe('installed 1:18.14.2-1.module_el9.2.0+29+de583a0b < fixed 1:18.14.2-2.module_el9.2.0+29+de583a0b (rpm order); affected range introduced 0');
    const newer = rpm(rows([['nodejs', '1:18.14.2-3.module+el9.2.0+14843+acebbfea', 'x86_64', 'nodejs-18.14.2-3.module+el9.2.0+14843+acebbfea.src.rpm']]));
    expect(matchInventory(newer, modules, ecosystem)).toEqual([]);
  });

  it('a non-modular erratum still matches non-modular builds (ALSA-2024:4312 openssh, from the bundle) and not a modular one (HAND-WRITTEN version)', () => {
    const plain = rpm(rows([['openssh', '0:8.7p1-34.el9', 'x86_64', 'openssh-8.7p1-34.el9.src.rpm']]));
    expect(matchInventory(plain, index, ecosystem).map((m) => m.id)).toEqual(['ALSA-2024:4312']);
    const modular = rpm(rows([['openssh', '0:8.7p1-34.module_el9.2.0+1+00000000', 'x86_64', 'openssh-8.7p1-34.module_el9.2.0+1+00000000.src.rpm']]));
    expect(matchInventory(modular, index, ecosystem)).toEqual([]);
  });
});
