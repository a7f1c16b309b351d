/**
 * This machine's real package inventory (dpkg-query) against the shipped test feed: the
 * matcher must agree with an independent oracle built on `dpkg --compare-versions`, and a
 * recorded inventory of the machine the feed was made on gives exactly the expected advisories.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyBundle } from './bundle.js';
import type { InstalledPackage } from './inventory.js';
import { buildFeedIndex, matchInventory, type VulnMatch } from './match.js';
import type { OsvRecord } from './osv.js';
import { FEED_FIXTURES, TEST_BUNDLE, testTrustedKey } from './testing/fixtures.js';
import { toolAvailable } from './testing/oracles.js';

const feed = verifyBundle(readFileSync(TEST_BUNDLE), [testTrustedKey()]);
const records = feed.osv.get('Debian:12')!;
const index = buildFeedIndex(records, feed.kev);

const FORMAT = '${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${source:Package}\\t${source:Version}\\t${Architecture}\\n';

/** Installed packages from `dpkg-query -W -f=<FORMAT>` output ("ii" lines only). */
function parseDpkgQuery(text: string): InstalledPackage[] {
  return text.split('\n').filter((l) => l.startsWith('ii')).map((line) => {
    const [, name, version, sourceName, sourceVersion, architecture] = line.split('\t');
    return { name: name!, version: version!, architecture, type: 'deb', source: { name: sourceName || name, version: sourceVersion || version } };
  });
}

function summary(matches: VulnMatch[]): string[] {
  return matches.map((m) => `${m.id} ${m.package.name} ${m.installedVersion} fixed=${m.fixedVersion ?? 'none'} kev=${m.kev} ${m.severity}${m.score === null ? '' : ` ${m.score}`}`);
}

describe('recorded inventory of the Debian 12 machine the test feed was made on', () => {
  const pkgs = parseDpkgQuery(readFileSync(join(FEED_FIXTURES, 'dpkg-query.debian12.txt'), 'utf8'));

  it('gives exactly the advisories that cover its versions, with explanations', () => {
    const matches = matchInventory(pkgs, index, 'Debian:12');
    expect(summary(matches)).toEqual([
      'DEBIAN-CVE-2024-8176 expat 2.5.0-1+deb12u1 fixed=2.5.0-1+deb12u2 kev=false high 7.5',
      'DEBIAN-CVE-2010-4756 glibc 2.36-9+deb12u14 fixed=none kev=false low',
      'DEBIAN-CVE-2023-50495 ncurses 6.4-4 fixed=none kev=false medium 6.5',
      'DEBIAN-CVE-2007-2768 openssh 1:9.2p1-2+deb12u10 fixed=none kev=false low',
      'DEBIAN-CVE-2025-40909 perl 5.36.0-7+deb12u2 fixed=5.36.0-7+deb12u3 kev=false medium 5.9',
      'DEBIAN-CVE-2023-31437 systemd 252.38-1~deb12u1 fixed=none kev=false medium 5.3',
    ]);
    const by = new Map(matches.map((m) => [m.id, m]));
    expect(by.get('DEBIAN-CVE-2024-8176')!.explanation).toBe('installed 2.5.0-1+deb12u1 < fixed 2.5.0-1+deb12u2 (dpkg order); affected range introduced 0; source package expat of libexpat1, libexpat1-dev');
    expect(by.get('DEBIAN-CVE-2007-2768')!.explanation).toBe('installed 1:9.2p1-2+deb12u10: no fixed version is listed for Debian:12 (dpkg order); affected range introduced 0; source package openssh of openssh-client, openssh-server, openssh-sftp-server');
    expect(by.get('DEBIAN-CVE-2024-8176')).toMatchObject({ fixAvailable: true, cves: ['CVE-2024-8176'], severitySource: 'cvss' });
    expect(by.get('DEBIAN-CVE-2010-4756')).toMatchObject({ fixAvailable: false, severitySource: 'distribution', score: null });
  });

  it('does not flag what this machine has already fixed, KEV-listed or not', () => {
    const ids = new Set(matchInventory(pkgs, index, 'Debian:12').map((m) => m.id));
    // glibc 2.36-9+deb12u14 > 2.36-9+deb12u3 (CVE-2023-4911, in KEV); libwebp = fixed 1.2.4-0.2+deb12u1 (CVE-2023-4863, in KEV);
    // xz-utils 5.4.1-1 = fixed; openssl, openssh, curl past their DSA fixes.
    for (const id of ['DSA-5514-1', 'DEBIAN-CVE-2023-4863', 'DEBIAN-CVE-2025-31115', 'DSA-5764-1', 'DSA-5724-1', 'DEBIAN-CVE-2025-26465', 'DSA-5587-1']) {
      expect(ids.has(id), id).toBe(false);
    }
  });

  it('an older glibc on the same machine would be flagged as known-exploited', () => {
    const older = pkgs.map((p) => (p.source?.name === 'glibc' ? { ...p, version: '2.36-9+deb12u2', source: { name: 'glibc', version: '2.36-9+deb12u2' } } : p));
    const m = matchInventory(older, index, 'Debian:12').find((x) => x.id === 'DSA-5514-1');
    expect(m).toMatchObject({ kev: true, kevDateAdded: '2023-11-21', fixedVersion: '2.36-9+deb12u3', cves: ['CVE-2023-4911'] });
    expect(m!.explanation).toMatch(/^installed 2\.36-9\+deb12u2 < fixed 2\.36-9\+deb12u3 \(dpkg order\); affected range introduced 0; source package glibc of /);
  });
});

const haveDpkgQuery = toolAvailable('dpkg-query', ['--version']) && toolAvailable('dpkg', ['--version']);
const osRelease = (() => {
  try {
    return readFileSync('/etc/os-release', 'utf8');
  } catch {
    return '';
  }
})();
const isDebian12 = /^ID=debian$/m.test(osRelease) && /^VERSION_ID="?12"?$/m.test(osRelease);
const canRun = haveDpkgQuery && isDebian12;
if (!canRun) console.warn('SKIPPED: live dpkg-query inventory test — needs Debian 12 with dpkg; CI=true turns this into a failure');

/** Independent oracle: the simple shapes of these records, decided by dpkg itself. */
function expectedByOracle(pkgs: InstalledPackage[]): string[] {
  const installed = new Map<string, Set<string>>();
  for (const p of pkgs) {
    const name = p.source?.name ?? p.name;
    if (!installed.has(name)) installed.set(name, new Set());
    installed.get(name)!.add(p.source?.version ?? p.version);
  }
  const out: string[] = [];
  const asks: Array<{ key: string; v: string; fixed: string }> = [];
  for (const r of records as OsvRecord[]) {
    for (const a of r.affected) {
      const versions = installed.get(a.package!.name);
      if (versions === undefined) continue;
      expect(a.ranges).toHaveLength(1);
      const events = a.ranges![0]!.events;
      expect(events[0]).toEqual({ introduced: '0' });
      expect(events.length).toBeLessThanOrEqual(2);
      const fixed = events[1]?.fixed;
      for (const v of versions) {
        const key = `${r.id} ${a.package!.name} ${v} fixed=${fixed ?? 'none'}`;
        if (fixed === undefined || (a.versions ?? []).includes(v)) out.push(key);
        else asks.push({ key, v, fixed });
      }
    }
  }
  for (const { key, v, fixed } of asks) {
    if (spawnSync('dpkg', ['--compare-versions', v, 'lt', fixed]).status === 0) out.push(key);
  }
  return out.sort();
}

describe('this machine, live', () => {
  it.runIf(!canRun && process.env.CI === 'true')('CI runs on Debian 12 with dpkg', () => {
    expect.fail('the live inventory test needs Debian 12 with dpkg-query, and CI=true');
  });

  it.skipIf(!canRun)('matching the real dpkg-query inventory agrees with dpkg --compare-versions', () => {
    const r = spawnSync('dpkg-query', ['-W', `-f=${FORMAT.replace(/\\t/g, '\t').replace(/\\n/g, '\n')}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(r.status, r.stderr).toBe(0);
    const pkgs = parseDpkgQuery(r.stdout);
    expect(pkgs.length).toBeGreaterThan(100);
    const matches = matchInventory(pkgs, index, 'Debian:12');
    const got = matches.map((m) => `${m.id} ${m.package.name} ${m.installedVersion} fixed=${m.fixedVersion ?? 'none'}`).sort();
    expect(got).toEqual(expectedByOracle(pkgs));
    // The feed must test both sides on this machine: some advisories apply, some are already fixed.
    expect(matches.length).toBeGreaterThanOrEqual(3);
    const installedSources = new Set(pkgs.map((p) => p.source?.name));
    const fixedHere = records.filter((rec) => rec.affected.some((a) => installedSources.has(a.package!.name)) && !matches.some((m) => m.id === rec.id));
    expect(fixedHere.length).toBeGreaterThanOrEqual(3);
    for (const m of matches) {
      expect(m.explanation).toMatch(m.fixedVersion === null
        ? new RegExp(`^installed ${m.installedVersion.replace(/[.+~]/g, '\\$&')}: no fixed version is listed for Debian:12 \\(dpkg order\\); affected range introduced 0`)
        : new RegExp(`^installed ${m.installedVersion.replace(/[.+~]/g, '\\$&')} < fixed ${m.fixedVersion.replace(/[.+~]/g, '\\$&')} \\(dpkg order\\); affected range introduced 0`));
    }
    console.log(`live inventory: ${pkgs.length} packages → ${matches.length} advisories\n  ${matches.map((m) => `${m.id} [${m.package.name} ${m.installedVersion}] ${m.explanation}`).join('\n  ')}`);
  });
});
