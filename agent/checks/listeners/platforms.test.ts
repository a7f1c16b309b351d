import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { Observation, CheckContext } from '../check.js';
import { parseFieldsFile, valueFits } from '../fields-spec.js';
import type { CommandId, CommandResult } from '../../host/run.js';
import { LSOF_LISTEN_ARGS } from '../../host/darwin/lsof.js';
import { recordedRunner } from '../../host/windows/fixtures/recorded-runner.js';
import type { PowerShellQueryId } from '../../host/windows/queries.js';
import { createListenersCheck } from './index.js';

const ctx: CheckContext = { log: logger('test', { check: 'listeners' }), stateDir: '/nonexistent', emit: async () => {} };
const spec = parseFieldsFile(readFileSync(new URL('./fields.yaml', import.meta.url), 'utf8'), 'agent/checks/listeners/fields.yaml');

function expectDeclared(items: readonly Observation[]): void {
  const declared = new Map(spec.fields.map((f) => [f.name, f]));
  expect(items.length).toBeGreaterThan(0);
  for (const item of items) {
    for (const [name, value] of Object.entries(item.fields)) {
      expect(declared.get(name), `${name} is declared`).toBeDefined();
      expect(valueFits(declared.get(name)!, value), `${name} = ${JSON.stringify(value)}`).toBe(true);
    }
  }
}

describe('listeners on Windows (genuine recordings through a fake runner)', () => {
  // Get-NetUDPEndpoint and Get-NetConnectionProfile have no genuine recording: their answers are hand-written.
  const public1 = JSON.stringify({ Name: 'Network 2', InterfaceAlias: 'Ethernet', InterfaceIndex: 12, NetworkCategory: 0, IPAddresses: ['10.0.0.5'] });

  it('reports Get-NetTCPConnection listeners with the verdict of the genuine rules and filters, every field declared', async () => {
    const calls: PowerShellQueryId[] = [];
    const check = createListenersCheck({ platform: 'win32', run: recordedRunner(calls, { 'udp-listeners': '', 'connection-profiles': public1 }) });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    expect(calls.sort()).toEqual(['connection-profiles', 'firewall-profiles', 'firewall-rule-filters', 'firewall-rules', 'tcp-listeners', 'udp-listeners']);
    // The recording is of the bare cmdlet: no ProcessName, Path or Services (the agent's query adds them).
    expect(items).toEqual([{
      kind: 'listener', stateKey: 'tcp::::49672',
      fields: {
        'server.ip': '::', 'server.port': 49672, 'network.transport': 'tcp', 'network.type': 'ipv6',
        'exposure.bind_scope': 'all', 'exposure.verdict': 'blocked',
        'exposure.reason': 'no enabled inbound allow rule matches TCP port 49672 of pid 2136 in the Public profile (network Network 2 on Ethernet); default inbound action NotConfigured (Windows default: Block)',
        'process.pid': 2136,
      },
    }]);
    expectDeclared(items);
  });

  it('adds process, executable and services, UDP endpoints (lowest pid of a shared port), keeps loopback local-only', async () => {
    const tcp = JSON.stringify([
      { LocalAddress: '0.0.0.0', LocalPort: 5985, State: 2, OwningProcess: 4, ProcessName: 'System', Path: null, Services: null },
      { LocalAddress: '127.0.0.1', LocalPort: 5939, State: 2, OwningProcess: 3000, ProcessName: 'TeamViewer_Service', Path: null, Services: ['TeamViewer', 'Dịch vụ'] },
    ]);
    const udp = JSON.stringify([
      { LocalAddress: '0.0.0.0', LocalPort: 5355, OwningProcess: 1500, ProcessName: 'svchost', Path: 'C:\\Windows\\System32\\svchost.exe', Services: 'Dnscache' },
      { LocalAddress: '::1', LocalPort: 51000, OwningProcess: 3000, ProcessName: 'TeamViewer_Service', Path: null, Services: null },
      { LocalAddress: '0.0.0.0', LocalPort: 5355, OwningProcess: 1400, ProcessName: 'svchost', Path: 'C:\\Windows\\System32\\svchost.exe', Services: 'Dnscache' },
    ]);
    const domain = JSON.stringify({ Name: 'corp.example', InterfaceAlias: 'Ethernet', NetworkCategory: 2 });
    const check = createListenersCheck({ platform: 'win32', run: recordedRunner([], { 'tcp-listeners': tcp, 'udp-listeners': udp, 'connection-profiles': domain }) });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    expect(items.map((i) => i.stateKey)).toEqual(['tcp:0.0.0.0:5985', 'tcp:127.0.0.1:5939', 'udp:0.0.0.0:5355', 'udp:::1:51000']);
    expect(items[0]!.fields).toMatchObject({ 'process.name': 'System', 'exposure.verdict': 'reachable' });
    expect(String(items[0]!.fields['exposure.reason'])).toContain('(WINRM-HTTP-In-TCP) in the Domain profile');
    expect(items[1]!.fields).toMatchObject({ 'exposure.verdict': 'local-only', 'service.names': ['Dịch vụ', 'TeamViewer'] });
    expect(items[1]!.fields['service.name']).toBeUndefined();
    // LLMNR's rule is disabled in the recording.
    expect(items[2]!.fields).toMatchObject({ 'network.transport': 'udp', 'process.pid': 1400, 'service.name': 'Dnscache', 'exposure.verdict': 'blocked' });
    expect(items[3]!.fields).toMatchObject({ 'network.transport': 'udp', 'exposure.verdict': 'local-only' });
    expectDeclared(items);
  });

  it('reads only the transports configured; an unreadable firewall leaves the verdict unknown', async () => {
    const calls: PowerShellQueryId[] = [];
    const udp = JSON.stringify({ LocalAddress: '0.0.0.0', LocalPort: 123, OwningProcess: 1520, ProcessName: 'svchost', Services: 'W32Time' });
    const udpOnly = createListenersCheck({ platform: 'win32', run: recordedRunner(calls, { 'udp-listeners': udp, 'firewall-profiles': new Error('denied') }) });
    udpOnly.init({ transports: ['udp'] });
    const items = (await udpOnly.collect(ctx)).snapshots[0]!.items;
    expect(calls).not.toContain('tcp-listeners');
    expect(items.map((i) => [i.stateKey, i.fields['exposure.verdict'], i.fields['exposure.reason']])).toEqual([
      ['udp:0.0.0.0:123', 'unknown', 'cannot read Windows Firewall: denied'],
    ]);
  });
});

describe('listeners on macOS (genuine lsof recording, agent/host/darwin/fixtures)', () => {
  it('reports lsof listeners with process and user; beyond loopback the application firewall decides', async () => {
    const recorded = readFileSync(new URL('../../host/darwin/fixtures/lsof-nP-c15-LISTEN.macos.wilsonmar.txt', import.meta.url), 'utf8');
    const calls: [CommandId, readonly string[]][] = [];
    const check = createListenersCheck({
      platform: 'darwin',
      run: async (id, args): Promise<CommandResult> => {
        calls.push([id, args]);
        return { path: '/usr/sbin/lsof', stdout: recorded, stderr: '', durationMs: 1 };
      },
    });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    // The application firewall is read too (agent/checks/firewall/darwin.test.ts); here it answers lsof's text, which says nothing about it.
    expect(calls.filter(([id]) => id === 'lsof')).toEqual([['lsof', LSOF_LISTEN_ARGS]]);
    const nginx = items.find((i) => i.fields['server.port'] === 8080)!;
    expect(nginx.fields).toMatchObject({
      'server.ip': '0.0.0.0', 'network.transport': 'tcp', 'process.pid': 20244, 'process.name': 'nginx', 'user.name': 'mac',
      'exposure.bind_scope': 'all', 'exposure.verdict': 'unknown',
    });
    expect(items.find((i) => i.fields['server.port'] === 27017)!.fields['exposure.verdict']).toBe('local-only');
    expect(items.find((i) => i.fields['server.port'] === 49387)!.fields['process.name']).toBe('Resilio Sync');
    expectDeclared(items);
  });
});
