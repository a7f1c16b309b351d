import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { CheckContext } from '../check.js';
import { parseDpkgQuery } from '../../host/linux/dpkg.js';
import { parseRpmQuery, parseSourceRpm } from '../../host/linux/rpm.js';
import type { CommandId, CommandResult } from '../../host/run.js';
import { packagesConfig } from './config.js';
import { createPackagesCheck } from './index.js';
import { dpkgFields, keepDpkg, rpmFields, toItems } from './package-items.js';
import { parseFieldsFile, valueFits } from '../fields-spec.js';
import { powershellArgs, POWERSHELL_QUERIES, type PowerShellQueryId } from '../../host/windows/queries.js';
import { installDate, windowsItems } from './windows-items.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ctx: CheckContext = { log: logger('test', { check: 'packages' }), stateDir: '/nonexistent', emit: async () => {} };

/** `dpkg-query -W` output: `name` or `name:arch` (Multi-Arch: same), a tab, the version. */
function parseW(text: string): Map<string, string> {
  return new Map(text.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
}

describe('dpkg-query parser (recorded from a dpkg database driven into every state)', () => {
  const { packages, malformed } = parseDpkgQuery(fixture('dpkg-states.txt'));
  const oracle = parseW(fixture('dpkg-states-W.txt'));

  it('reads every line, with status, source and architecture', () => {
    expect(malformed).toBe(0);
    expect(packages.map((p) => `${p.want}${p.state} ${p.name}:${p.architecture}`)).toEqual([
      'ii cg-binnmu:amd64', 'iF cg-broken:amd64', 'hi cg-held:amd64', 'ii cg-libssl3:amd64', 'ii cg-libssl3:i386',
      'ii cg-openssl:amd64', 'rc cg-removed:amd64', 'ii cg-tzdata:all', 'iU cg-unpacked:amd64',
    ]);
    expect(packages.find((p) => p.name === 'cg-binnmu')).toMatchObject({ version: '2.1-3+b1', sourceName: 'cg-binnmu-src', sourceVersion: '2.1-3' });
    expect(packages.find((p) => p.name === 'cg-libssl3')).toMatchObject({ version: '1:3.0.11-1~deb12u2', sourceName: 'cg-openssl', sourceVersion: '3.0.11-1~deb12u2' });
  });

  it('has the same version for every package as dpkg-query -W on the same database', () => {
    for (const p of packages) {
      const v = oracle.get(`${p.name}:${p.architecture}`) ?? oracle.get(p.name);
      expect(v, p.name).toBe(p.version);
    }
    expect(packages).toHaveLength(oracle.size);
  });

  it('keeps packages on disk by default, fully installed ones with dpkg_states: installed, never removed ones', () => {
    const onDisk = packages.filter((p) => keepDpkg(p, 'on_disk')).map((p) => p.name);
    expect(onDisk).toEqual(['cg-binnmu', 'cg-broken', 'cg-held', 'cg-libssl3', 'cg-libssl3', 'cg-openssl', 'cg-tzdata', 'cg-unpacked']);
    const installed = packages.filter((p) => keepDpkg(p, 'installed')).map((p) => p.name);
    expect(installed).toEqual(['cg-binnmu', 'cg-held', 'cg-libssl3', 'cg-libssl3', 'cg-openssl', 'cg-tzdata']);
  });

  it('counts malformed lines instead of guessing', () => {
    const r = parseDpkgQuery('ii \ta\t1.0\ta\t1.0\tamd64\ngarbage\nii \tb\t2.0\tb\n\n');
    expect(r.packages.map((p) => p.name)).toEqual(['a']);
    expect(r.malformed).toBe(2);
  });

  it('parses the recorded database of this Debian 12 machine', () => {
    const r = parseDpkgQuery(fixture('dpkg-query.debian12.txt'));
    expect(r.malformed).toBe(0);
    expect(r.packages.length).toBeGreaterThan(100);
    expect(r.packages.find((p) => p.name === 'dpkg')).toMatchObject({ state: 'i', architecture: 'amd64' });
  });
});

describe('rpm parser (recorded from an rpm database of packages built with rpmbuild)', () => {
  const { packages, malformed } = parseRpmQuery(fixture('rpm-qa.built-packages.txt'));

  it('reads epoch, arch and source rpm', () => {
    expect(malformed).toBe(0);
    expect(packages).toHaveLength(9);
    expect(packages[0]).toEqual({ name: 'cg-tool-libs', version: '1:3.0.7-27.el9', architecture: 'x86_64', sourceName: 'cg-tool', sourceVersion: '1:3.0.7-27.el9' });
    expect(packages.find((p) => p.name === 'cg-tilde')).toMatchObject({ version: '0:1.2.0~rc1^git20240101.abc-0.3.el9_4', sourceVersion: '0:1.2.0~rc1^git20240101.abc-0.3.el9_4' });
    expect(packages.find((p) => p.name === 'cg-data')).toMatchObject({ architecture: 'noarch' });
  });

  it('reports the gpg-pubkey pseudo-package without arch or source', () => {
    expect(packages.find((p) => p.name === 'gpg-pubkey')).toEqual({ name: 'gpg-pubkey', version: '0:8783d481-63ceb953' });
  });

  it('reads an empty rpm database as no packages', () => {
    expect(parseRpmQuery(fixture('rpm-qa.empty.txt'))).toEqual({ packages: [], malformed: 0 });
  });

  it('splits source rpm names, and refuses what is not one', () => {
    expect(parseSourceRpm('openssl-3.0.7-27.el9.src.rpm')).toEqual({ name: 'openssl', version: '3.0.7', release: '27.el9' });
    expect(parseSourceRpm('kernel-rt-5.14.0-427.13.1.el9_4.nosrc.rpm')).toEqual({ name: 'kernel-rt', version: '5.14.0', release: '427.13.1.el9_4' });
    expect(parseSourceRpm('(none)')).toBeUndefined();
    expect(parseRpmQuery('a\t1.0-1\tx86_64\ta-1.0-1.src.rpm\n').malformed).toBe(1); // no epoch
  });
});

describe('state keys', () => {
  it('are name:arch, with the version for install-only rpms and the type when dpkg and rpm collide', () => {
    const rpm = parseRpmQuery(fixture('rpm-qa.built-packages.txt')).packages.map(rpmFields);
    const deb = parseDpkgQuery('ii \tcg-data\t1\tcg-data\t1\tnoarch\nii \tcg-x\t1\tcg-x\t1\tamd64\n').packages.map(dpkgFields);
    const keys = toItems([...rpm, ...deb]).map((i) => i.stateKey).sort();
    expect(keys).toEqual([
      'cg-kernel:x86_64:0:5.14.0-362.8.1.el9_3', 'cg-kernel:x86_64:0:5.14.0-427.13.1.el9_4', 'cg-tilde:x86_64',
      'cg-tool-libs:i686', 'cg-tool-libs:x86_64', 'cg-tool:i686', 'cg-tool:x86_64', 'cg-x:amd64',
      'deb:cg-data:noarch', 'gpg-pubkey:', 'rpm:cg-data:noarch',
    ]);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('packages check', () => {
  it('validates its config', () => {
    expect(() => createPackagesCheck().init({ manager: 'apt' })).toThrow(expect.objectContaining({ code: 'AGENT_CHECK_CONFIG_INVALID', where: 'checks.packages.manager' }));
    expect(() => createPackagesCheck().init({ windows_pending_updates: true })).toThrow();
    expect(() => createPackagesCheck().init({ apt_pending_updates: 'update' })).toThrow(expect.objectContaining({ where: 'checks.packages.apt_pending_updates' }));
    expect(packagesConfig.parse({})).toEqual({ manager: 'auto', dpkg_states: 'on_disk', apt_pending_updates: 'cached', windows_pending_updates: 'off' });
  });

  it('reads rpm through the allowlisted runner with the documented query format', async () => {
    const calls: [CommandId, readonly string[]][] = [];
    const check = createPackagesCheck({
      platform: 'linux',
      resolve: async () => '/usr/bin/rpm',
      run: async (id, args): Promise<CommandResult> => {
        calls.push([id, args]);
        return { path: '/usr/bin/rpm', stdout: fixture('rpm-qa.built-packages.txt'), stderr: '', durationMs: 1 };
      },
    });
    check.init({ manager: 'rpm' });
    const r = await check.collect(ctx);
    expect(calls).toEqual([['rpm', ['-qa', '--qf', '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n']]]);
    expect(r.snapshots[0]!.items).toHaveLength(9);
    expect(r.snapshots[0]!.items[0]!.fields).toEqual({
      'package.name': 'cg-tool-libs', 'package.version': '1:3.0.7-27.el9', 'package.architecture': 'x86_64',
      'package.type': 'rpm', 'package.source.name': 'cg-tool', 'package.source.version': '1:3.0.7-27.el9',
    });
  });

  it('on macOS reads application bundles from system_profiler (recorded on macOS 14.4, agent/host/darwin/fixtures)', async () => {
    const calls: [CommandId, readonly string[]][] = [];
    const recorded = readFileSync(new URL('../../host/darwin/fixtures/system_profiler-SPApplicationsDataType-xml.macos14.glpi-sample5.xml', import.meta.url), 'utf8');
    const check = createPackagesCheck({
      platform: 'darwin',
      resolve: async () => undefined,
      run: async (id, args): Promise<CommandResult> => {
        calls.push([id, args]);
        return { path: '/usr/sbin/system_profiler', stdout: recorded, stderr: '', durationMs: 1 };
      },
    });
    check.init({});
    const r = await check.collect(ctx);
    expect(calls).toEqual([['system_profiler', ['-nospawn', '-xml', 'SPApplicationsDataType', '-detailLevel', 'full']]]);
    const items = r.snapshots[0]!.items;
    expect(items).toHaveLength(13);
    expect(items.find((i) => i.fields['package.name'] === 'Google Chrome')).toEqual({
      kind: 'package', stateKey: 'app:/Applications/Google Chrome.app',
      fields: {
        'package.name': 'Google Chrome', 'package.version': '111.0.5563.110', 'package.type': 'app', 'package.path': '/Applications/Google Chrome.app',
        'package.vendor': 'Google LLC', 'package.obtained_from': 'identified_developer',
      },
    });
  });

  it('refuses other platforms with a code', async () => {
    const check = createPackagesCheck({ platform: 'freebsd' });
    check.init({});
    await expect(check.collect(ctx)).rejects.toMatchObject({ code: 'AGENT_CHECK_UNSUPPORTED_PLATFORM' });
  });

  it('on this machine: every package dpkg-query -W lists, with the same version (dpkg-query is the oracle)', async () => {
    const check = createPackagesCheck();
    check.init({ manager: 'dpkg', apt_pending_updates: 'off' });
    const r = await check.collect(ctx);
    expect(r.snapshots).toHaveLength(1);
    const items = r.snapshots[0]!.items;
    const oracle = parseW(execFileSync('dpkg-query', ['-W'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const status = parseW(execFileSync('dpkg-query', ['-W', '-f=${binary:Package}\t${db:Status-Status}\n'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const seen = new Set<string>();
    for (const item of items) {
      const f = item.fields;
      const name = String(f['package.name']);
      const key = oracle.has(`${name}:${String(f['package.architecture'])}`) ? `${name}:${String(f['package.architecture'])}` : name;
      expect(oracle.get(key), name).toBe(f['package.version']);
      expect(f['package.type']).toBe('deb');
      seen.add(key);
    }
    for (const [key] of oracle) {
      if (!seen.has(key)) expect(['config-files', 'not-installed'], key).toContain(status.get(key));
    }
    expect(items.length).toBeGreaterThan(100);
  });
});

/**
 * A Windows host cannot exist here: the runner answers each fixed PowerShell query with the genuine
 * recording of that query's cmdlet (agent/host/windows/fixtures/README.md cites them).
 */
const windowsRecordings: Partial<Record<PowerShellQueryId, string>> = {
  programs: 'Uninstall-keys.ws.cnquery.json',
  hotfixes: 'Get-HotFix.ws2019.cnquery.json',
  'update-history': 'WU-history.defender-definition.win10.puppet-blog.json',
  'pending-updates': 'WU-search-pending.ws2019.cnquery.json',
};
const windowsFixture = (name: string) => readFileSync(new URL(`../../host/windows/fixtures/${name}`, import.meta.url), 'utf8');
function windowsRunner(calls: PowerShellQueryId[], answers: Partial<Record<PowerShellQueryId, string | Error>> = {}) {
  return async (id: CommandId, args: readonly string[]): Promise<CommandResult> => {
    const query = (Object.keys(POWERSHELL_QUERIES) as PowerShellQueryId[]).find((q) => JSON.stringify(powershellArgs(q)) === JSON.stringify(args));
    const answer = query && answers[query];
    const file = query && windowsRecordings[query];
    if (id !== 'powershell' || !query || (!file && answer === undefined)) throw new Error(`no recording for ${id} ${args.join(' ')}`);
    calls.push(query);
    if (answer instanceof Error) throw answer;
    return { path: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', stdout: answer ?? windowsFixture(file!), stderr: '', durationMs: 1 };
  };
}

describe('packages check on Windows (genuine recordings through a fake runner)', () => {
  it('reports Uninstall-key programs, Get-HotFix hotfixes and Windows Update history KBs, every field declared in fields.yaml', async () => {
    const calls: PowerShellQueryId[] = [];
    const check = createPackagesCheck({ platform: 'win32', resolve: async () => undefined, run: windowsRunner(calls) });
    check.init({});
    const r = await check.collect(ctx);
    expect(calls.sort()).toEqual(['hotfixes', 'programs', 'update-history']);
    const items = r.snapshots[0]!.items;
    const programs = items.filter((i) => i.fields['package.type'] === 'program');
    const hotfixes = items.filter((i) => i.fields['package.type'] === 'hotfix');
    expect(hotfixes.map((i) => i.stateKey)).toEqual(['KB4486553', 'KB4462930', 'KB4470788', 'KB4480056', 'KB4487038', 'KB4482887', 'KB2267602'].map((kb) => `hotfix:${kb}`));
    expect(hotfixes.find((i) => i.fields['package.name'] === 'KB4470788')!.fields).toEqual({
      'package.name': 'KB4470788', 'package.type': 'hotfix', 'package.description': 'Security Update', 'package.reported_by': ['get-hotfix'],
    });
    expect(hotfixes.find((i) => i.fields['package.name'] === 'KB2267602')!.fields).toEqual({
      'package.name': 'KB2267602', 'package.type': 'hotfix', 'package.reported_by': ['wu-history'],
      'package.description': 'Definition Update for Windows Defender Antivirus - KB2267602 (Definition 1.269.1089.0)',
      'package.installed': '2018-06-12T01:48:16.000Z', 'package.reference': 'http://go.microsoft.com/fwlink/?LinkId=52661',
    });
    expect(programs.find((i) => i.fields['package.name'] === 'VMware Tools')).toEqual({
      kind: 'package', stateKey: 'program:VMware Tools:11.3.0.18090558',
      fields: { 'package.name': 'VMware Tools', 'package.type': 'program', 'package.version': '11.3.0.18090558', 'package.vendor': 'VMware, Inc.', 'package.size': 131724 * 1024 },
    });
    expect(programs.some((i) => String(i.fields['package.name']).startsWith('Python 3.10.4'))).toBe(true);
    expect(new Set(items.map((i) => i.stateKey)).size).toBe(items.length);

    const spec = parseFieldsFile(fixture('../fields.yaml'), 'agent/checks/packages/fields.yaml');
    const declared = new Map(spec.fields.map((f) => [f.name, f]));
    for (const item of items) {
      for (const [name, value] of Object.entries(item.fields)) {
        const f = declared.get(name);
        expect(f, `${name} is declared`).toBeDefined();
        expect(valueFits(f!, value), `${name} = ${JSON.stringify(value)}`).toBe(true);
      }
    }
  });

  it('without the Windows Update history (service disabled), the snapshot still goes out, with a warning', async () => {
    const warnings: string[] = [];
    const wctx = { ...ctx, log: { ...ctx.log, warn: (msg: string) => { warnings.push(msg); return ctx.log; } } } as unknown as CheckContext;
    const check = createPackagesCheck({ platform: 'win32', resolve: async () => undefined, run: windowsRunner([], { 'update-history': new Error('0x80070422') }) });
    check.init({});
    const items = (await check.collect(wctx)).snapshots[0]!.items;
    expect(items.filter((i) => i.fields['package.type'] === 'hotfix')).toHaveLength(6);
    expect(warnings).toEqual(['windows update history not readable']);
  });

  it('merges a KB listed by Get-HotFix and the history into one item; an uninstalled KB is not reported (hand-written history)', async () => {
    const history = JSON.stringify([
      { Date: '2019-02-13 03:00:00Z', Operation: 1, ResultCode: 2, Title: '2019-02 Cumulative Update for Windows Server 2019 for x64-based Systems (KB4487044)', UpdateID: 'a' },
      { Date: '2019-02-13 03:10:00Z', Operation: 1, ResultCode: 2, Title: '2019-02 Security Update (KB4487038)', SupportUrl: 'https://support.microsoft.com/help/4487038' },
      { Date: '2019-02-20 03:00:00Z', Operation: 2, ResultCode: 2, Title: '2019-02 Cumulative Update for Windows Server 2019 for x64-based Systems (KB4487044)', UpdateID: 'a' },
    ]);
    const check = createPackagesCheck({ platform: 'win32', resolve: async () => undefined, run: windowsRunner([], { 'update-history': history }) });
    check.init({});
    const hotfixes = (await check.collect(ctx)).snapshots[0]!.items.filter((i) => i.fields['package.type'] === 'hotfix');
    expect(hotfixes.map((i) => i.fields['package.name'])).not.toContain('KB4487044');
    expect(hotfixes.filter((i) => i.fields['package.name'] === 'KB4487038').map((i) => i.fields)).toEqual([{
      'package.name': 'KB4487038', 'package.type': 'hotfix', 'package.description': 'Security Update',
      'package.reported_by': ['get-hotfix', 'wu-history'], 'package.installed': '2019-02-13T03:10:00.000Z',
      'package.reference': 'https://support.microsoft.com/help/4487038',
    }]);
  });

  it('windows_pending_updates: search adds an update snapshot from the Windows Update search (genuine Server 2019 search)', async () => {
    const calls: PowerShellQueryId[] = [];
    const check = createPackagesCheck({ platform: 'win32', resolve: async () => undefined, run: windowsRunner(calls) });
    check.init({ windows_pending_updates: 'search' });
    const r = await check.collect(ctx);
    expect(calls.sort()).toEqual(['hotfixes', 'pending-updates', 'programs', 'update-history']);
    expect(r.snapshots.map((sn) => sn.kind)).toEqual(['package', 'update']);
    const updates = r.snapshots[1]!.items;
    expect(updates).toHaveLength(6);
    expect(updates.filter((i) => i.fields['update.security'] === true).map((i) => i.fields['package.name'])).toEqual(['KB4537759', 'KB4538461']);
    expect(updates[1]).toEqual({
      kind: 'update', stateKey: 'update:0b669361-bcf2-4c1c-b4fb-e5629cfdc3c0',
      fields: {
        'package.name': 'KB4537759', 'package.type': 'hotfix', 'update.security': true, 'update.severity': 'Critical',
        'package.description': '2020-02 Security Update for Adobe Flash Player for Windows Server 2019 for x64-based Systems (KB4537759)',
        'update.id': '0b669361-bcf2-4c1c-b4fb-e5629cfdc3c0', 'update.reboot_required': false,
      },
    });
    const spec = parseFieldsFile(fixture('../fields.yaml'), 'agent/checks/packages/fields.yaml');
    const declared = new Map(spec.fields.map((f) => [f.name, f]));
    for (const item of updates) {
      for (const [name, value] of Object.entries(item.fields)) {
        expect(declared.get(name)?.kinds, `${name} is declared for update`).toContain('update');
        expect(valueFits(declared.get(name)!, value), `${name} = ${JSON.stringify(value)}`).toBe(true);
      }
    }
  });

  it('a failed Windows Update search sends no update snapshot (the collector keeps the last one)', async () => {
    const check = createPackagesCheck({ platform: 'win32', resolve: async () => undefined, run: windowsRunner([], { 'pending-updates': new Error('0x8024402C') }) });
    check.init({ windows_pending_updates: 'search' });
    expect((await check.collect(ctx)).snapshots.map((sn) => sn.kind)).toEqual(['package']);
  });

  it('keeps one item per program listed twice (64-bit and WOW6432Node keys), reads install dates', () => {
    const p = { name: 'Nhật ký', version: '1.0', installDate: '20240229' };
    const items = windowsItems([p, { ...p }], [{ id: 'KB5034441', installedOn: new Date(1704931200000) }]);
    expect(items.map((i) => i.stateKey)).toEqual(['program:Nhật ký:1.0', 'hotfix:KB5034441']);
    expect(items[0]!.fields['package.installed']).toBe('2024-02-29');
    expect(items[1]!.fields['package.installed']).toBe('2024-01-11T00:00:00.000Z');
    expect(installDate('20230230')).toBeUndefined();
    expect(installDate('2023-01-01')).toBeUndefined();
  });
});
