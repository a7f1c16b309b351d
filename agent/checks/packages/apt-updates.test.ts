/**
 * Pending apt upgrades: the parser on a recording of this project's Debian 12 build machine, and the
 * check on the live machine against an independent oracle (`apt list --upgradable`, apt's other front
 * end), so a change in apt's output shows up here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { CheckContext } from '../check.js';
import { APT_SIMULATE_ARGS, parseAptSimulate } from '../../host/linux/apt-simulate.js';
import { COMMANDS, commandPath, createRunner } from '../../host/run.js';
import { parseFieldsFile, valueFits } from '../fields-spec.js';
import { createPackagesCheck, newestListTime } from './index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ctx: CheckContext = { log: logger('test', { check: 'packages' }), stateDir: '/nonexistent', emit: async () => {} };
const spec = parseFieldsFile(readFileSync(new URL('./fields.yaml', import.meta.url), 'utf8'), 'agent/checks/packages/fields.yaml');
const hasApt = (() => { try { execFileSync('apt-get', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

interface Upgradable { name: string; arch: string; installed: string; candidate: string; security: boolean }

/** `apt list --upgradable`: `name/suite[,suite…] candidate arch [upgradable from: installed]`. */
function aptList(): Upgradable[] {
  const out = execFileSync('apt', ['list', '--upgradable'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'ignore'] });
  const held = new Set(execFileSync('apt-mark', ['showhold'], { encoding: 'utf8' }).split('\n').filter(Boolean));
  return out.split('\n').flatMap((l) => {
    const m = /^([^/\s]+)\/(\S+) (\S+) (\S+) \[upgradable from: ([^\]]+)\]$/.exec(l);
    if (!m || held.has(m[1]!)) return [];
    return [{ name: m[1]!, arch: m[4]!, installed: m[5]!, candidate: m[3]!, security: m[2]!.split(',').some((s) => s.endsWith('-security')) }];
  });
}

const key = (u: Upgradable) => `${u.name}:${u.arch} ${u.installed} -> ${u.candidate}${u.security ? ' security' : ''}`;

describe('apt-get --simulate dist-upgrade parser', () => {
  it('reads every upgrade of the recording, with the archives that offer it and the security ones marked', () => {
    const text = fixture('apt-get-simulate-dist-upgrade.debian12.txt');
    const parsed = parseAptSimulate(text);
    expect(parsed.malformed).toBe(0);
    // As many as apt's own summary line says ("N upgraded, …").
    const summary = /^(\d+) upgraded, (\d+) newly installed/m.exec(text);
    expect(parsed.updates).toHaveLength(Number(summary![1]));
    expect(parsed.newInstalls).toBe(Number(summary![2]));
    expect(parsed.updates.find((u) => u.name === 'libgcrypt20')).toEqual({
      name: 'libgcrypt20', architecture: 'amd64', installed: '1.10.1-3', candidate: '1.10.1-3+deb12u1',
      origins: ['Debian:12.15/oldstable', 'Debian-Security:12/oldstable-security'], security: true,
    });
    const bash = parsed.updates.find((u) => u.name === 'bash')!;
    expect(bash.security).toBe(false);
    expect(bash.origins.every((o) => !o.endsWith('-security'))).toBe(true);
    expect(parsed.updates.filter((u) => u.security).length).toBeGreaterThan(0);
  });

  it('counts new dependencies apart and flags lines it does not understand (hand-written lines, apt\'s documented shapes)', () => {
    const parsed = parseAptSimulate([
      'Inst linux-image-6.1.0-99-amd64 (6.1.123-1 Debian-Security:12/stable-security [amd64])',
      'Inst openssl [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Ubuntu:22.04/jammy-security, Ubuntu:22.04/jammy-updates [amd64]) []',
      'Remv oldpkg [1.0-1]',
      'Conf openssl (3.0.16-1~deb12u1 Ubuntu:22.04/jammy-security [amd64])',
      'Inst garbage',
    ].join('\n'));
    expect(parsed).toMatchObject({ newInstalls: 1, malformed: 1 });
    expect(parsed.updates).toEqual([{ name: 'openssl', architecture: 'amd64', installed: '3.0.15-1~deb12u1', candidate: '3.0.16-1~deb12u1', origins: ['Ubuntu:22.04/jammy-security', 'Ubuntu:22.04/jammy-updates'], security: true }]);
  });

  it('apt-get runs only with the simulation argument list', async () => {
    expect(COMMANDS['apt-get'].argv).toEqual([APT_SIMULATE_ARGS]);
    const run = createRunner(COMMANDS);
    for (const args of [['install', 'x'], ['-y', 'dist-upgrade'], ['--simulate', 'dist-upgrade'], ['update']]) {
      await expect(run('apt-get', args)).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_UNKNOWN' });
    }
  });

  it('newestListTime is the newest Release file of the lists folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-lists-'));
    expect(await newestListTime(dir)).toBeUndefined();
    for (const [n, t] of [['a_InRelease', 1_700_000_000], ['b_Release', 1_800_000_000], ['c_Packages', 1_900_000_000]] as const) {
      writeFileSync(join(dir, n), 'x');
      utimesSync(join(dir, n), t, t);
    }
    expect(await newestListTime(dir)).toBe(new Date(1_800_000_000_000).toISOString());
    expect(await newestListTime(join(dir, 'missing'))).toBeUndefined();
  });
});

describe.skipIf(!hasApt)('packages check: pending apt upgrades on this machine', () => {
  it('reports what apt list --upgradable lists, as update items with every field declared', async () => {
    const check = createPackagesCheck({ platform: 'linux' });
    check.init({});
    const { snapshots } = await check.collect(ctx);
    expect(snapshots.map((s) => s.kind)).toEqual(['package', 'update']);
    const items = snapshots[1]!.items;
    const ours = items.map((i) => key({
      name: String(i.fields['package.name']), arch: String(i.fields['package.architecture']), installed: String(i.fields['package.version']),
      candidate: String(i.fields['update.version']), security: i.fields['update.security'] === true,
    })).sort();
    expect(ours).toEqual(aptList().map(key).sort());
    const declared = new Map(spec.fields.map((f) => [f.name, f]));
    for (const item of items) {
      expect(item.stateKey).toBe(`deb:${String(item.fields['package.name'])}:${String(item.fields['package.architecture'])}`);
      for (const [name, value] of Object.entries(item.fields)) {
        expect(declared.get(name)?.kinds, `${name} is declared for update`).toContain('update');
        expect(valueFits(declared.get(name)!, value), `${name} = ${JSON.stringify(value)}`).toBe(true);
      }
    }
    if (items.length > 0) expect(items[0]!.fields['update.lists_updated']).toBe(await newestListTime('/var/lib/apt/lists'));
  });

  it('apt_pending_updates: off sends no update snapshot; a failing apt-get sends none either', async () => {
    const off = createPackagesCheck({ platform: 'linux' });
    off.init({ apt_pending_updates: 'off' });
    expect((await off.collect(ctx)).snapshots.map((s) => s.kind)).toEqual(['package']);
    const real = createRunner(COMMANDS);
    const failing = createPackagesCheck({
      platform: 'linux', resolve: commandPath,
      run: async (id, args, opts) => {
        if (id === 'apt-get') throw new Error('E: dpkg was interrupted');
        return real(id, args, opts);
      },
    });
    failing.init({});
    expect((await failing.collect(ctx)).snapshots.map((s) => s.kind)).toEqual(['package']);
  });
});
