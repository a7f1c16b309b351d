import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PowerShellJsonError } from './powershell-json.js';
import { parseNetUdpEndpoints } from './net-udp-endpoint.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('Get-NetUDPEndpoint parser', () => {
  // No genuine Get-NetUDPEndpoint recording exists (fixtures/README.md). Its endpoint properties have
  // the names and types of Get-NetTCPConnection's, so the genuine TCP recording (full CIM object,
  // PowerShell 5.1 layout) checks that the parser reads that layout; UDP has no State to filter on.
  it('reads LocalAddress, LocalPort, OwningProcess and CreationTime from the CIM layout of the genuine TCP recording', () => {
    const { endpoints, malformed } = parseNetUdpEndpoints(fixture('Get-NetTCPConnection-Listen.ws.cnquery.json'));
    expect(malformed).toBe(0);
    expect(endpoints).toEqual([{ ip: '::', port: 49672, family: 'ipv6', pid: 2136, createdAt: new Date(1666572250000) }]);
  });

  it('reads the rows the agent query prints (hand-written: process and services columns, a single object, nothing)', () => {
    const rows = JSON.stringify([
      { LocalAddress: '0.0.0.0', LocalPort: 123, OwningProcess: 1520, CreationTime: '/Date(1686123230000)/', ProcessName: 'svchost', Path: 'C:\\Windows\\system32\\svchost.exe', Services: 'W32Time' },
      { LocalAddress: 'fe80::1c2d:3e4f:5a6b:7c8d%12', LocalPort: 1900, OwningProcess: 3100, ProcessName: 'svchost', Path: null, Services: ['SSDPSRV', 'upnphost'] },
      { LocalAddress: '0.0.0.0', LocalPort: 137, OwningProcess: 4, ProcessName: 'System', Path: null, Services: null },
    ]);
    const { endpoints, malformed } = parseNetUdpEndpoints(rows);
    expect(malformed).toBe(0);
    expect(endpoints).toEqual([
      { ip: '0.0.0.0', port: 123, family: 'ipv4', pid: 1520, createdAt: new Date(1686123230000), processName: 'svchost', executable: 'C:\\Windows\\system32\\svchost.exe', services: ['W32Time'] },
      { ip: 'fe80::1c2d:3e4f:5a6b:7c8d%12', port: 1900, family: 'ipv6', pid: 3100, processName: 'svchost', services: ['SSDPSRV', 'upnphost'] },
      { ip: '0.0.0.0', port: 137, family: 'ipv4', pid: 4, processName: 'System' },
    ]);
    expect(parseNetUdpEndpoints('{"LocalAddress":"127.0.0.1","LocalPort":"55000","OwningProcess":9}').endpoints).toEqual([{ ip: '127.0.0.1', port: 55000, family: 'ipv4', pid: 9 }]);
    expect(parseNetUdpEndpoints('')).toEqual({ endpoints: [], malformed: 0 });
  });

  it('counts rows it cannot read and refuses text that is not JSON', () => {
    const r = parseNetUdpEndpoints(JSON.stringify([
      { LocalAddress: '0.0.0.0', LocalPort: 70000, OwningProcess: 1 },
      { LocalAddress: '0.0.0.0', OwningProcess: 1 },
      { LocalPort: 53, OwningProcess: 1 },
      { LocalAddress: '0.0.0.0', LocalPort: 53, OwningProcess: 'x' },
    ]));
    expect(r).toEqual({ endpoints: [], malformed: 4 });
    expect(() => parseNetUdpEndpoints('Get-NetUDPEndpoint : Access is denied')).toThrow(PowerShellJsonError);
  });
});
