import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PowerShellJsonError } from './powershell-json.js';
import { parseFirewallFilters, psList } from './firewall-filters.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('firewall rule filters parser (genuine Server 2022 recording, fixtures/README.md)', () => {
  const { byRule, environment, malformed } = parseFirewallFilters(fixture('Get-NetFirewallRuleFilters.ws2022.cnquery.json'));

  it('joins the six filter lists by InstanceID, one entry per rule of Get-NetFirewallRule.ws2022', () => {
    expect(malformed).toBe(0);
    const rules = (JSON.parse(fixture('Get-NetFirewallRule.ws2022.cnquery.json')) as { InstanceID: string }[]).map((r) => r.InstanceID);
    expect([...byRule.keys()].sort()).toEqual([...rules].sort());
    expect(environment).toEqual({});
  });

  it('reads the port, address, application, service, interface and security filters as printed', () => {
    expect(byRule.get('RemoteDesktop-UserMode-In-TCP')).toEqual({
      protocol: 'TCP', localPorts: ['3389'], remotePorts: ['Any'], localAddresses: ['Any'], remoteAddresses: ['Any'],
      program: 'C:\\Windows\\system32\\svchost.exe', service: 'termservice', interfaceTypes: ['Any'], remoteUsers: 'Any', remoteMachines: 'Any',
    });
    expect(byRule.get('WINRM-HTTP-In-TCP')).toMatchObject({ protocol: 'TCP', localPorts: ['5985'], program: 'System', service: 'Any' });
    expect(byRule.get('NETDIS-LLMNR-In-UDP')).toMatchObject({ protocol: 'UDP', localPorts: ['5355'], remoteAddresses: ['LocalSubnet'], program: '%SystemRoot%\\system32\\svchost.exe', service: 'dnscache' });
    // PowerShell 5.1 prints a several-valued list as { value: [...], Count: n }.
    expect(byRule.get('CoreNet-ICMP6-RS-Out')).toMatchObject({ protocol: 'ICMPv6', localPorts: ['RPC'], remoteAddresses: ['LocalSubnet6', 'ff02::2', 'fe80::/64'] });
    expect(byRule.get('RRAS-GRE-In')?.protocol).toBe('47');
  });
});

describe('firewall rule filters parser, forms the recording lacks (hand-written)', () => {
  it('reads numbers, plain arrays, flag enums, the security enums, the environment and a missing list', () => {
    const text = JSON.stringify({
      Port: { InstanceID: 'r1', Protocol: 6, LocalPort: ['80', '443', '8000-8100'], RemotePort: 'Any' },
      Address: [{ InstanceID: 'r1', LocalAddress: '10.0.0.5', RemoteAddress: ['192.0.2.0/255.255.255.0', 'LocalSubnet'] }],
      Application: [{ InstanceID: 'r1', Program: '%ProgramFiles%\\nginx\\nginx.exe', Package: 'Any' }, { InstanceID: 'r2', Program: 'Any', Package: 'S-1-15-2-1' }],
      InterfaceType: [{ InstanceID: 'r1', InterfaceType: 3 }, { InstanceID: 'r2', InterfaceType: 0 }, { InstanceID: 'r3', InterfaceType: 'Wired, Wireless' }],
      Security: [{ InstanceID: 'r1', Authentication: 1, Encryption: 2, OverrideBlockRules: true, RemoteUser: 'Any', RemoteMachine: 'O:LSD:(A;;CC;;;S-1-5-21-1)' }, { InstanceID: 'r2', OverrideBlockRules: false }],
      Environment: { SystemRoot: 'D:\\Windows', ProgramFiles: 'D:\\Program Files', 'ProgramFiles(x86)': null },
    });
    const { byRule, environment, malformed } = parseFirewallFilters(text);
    expect(malformed).toBe(0);
    expect(byRule.get('r1')).toEqual({
      protocol: '6', localPorts: ['80', '443', '8000-8100'], remotePorts: ['Any'], localAddresses: ['10.0.0.5'],
      remoteAddresses: ['192.0.2.0/255.255.255.0', 'LocalSubnet'], program: '%ProgramFiles%\\nginx\\nginx.exe',
      interfaceTypes: ['Wired', 'Wireless'], authentication: 'Required', encryption: 'Dynamic', overrideBlockRules: true, remoteUsers: 'Any', remoteMachines: 'O:LSD:(A;;CC;;;S-1-5-21-1)',
    });
    expect(byRule.get('r2')).toEqual({ program: 'Any', package: 'S-1-15-2-1', interfaceTypes: ['Any'], overrideBlockRules: false });
    expect(byRule.get('r3')).toEqual({ interfaceTypes: ['Wired', 'Wireless'] });
    expect(environment).toEqual({ SystemRoot: 'D:\\Windows', ProgramFiles: 'D:\\Program Files' });
  });

  it('counts filters without an InstanceID, reads nothing as no filters, refuses what is not one JSON object', () => {
    expect(parseFirewallFilters('{"Port":[{"Protocol":"TCP"}],"Service":[{"InstanceID":"a","Service":"*"}]}')).toMatchObject({ malformed: 1 });
    expect(parseFirewallFilters('').byRule.size).toBe(0);
    expect(() => parseFirewallFilters('[1,2]')).toThrow(PowerShellJsonError);
    expect(() => parseFirewallFilters('Get-NetFirewallPortFilter : Access is denied')).toThrow(/not JSON/);
  });

  it('psList: every form PowerShell prints a list in', () => {
    expect(psList('Any')).toEqual(['Any']);
    expect(psList(5985)).toEqual(['5985']);
    expect(psList({ value: ['a', 'b'], Count: 2 })).toEqual(['a', 'b']);
    expect(psList(['a', null, ' '])).toEqual(['a']);
    expect(psList(null)).toBeUndefined();
    expect(psList([])).toBeUndefined();
  });
});
