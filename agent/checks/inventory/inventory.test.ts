import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { isCanhGacError } from '../../../common/errors.js';
import { readSystemFacts, type SystemFacts } from '../../host/system.js';
import { osFamily, parseOsRelease } from '../../host/linux/os-release.js';
import { parseBootTime } from '../../host/linux/proc.js';
import { inventoryConfig } from './config.js';
import { hostFields, windowsOsFields } from './host-fields.js';
import { createInventoryCheck } from './index.js';
import { logger } from '../../../common/logger.js';
import type { CommandResult } from '../../host/run.js';
import { POWERSHELL_PATH, POWERSHELL_QUERIES, powershellArgs, type PowerShellQueryId } from '../../host/windows/queries.js';
import { createWindowsRebootReader } from '../../host/reboot.js';
import { parseFieldsFile, valueFits } from '../fields-spec.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const facts = JSON.parse(fixture('system-facts.debian12.json')) as SystemFacts;
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).trim();

// CANHGAC_RECORD_FIXTURES=1 npx vitest run agent/checks/inventory re-records the fixtures on this machine.
describe.runIf(process.env.CANHGAC_RECORD_FIXTURES === '1')('record fixtures', () => {
  it('writes system-facts, os-release and /proc/stat of this machine', async () => {
    const at = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
    writeFileSync(at('system-facts.debian12.json'), `${JSON.stringify(await readSystemFacts(), null, 2)}\n`);
    copyFileSync('/etc/os-release', at('os-release.debian12'));
    writeFileSync(at('proc-stat.debian12'), readFileSync('/proc/stat'));
  });
});

describe('os-release and /proc/stat parsers', () => {
  it('parses the recorded Debian 12 os-release', () => {
    const rel = parseOsRelease(fixture('os-release.debian12'));
    expect(rel).toMatchObject({ ID: 'debian', VERSION_ID: '12', NAME: 'Debian GNU/Linux', PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)' });
    expect(osFamily(rel)).toBe('debian');
  });

  it('undoes os-release quoting and finds the family through ID_LIKE', () => {
    const rel = parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\nNAME=\'Rocky Linux\'\nX="a \\"q\\" \\$b"\n# comment\n');
    expect(rel).toEqual({ ID: 'rocky', ID_LIKE: 'rhel centos fedora', NAME: 'Rocky Linux', X: 'a "q" $b' });
    expect(osFamily(rel)).toBe('redhat');
    expect(osFamily({ ID: 'ubuntu', ID_LIKE: 'debian' })).toBe('debian');
    expect(osFamily({ ID: 'linuxmint', ID_LIKE: 'ubuntu debian' })).toBe('debian');
    expect(osFamily({ ID: 'nixos' })).toBe('nixos');
  });

  it('reads btime from the recorded /proc/stat', () => {
    const text = fixture('proc-stat.debian12');
    const expected = Number(/^btime (\d+)$/m.exec(text)?.[1]);
    expect(parseBootTime(text)).toBe(expected);
    expect(parseBootTime('cpu 1 2 3\n')).toBeUndefined();
  });
});

describe('hostFields (recorded facts of a Debian 12 machine)', () => {
  const f = hostFields(facts, inventoryConfig.parse({}));

  it('maps OS facts to ECS host.os.*', () => {
    expect(f).toMatchObject({
      'host.name': 'vm',
      'host.hostname': 'vm',
      'host.os.type': 'linux',
      'host.os.family': 'debian',
      'host.os.platform': 'debian',
      'host.os.name': 'Debian GNU/Linux',
      'host.os.full': 'Debian GNU/Linux 12 (bookworm)',
      'host.os.version': '12',
      'host.os.kernel': facts.kernel,
      'host.architecture': 'x86_64',
      'host.id': facts.machineId,
      'host.boot.id': facts.bootId,
      'host.boot.time': new Date(facts.bootTime * 1000).toISOString(),
      'host.cpu.cores': 2,
      'host.memory.total': facts.memoryTotal,
    });
    expect(f['host.os.build']).toBeUndefined();
    expect(f['host.domain']).toBeUndefined();
  });

  it('lists non-loopback addresses and ECS-formatted MACs by default, all with addresses: all', () => {
    expect(f['host.ip']).toEqual(['192.0.2.2', 'fd00::2', 'fe80::fc:ff:fe00:1']);
    expect(f['host.mac']).toEqual(['02-FC-00-00-00-01']);
    const all = hostFields(facts, inventoryConfig.parse({ addresses: 'all' }));
    expect(all['host.ip']).toEqual(['127.0.0.1', '192.0.2.2', '::1', 'fd00::2', 'fe80::fc:ff:fe00:1']);
    expect(all['host.mac']).toEqual(['02-FC-00-00-00-01']);
  });

  it('derives host.domain from a fully qualified name', () => {
    expect(hostFields({ ...facts, fqdn: 'vm.ubnd.gov.vn' }, inventoryConfig.parse({}))['host.domain']).toBe('ubnd.gov.vn');
  });
});

describe('inventory check on this machine', () => {
  it('rejects unknown options and bad values with AGENT_CHECK_CONFIG_INVALID', () => {
    const check = createInventoryCheck();
    for (const bad of [{ adresses: 'all' }, { addresses: 'some' }]) {
      try {
        check.init(bad);
        expect.unreachable();
      } catch (e) {
        expect(isCanhGacError(e, 'AGENT_CHECK_CONFIG_INVALID')).toBe(true);
      }
    }
  });

  it('collect() before init() is an error with a code', async () => {
    await expect(createInventoryCheck().collect({} as never)).rejects.toMatchObject({ code: 'AGENT_CHECK_NOT_INITIALIZED' });
  });

  it('reports what the OS tools report', async () => {
    const check = createInventoryCheck();
    check.init(undefined);
    const result = await check.collect({} as never);
    expect(result.events).toEqual([]);
    expect(result.snapshots).toHaveLength(1);
    const item = result.snapshots[0]!.items[0]!;
    expect(result.snapshots[0]!.kind).toBe('host');
    expect(item.stateKey).toBe('host');
    const f = item.fields;
    expect(f['host.name']).toBe(sh('hostname', []));
    expect(f['host.os.kernel']).toBe(sh('uname', ['-r']));
    expect(f['host.architecture']).toBe(sh('uname', ['-m']));
    expect(f['host.os.version']).toBe(parseOsRelease(readFileSync('/etc/os-release', 'utf8')).VERSION_ID);
    expect(f['host.cpu.cores']).toBe(Number(sh('nproc', ['--all'])));
    const memKb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    expect(f['host.memory.total']).toBe(memKb * 1024);
    expect(f['host.boot.time']).toBe(new Date(parseBootTime(readFileSync('/proc/stat', 'utf8'))! * 1000).toISOString());
    expect(f['host.uptime']).toBeCloseTo(os.uptime(), -1);
    // `ip -o addr` is the oracle for addresses (iproute2 is on every machine that has ss).
    const oracle = sh('ip', ['-o', 'addr', 'show']).split('\n')
      .map((l) => /^\d+:\s+(\S+)\s+inet6?\s+([^/\s]+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && m[1] !== 'lo')
      .map((m) => m[2]!);
    expect(f['host.ip']).toEqual([...new Set(oracle)].sort());
    expect(f['host.reboot.required']).toBe(existsSync('/var/run/reboot-required'));
  });
});

describe('pending reboot fields', () => {
  const cfg = inventoryConfig.parse({});

  it('adds host.reboot.* and the newest installed kernel when a reboot is pending', async () => {
    const check = createInventoryCheck({
      readFacts: async () => facts,
      readReboot: async () => ({ required: true, reasons: ['newer-kernel-installed'], pendingSince: '2026-03-01T08:00:00.000Z', newestKernel: '6.1.0-21-amd64', packages: [] }),
    });
    check.init(undefined);
    const f = (await check.collect({} as never)).snapshots[0]!.items[0]!.fields;
    expect(f).toMatchObject({
      'host.reboot.required': true, 'host.reboot.reasons': ['newer-kernel-installed'], 'host.reboot.pending_since': '2026-03-01T08:00:00.000Z',
      'host.os.kernel_installed': '6.1.0-21-amd64',
    });
    expect(f['host.reboot.packages']).toBeUndefined();
  });

  it('says "not required" without reasons, and nothing at all where the facts are unknown', () => {
    const none = hostFields(facts, cfg, { required: false, reasons: [], packages: [] });
    expect(none['host.reboot.required']).toBe(false);
    expect(none['host.reboot.reasons']).toBeUndefined();
    expect(none['host.reboot.pending_since']).toBeUndefined();
    expect(hostFields(facts, cfg)['host.reboot.required']).toBeUndefined();
  });

  it('still reports the host when the reboot facts cannot be read', async () => {
    const warned: string[] = [];
    const check = createInventoryCheck({ readFacts: async () => facts, readReboot: async () => { throw new Error('EACCES /boot'); } });
    check.init(undefined);
    const r = await check.collect({ log: { warn: (m: string) => warned.push(m) } } as never);
    expect(r.snapshots[0]!.items[0]!.fields['host.name']).toBe('vm');
    expect(warned).toEqual(['pending reboot not readable']);
  });
});

describe('inventory on Windows (genuine CurrentVersion recordings through a fake runner)', () => {
  const recording = (name: string) => readFileSync(new URL(`../../host/windows/fixtures/${name}`, import.meta.url), 'utf8');
  // systeminformation's part is this machine's recorded facts, relabelled: only the registry part is Windows'.
  const winFacts: SystemFacts = { ...facts, platform: 'win32', distro: 'Microsoft Windows Server 2022 Datacenter', release: '10.0.20348', build: '20348' };
  delete (winFacts as Partial<SystemFacts>).osRelease;
  const ctx = { log: logger('test', { check: 'inventory' }), stateDir: '/nonexistent', emit: async () => {} };

  function check(stdout: string | Error, calls: string[][] = []) {
    return createInventoryCheck({
      platform: 'win32',
      readFacts: async () => winFacts,
      readReboot: async () => undefined,
      run: async (id, args): Promise<CommandResult> => {
        calls.push([id, ...args]);
        if (stdout instanceof Error) throw stdout;
        return { path: POWERSHELL_PATH, stdout, stderr: '', durationMs: 1 };
      },
    });
  }

  it('reports 10.0.<build>.<UBR>, DisplayVersion and the product name (Server 2022), every field declared', async () => {
    const calls: string[][] = [];
    const c = check(recording('CurrentVersion.ws2022.cnquery.json'), calls);
    c.init({});
    const r = await c.collect(ctx);
    expect(calls).toEqual([['powershell', ...powershellArgs('os-version')]]);
    const f = r.snapshots[0]!.items[0]!.fields;
    expect(f).toMatchObject({
      'host.os.type': 'windows', 'host.os.family': 'windows', 'host.os.platform': 'windows',
      'host.os.version': '10.0.20348.2762', 'host.os.build': '20348.2762', 'host.os.display_version': '21H2',
      'host.os.edition': 'ServerDatacenter', 'host.os.name': 'Windows Server 2022 Datacenter', 'host.os.full': 'Windows Server 2022 Datacenter 21H2',
    });
    const spec = parseFieldsFile(readFileSync(new URL('./fields.yaml', import.meta.url), 'utf8'), 'agent/checks/inventory/fields.yaml');
    const declared = new Map(spec.fields.map((d) => [d.name, d]));
    for (const [name, value] of Object.entries(f)) {
      expect(declared.get(name), `${name} is declared`).toBeDefined();
      expect(valueFits(declared.get(name)!, value), `${name} = ${JSON.stringify(value)}`).toBe(true);
    }
  });

  it('Server 2019 (no ProductName selected in that recording): build and UBR, the name from systeminformation', async () => {
    const c = check(recording('CurrentVersion.ws2019.cnquery.json'));
    c.init({});
    const f = (await c.collect(ctx)).snapshots[0]!.items[0]!.fields;
    expect(f['host.os.version']).toBe('10.0.17763.720');
    expect(f['host.os.build']).toBe('17763.720');
    expect(f['host.os.name']).toBe('Microsoft Windows Server 2022 Datacenter');
    expect(f['host.os.display_version']).toBeUndefined();
  });

  it('a failed query leaves the host item with what systeminformation knows', async () => {
    const c = check(new Error('powershell missing'));
    c.init({});
    const f = (await c.collect(ctx)).snapshots[0]!.items[0]!.fields;
    expect(f['host.os.version']).toBe('10.0.20348');
  });

  // No genuine recording of the reboot markers exists (agent/host/windows/fixtures/README.md): the
  // marker and history answers below are hand-written; CurrentVersion is the genuine recording.
  describe('pending reboot (hand-written marker and history answers)', () => {
    const boot = Date.parse('2026-03-01T08:00:00Z');
    function windowsHost(answers: Partial<Record<PowerShellQueryId, string>>, now: { t: number }, calls: PowerShellQueryId[] = []) {
      const run = async (_id: string, args: readonly string[]): Promise<CommandResult> => {
        const q = (Object.keys(POWERSHELL_QUERIES) as PowerShellQueryId[]).find((k) => JSON.stringify(powershellArgs(k)) === JSON.stringify(args));
        const stdout = q === 'os-version' ? recording('CurrentVersion.ws2022.cnquery.json') : q && answers[q];
        if (q === undefined || stdout === undefined) throw new Error(`unexpected query ${q}`);
        calls.push(q);
        return { path: POWERSHELL_PATH, stdout, stderr: '', durationMs: 1 };
      };
      const c = createInventoryCheck({
        platform: 'win32', readFacts: async () => winFacts, run,
        readReboot: createWindowsRebootReader(run, { now: () => now.t, bootTimeMs: () => boot }),
      });
      c.init({});
      return c;
    }
    const markers = (cbs: boolean, wu: boolean, rename: boolean) =>
      JSON.stringify({ CbsRebootPending: cbs, WindowsUpdateRebootRequired: wu, PendingFileRenameOperations: rename });

    it('an update marker: required, dated by the first installation since boot, with its KBs, fields declared', async () => {
      const calls: PowerShellQueryId[] = [];
      const history = JSON.stringify([
        { Date: '2026-02-11 03:00:00Z', Operation: 1, ResultCode: 2, Title: '2026-02 Bản cập nhật tích lũy (KB5000100)' },
        { Date: '2026-03-02 03:00:00Z', Operation: 1, ResultCode: 2, Title: '2026-03 Bản cập nhật tích lũy cho Windows Server 2022 (KB5000200)' },
        { Date: '2026-03-02 03:05:00Z', Operation: 1, ResultCode: 4, Title: 'Failed (KB5000300)' },
      ]);
      const c = windowsHost({ 'reboot-pending': markers(true, true, false), 'update-history': history }, { t: Date.parse('2026-03-10T00:00:00Z') }, calls);
      const f = (await c.collect(ctx)).snapshots[0]!.items[0]!.fields;
      expect(calls.sort()).toEqual(['os-version', 'reboot-pending', 'update-history']);
      expect(f).toMatchObject({
        'host.reboot.required': true,
        'host.reboot.reasons': ['cbs-reboot-pending', 'windows-update-reboot-required'],
        'host.reboot.pending_since': '2026-03-02T03:00:00.000Z',
        'host.reboot.packages': ['KB5000200'],
        'host.os.version': '10.0.20348.2762',
      });
      expect(f['host.os.kernel_installed']).toBeUndefined();
      const spec = parseFieldsFile(readFileSync(new URL('./fields.yaml', import.meta.url), 'utf8'), 'agent/checks/inventory/fields.yaml');
      const declared = new Map(spec.fields.map((d) => [d.name, d]));
      for (const [name, value] of Object.entries(f)) expect(valueFits(declared.get(name)!, value), name).toBe(true);
    });

    it('no marker: required false and no history query; a file rename is dated by the first sighting, kept across collections, reset when it clears', async () => {
      const calls: PowerShellQueryId[] = [];
      const answers: Partial<Record<PowerShellQueryId, string>> = { 'reboot-pending': markers(false, false, false) };
      const now = { t: Date.parse('2026-03-10T00:00:00Z') };
      const c = windowsHost(answers, now, calls);
      expect((await c.collect(ctx)).snapshots[0]!.items[0]!.fields['host.reboot.required']).toBe(false);
      expect(calls).not.toContain('update-history');
      answers['reboot-pending'] = markers(false, false, true);
      await c.collect(ctx);
      now.t = Date.parse('2026-03-20T00:00:00Z');
      let f = (await c.collect(ctx)).snapshots[0]!.items[0]!.fields;
      expect(f).toMatchObject({ 'host.reboot.required': true, 'host.reboot.reasons': ['pending-file-rename'], 'host.reboot.pending_since': '2026-03-10T00:00:00.000Z' });
      answers['reboot-pending'] = markers(false, false, false);
      await c.collect(ctx);
      answers['reboot-pending'] = markers(false, false, true);
      f = (await c.collect(ctx)).snapshots[0]!.items[0]!.fields;
      expect(f['host.reboot.pending_since']).toBe('2026-03-20T00:00:00.000Z');
    });

    it('markers that cannot be read: the host item goes out without reboot fields', async () => {
      const c = windowsHost({ 'reboot-pending': '{"CbsRebootPending":true}' }, { t: boot });
      const f = (await c.collect(ctx)).snapshots[0]!.items[0]!.fields;
      expect(f['host.reboot.required']).toBeUndefined();
      expect(f['host.os.version']).toBe('10.0.20348.2762');
    });
  });

  it('names Windows 11 by build ≥ 22000 on clients, whatever ProductName says', () => {
    const base = { ubr: 2428, version: '10.0.22621.2428', productName: 'Windows 10 Pro', displayVersion: '22H2', installationType: 'Client' };
    expect(windowsOsFields({ ...base, build: 22621, windows11: true })['host.os.name']).toBe('Windows 11 Pro');
    expect(windowsOsFields({ ...base, build: 19045, version: '10.0.19045.2428', windows11: false })['host.os.full']).toBe('Windows 10 Pro 22H2');
  });
});
