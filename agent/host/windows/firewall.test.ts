import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFirewallProfiles, parseFirewallRules } from './firewall.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('Get-NetFirewallProfile parser (genuine recording, fixtures/README.md)', () => {
  it('reads the three profiles of a Windows Server 2022, defaults not configured', () => {
    const { items, malformed } = parseFirewallProfiles(fixture('Get-NetFirewallProfile.ws2022.cnquery.json'));
    expect(malformed).toBe(0);
    expect(items).toEqual(['Domain', 'Private', 'Public'].map((name) => ({
      name, enabled: true, defaultInbound: 'not-configured', defaultOutbound: 'not-configured', allowInboundRules: 'not-configured',
    })));
  });

  it('reads numbers and -EnumsAsStrings names alike', () => {
    const { items } = parseFirewallProfiles('[{"Name":"Public","Enabled":0,"DefaultInboundAction":2,"DefaultOutboundAction":4},'
      + '{"Name":"Domain","Enabled":"True","DefaultInboundAction":"Block","DefaultOutboundAction":"Allow","AllowInboundRules":"False"},'
      + '{"Name":"Private","Enabled":1,"DefaultInboundAction":4,"DefaultOutboundAction":2,"AllowInboundRules":0}]');
    expect(items).toEqual([
      { name: 'Public', enabled: false, defaultInbound: 'allow', defaultOutbound: 'block' },
      { name: 'Domain', enabled: true, defaultInbound: 'block', defaultOutbound: 'allow', allowInboundRules: false },
      { name: 'Private', enabled: true, defaultInbound: 'block', defaultOutbound: 'allow', allowInboundRules: false },
    ]);
  });
});

describe('Get-NetFirewallRule parser (genuine recording, fixtures/README.md)', () => {
  const { items, malformed } = parseFirewallRules(fixture('Get-NetFirewallRule.ws2022.cnquery.json'));

  it('reads every rule', () => {
    expect(malformed).toBe(0);
    expect(items).toHaveLength(8);
  });

  it('maps Enabled, Direction, Action and EdgeTraversalPolicy', () => {
    expect(items.find((r) => r.name === 'RemoteDesktop-UserMode-In-TCP')).toEqual({
      name: 'RemoteDesktop-UserMode-In-TCP', id: 'RemoteDesktop-UserMode-In-TCP', edgeTraversal: 'Block', displayName: 'Remote Desktop - User Mode (TCP-In)', group: 'Remote Desktop',
      enabled: true, direction: 'inbound', action: 'allow', profiles: 'Domain, Private',
    });
    expect(items.find((r) => r.name === 'FPS-ICMP4-ERQ-In')).toMatchObject({ enabled: false, direction: 'inbound' });
    expect(items.find((r) => r.name === 'CoreNet-DHCP-Out')).toMatchObject({ enabled: true, direction: 'outbound', profiles: 'Any' });
    expect(items.filter((r) => r.enabled && r.direction === 'inbound').map((r) => r.name)).toEqual(['WINRM-HTTP-In-TCP', 'RemoteDesktop-UserMode-In-TCP']);
  });

  it('keys a rule by InstanceID, by Name when InstanceID is not printed; reads edge traversal names and numbers', () => {
    // Hand-written rows (edge cases the recording does not have).
    const rows = parseFirewallRules(JSON.stringify([
      { InstanceID: '{6A1E7C9B-0000-0000-0000-000000000001}', Name: 'gpo-rule', Enabled: 1, Direction: 1, Action: 4, EdgeTraversalPolicy: 1 },
      { Name: 'local-rule', Enabled: 'True', Direction: 'Inbound', Action: 'Allow', EdgeTraversalPolicy: 'DeferToApp' },
    ])).items;
    expect(rows.map((r) => [r.id, r.action, r.edgeTraversal])).toEqual([
      ['{6A1E7C9B-0000-0000-0000-000000000001}', 'block', 'Allow'],
      ['local-rule', 'allow', 'DeferToApp'],
    ]);
  });

  it('reads a Profile printed as the flag number (0 Any, 1 Domain, 2 Private, 4 Public), never taking it for Any', () => {
    // Hand-written: the bare cmdlet's ConvertTo-Json prints the Profile enum as a number, as it does Enabled and Action.
    const rows = parseFirewallRules(JSON.stringify([
      { Name: 'a', Enabled: 1, Direction: 1, Action: 2, Profile: 4 },
      { Name: 'b', Enabled: 1, Direction: 1, Action: 2, Profile: 0 },
      { Name: 'c', Enabled: 1, Direction: 1, Action: 2, Profiles: '3' },
    ])).items;
    expect(rows.map((r) => r.profiles)).toEqual(['Public', 'Any', 'Domain, Private']);
  });
});
