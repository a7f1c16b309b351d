import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { Observation, CheckContext } from '../check.js';
import { parseFieldsFile, valueFits } from '../fields-spec.js';
import type { CommandId, CommandResult } from '../../host/run.js';
import { LSOF_LISTEN_ARGS } from '../../host/darwin/lsof.js';
import { recordedRunner } from '../../host/windows/fixtures/recorded-runner.js';
import type { PowerShellQueryId } from '../../host/windows/queries.js';
import { WINDOWS_RULES_NOT_EVALUATED } from '../firewall/windows.js';
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
  it('reports Get-NetTCPConnection listeners with the firewall-based verdict, every field declared', async () => {
    const calls: PowerShellQueryId[] = [];
    const check = createListenersCheck({ platform: 'win32', run: recordedRunner(calls) });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    expect(calls.sort()).toEqual(['firewall-profiles', 'firewall-rules', 'tcp-listeners']);
    // The recording is of the bare cmdlet: no ProcessName, Path or Services (the agent's query adds them).
    expect(items).toEqual([{
      kind: 'listener', stateKey: 'tcp::::49672',
      fields: {
        'server.ip': '::', 'server.port': 49672, 'network.transport': 'tcp', 'network.type': 'ipv6',
        'exposure.bind_scope': 'all', 'exposure.verdict': 'unknown', 'exposure.reason': WINDOWS_RULES_NOT_EVALUATED,
        'process.pid': 2136,
      },
    }]);
    expectDeclared(items);
  });

  it('adds process, executable and services from the query, keeps loopback local-only, reports no UDP', async () => {
    const rows = JSON.stringify([
      { LocalAddress: '0.0.0.0', LocalPort: 135, State: 2, OwningProcess: 1000, ProcessName: 'svchost', Path: 'C:\\Windows\\system32\\svchost.exe', Services: 'RpcSs' },
      { LocalAddress: '127.0.0.1', LocalPort: 5939, State: 2, OwningProcess: 3000, ProcessName: 'TeamViewer_Service', Path: null, Services: ['TeamViewer', 'Dịch vụ'] },
    ]);
    const check = createListenersCheck({ platform: 'win32', run: recordedRunner([], { 'tcp-listeners': rows, 'firewall-profiles': new Error('denied') }) });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    expect(items[0]!.fields).toMatchObject({ 'process.name': 'svchost', 'process.executable': 'C:\\Windows\\system32\\svchost.exe', 'service.name': 'RpcSs', 'service.names': ['RpcSs'], 'exposure.verdict': 'unknown' });
    expect(String(items[0]!.fields['exposure.reason'])).toContain('cannot read Windows Firewall: denied');
    expect(items[1]!.fields).toMatchObject({ 'exposure.verdict': 'local-only', 'service.names': ['Dịch vụ', 'TeamViewer'] });
    expect(items[1]!.fields['service.name']).toBeUndefined();
    expectDeclared(items);

    const udpOnly = createListenersCheck({ platform: 'win32', run: recordedRunner() });
    udpOnly.init({ transports: ['udp'] });
    expect((await udpOnly.collect(ctx)).snapshots[0]!.items).toEqual([]);
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
