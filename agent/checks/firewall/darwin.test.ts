import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { CheckContext } from '../check.js';
import { parseFieldsFile, valueFits } from '../fields-spec.js';
import type { CommandId, CommandResult, Runner } from '../../host/run.js';
import { LSOF_LISTEN_ARGS } from '../../host/darwin/lsof.js';
import { parseAlfApps, parseAlfState, SOCKETFILTERFW_APPS_ARGS, SOCKETFILTERFW_STATE_ARGS } from '../../host/darwin/socketfilterfw.js';
import { createListenersCheck } from '../listeners/index.js';
import { darwinExposure, matchingApps, type DarwinFirewall } from './darwin.js';
import { createFirewallCheck } from './index.js';

const ctx: CheckContext = { log: logger('test', { check: 'firewall' }), stateDir: '/nonexistent', emit: async () => {} };
const spec = parseFieldsFile(readFileSync(new URL('./fields.yaml', import.meta.url), 'utf8'), 'agent/checks/firewall/fields.yaml');
const recording = (name: string) => readFileSync(new URL(`../../host/darwin/fixtures/${name}`, import.meta.url), 'utf8');

/** A Mac made of recordings: each allowlisted argument list answers with one (fixtures/README.md). */
function recordedMac(answers: { state: string; apps: string | Error; lsof?: string }, calls: string[] = []): Runner<CommandId> {
  return async (id, args): Promise<CommandResult> => {
    const key = `${id} ${args.join(' ')}`;
    calls.push(key);
    const ok = (stdout: string): CommandResult => ({ path: '/x', stdout, stderr: '', durationMs: 1 });
    if (key === `socketfilterfw ${SOCKETFILTERFW_STATE_ARGS.join(' ')}`) return ok(recording(answers.state));
    if (key === `socketfilterfw ${SOCKETFILTERFW_APPS_ARGS.join(' ')}`) {
      if (answers.apps instanceof Error) throw answers.apps;
      return ok(recording(answers.apps));
    }
    if (key === `lsof ${LSOF_LISTEN_ARGS.join(' ')}` && answers.lsof) return ok(recording(answers.lsof));
    throw new Error(`not allowlisted here: ${key}`);
  };
}

describe('firewall check on macOS (genuine socketfilterfw recordings through a fake runner)', () => {
  it('one macos-alf item with the recorded settings and program list, every field declared', async () => {
    const calls: string[] = [];
    const check = createFirewallCheck({ platform: 'darwin', run: recordedMac({ state: 'socketfilterfw-state.macos.pareto-139.txt', apps: 'socketfilterfw-listapps.macos26.nix-darwin-1705.txt' }, calls) });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    expect(calls.sort()).toEqual(['socketfilterfw --getglobalstate --getblockall --getallowsigned --getstealthmode', 'socketfilterfw --listapps']);
    expect(items).toHaveLength(1);
    expect(items[0]!.stateKey).toBe('macos-alf:all');
    expect(items[0]!.fields).toMatchObject({
      'firewall.product': 'macos-alf', 'firewall.enabled': true, 'firewall.block_all': false, 'firewall.default_inbound': 'unknown',
      'firewall.allow_signed_builtin': true, 'firewall.allow_signed_downloaded': true, 'firewall.rules.count': 9,
      'error.message': 'ALF: Error, kStealthEnableKey does not return the correct type.',
    });
    expect(items[0]!.fields['firewall.stealth_mode']).toBeUndefined();
    expect(items[0]!.fields['firewall.rules.summary']).toContain('/usr/libexec/sshd-session: block');
    const declared = new Map(spec.fields.map((f) => [f.name, f]));
    for (const [name, value] of Object.entries(items[0]!.fields)) {
      expect(declared.get(name), name).toBeDefined();
      expect(valueFits(declared.get(name)!, value), `${name} = ${JSON.stringify(value)}`).toBe(true);
    }
  });

  it('a program list that cannot be read still reports the settings, with the reason', async () => {
    const check = createFirewallCheck({ platform: 'darwin', run: recordedMac({ state: 'socketfilterfw-state.kolide.txt', apps: new Error('timed out') }) });
    check.init({});
    const f = (await check.collect(ctx)).snapshots[0]!.items[0]!.fields;
    expect(f).toMatchObject({ 'firewall.enabled': true, 'firewall.stealth_mode': true, 'firewall.block_all': false, 'error.message': '--listapps: timed out' });
    expect(f['firewall.rules.count']).toBeUndefined();
  });
});

describe('macOS exposure verdicts', () => {
  const on = parseAlfState(recording('socketfilterfw-state.macos.pareto-139.txt'));
  const apps = parseAlfApps(recording('socketfilterfw-listapps.macos26.nix-darwin-1705.txt')).apps;
  const fw = (over: Partial<DarwinFirewall['state']> = {}, list: DarwinFirewall['apps'] = apps): DarwinFirewall => ({ state: { ...on, ...over }, apps: list });
  const tcp = (processName?: string) => ({ transport: 'tcp' as const, port: 8089, processName });

  it('off → reachable; block all → blocked (essential UDP services unknown)', () => {
    expect(darwinExposure({ state: parseAlfState('Firewall is disabled. (State = 0)\n') }, tcp('python3'))).toEqual({ verdict: 'reachable', reason: 'application firewall off (socketfilterfw --getglobalstate)' });
    expect(darwinExposure(fw({ blockAll: true }), tcp('python3'))).toEqual({ verdict: 'blocked', reason: 'application firewall blocks all incoming connections' });
    expect(darwinExposure(fw({ blockAll: true }), { transport: 'udp', port: 5353, processName: 'mDNSRespo' }).verdict).toBe('unknown');
    // Global state 2 with no block-all line (the m-cli recording): taken as block all, and said so.
    const two = darwinExposure({ state: parseAlfState(recording('socketfilterfw-getglobalstate.m-cli-160.txt')), apps }, tcp('python3'));
    expect(two).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('global state 2, taken as block all') });
  });

  it('on: the program list decides (allowed → reachable, blocking → blocked), by name, lsof truncation included', () => {
    expect(darwinExposure(fw(), tcp('python3'))).toEqual({ verdict: 'reachable', reason: 'application firewall on; /usr/bin/python3 is allowed incoming connections (Allow incoming connections)' });
    expect(darwinExposure(fw(), tcp('sshd-session'))).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('/usr/libexec/sshd-session is set to block') });
    // lsof prints "sshd-sess": a prefix of sshd-session only (sshd-auth and sshd-keygen-wrapper do not start with it).
    expect(matchingApps(apps, 'sshd-sess').map((a) => a.program)).toEqual(['/usr/libexec/sshd-session']);
    expect(darwinExposure(fw(), tcp('sshd-sess'))).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('matched as a prefix') });
    // "sshd-keyg" is 9 characters and matches only the wrapper, which is allowed.
    expect(darwinExposure(fw(), tcp('sshd-keyg')).verdict).toBe('reachable');
  });

  it('on, program not listed: allow-signed → reachable as an assumption; otherwise unknown (the user is asked)', () => {
    expect(darwinExposure(fw(), tcp('nginx'))).toEqual({ verdict: 'reachable', reason: 'application firewall on; nginx is not in its program list, and it automatically allows signed built-in and downloaded software: assumed signed (the agent does not verify code signatures)' });
    const strict = fw({ allowSignedBuiltIn: false, allowSignedDownloaded: false });
    expect(darwinExposure(strict, tcp('nginx'))).toMatchObject({ verdict: 'unknown', reason: expect.stringContaining('macOS asks the user') });
    expect(darwinExposure(strict, tcp(undefined)).verdict).toBe('unknown');
    expect(darwinExposure({ state: on, appsError: 'timed out' }, tcp('nginx'))).toMatchObject({ verdict: 'unknown', reason: expect.stringContaining('timed out') });
  });

  it('the name-only layout: a .app entry matches its process name', () => {
    const named = parseAlfApps(recording('socketfilterfw-listapps.kolide.txt')).apps;
    expect(darwinExposure(fw({}, named), tcp('Google Ch'))).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('Google Chrome') });
    expect(darwinExposure(fw({}, named), tcp('com.docke'))).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('com.docker.backend') });
  });
});

describe('listeners on macOS with the application firewall (recordings from different Macs, joined)', () => {
  it('gives each non-loopback lsof listener the application firewall verdict', async () => {
    const check = createListenersCheck({
      platform: 'darwin',
      run: recordedMac({ state: 'socketfilterfw-state.macos.pareto-139.txt', apps: 'socketfilterfw-listapps.macos.osquery-2322.txt', lsof: 'lsof-nP-c15-LISTEN.macos.wilsonmar.txt' }),
    });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    const byPort = (p: number) => items.find((i) => i.fields['server.port'] === p)!.fields;
    // Dropbox is listed as allowed in the recorded program list.
    expect(byPort(17500)).toMatchObject({ 'process.name': 'Dropbox', 'exposure.verdict': 'reachable', 'exposure.reason': expect.stringContaining('Dropbox.app is allowed') });
    // nginx is not listed; the recorded settings allow signed software automatically.
    expect(byPort(8080)).toMatchObject({ 'exposure.verdict': 'reachable', 'exposure.reason': expect.stringContaining('assumed signed') });
    expect(byPort(27017)['exposure.verdict']).toBe('local-only');
  });

  it('an unreadable firewall makes the verdict unknown, with the reason', async () => {
    const check = createListenersCheck({
      platform: 'darwin',
      run: recordedMac({ state: 'socketfilterfw-state.kolide.txt', apps: 'socketfilterfw-listapps.kolide.txt', lsof: 'lsof-nP-c15-LISTEN.macos.wilsonmar.txt' }),
      darwinFirewall: async () => { throw new Error('socketfilterfw is missing'); },
    });
    check.init({});
    const nginx = (await check.collect(ctx)).snapshots[0]!.items.find((i) => i.fields['server.port'] === 8080)!;
    expect(nginx.fields).toMatchObject({ 'exposure.verdict': 'unknown', 'exposure.reason': 'cannot read the application firewall: socketfilterfw is missing' });
  });
});
