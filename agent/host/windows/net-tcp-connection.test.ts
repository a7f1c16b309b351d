import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetTcpListeners } from './net-tcp-connection.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('Get-NetTCPConnection parser (genuine recording, fixtures/README.md)', () => {
  it('reads the full CIM object a Windows Server printed', () => {
    const { listeners, malformed } = parseNetTcpListeners(fixture('Get-NetTCPConnection-Listen.ws.cnquery.json'));
    expect(malformed).toBe(0);
    expect(listeners).toEqual([{ ip: '::', port: 49672, family: 'ipv6', pid: 2136, createdAt: new Date(1666572250000) }]);
  });

  it('skips connections in other states, accepts state names, counts rows it cannot read', () => {
    const text = JSON.stringify([
      { LocalAddress: '10.1.2.3', LocalPort: 50000, State: 5, OwningProcess: 9 },
      { LocalAddress: '0.0.0.0', LocalPort: 135, State: 'Listen', OwningProcess: 1000 },
      { LocalAddress: '0.0.0.0', State: 2, OwningProcess: 4 },
    ]);
    const r = parseNetTcpListeners(text);
    expect(r.listeners).toEqual([{ ip: '0.0.0.0', port: 135, family: 'ipv4', pid: 1000 }]);
    expect(r.malformed).toBe(1);
  });

  it('reads the process and services the agent query adds (not in the recording: unit-tested only)', () => {
    const text = JSON.stringify([
      { LocalAddress: '0.0.0.0', LocalPort: 135, State: 2, OwningProcess: 1000, ProcessName: 'svchost', Path: 'C:\\Windows\\system32\\svchost.exe', Services: 'RpcSs' },
      { LocalAddress: '::', LocalPort: 49664, State: 2, OwningProcess: 700, ProcessName: 'lsass', Path: null, Services: ['SamSs', 'KeyIso', 'SamSs'] },
      { LocalAddress: '0.0.0.0', LocalPort: 445, State: 2, OwningProcess: 4, ProcessName: 'System', Path: null, Services: null },
    ]);
    const r = parseNetTcpListeners(text);
    expect(r.malformed).toBe(0);
    expect(r.listeners.map((l) => [l.processName, l.executable, l.services])).toEqual([
      ['svchost', 'C:\\Windows\\system32\\svchost.exe', ['RpcSs']],
      ['lsass', undefined, ['KeyIso', 'SamSs']],
      ['System', undefined, undefined],
    ]);
  });

  it('reads Services in PowerShell 5.1\'s { value, Count } array form too (the form the genuine filter recording shows)', () => {
    const r = parseNetTcpListeners(JSON.stringify([
      { LocalAddress: '0.0.0.0', LocalPort: 135, State: 2, OwningProcess: 1000, Services: { value: ['RpcSs', 'RpcEptMapper'], Count: 2 } },
    ]));
    expect(r.listeners[0]?.services).toEqual(['RpcEptMapper', 'RpcSs']);
  });
});
