import { describe, expect, it } from 'vitest';
import { parseFirewallProfiles, parseFirewallRules, type WindowsFirewallProfile, type WindowsFirewallRule } from '../../host/windows/firewall.js';
import { parseFirewallFilters, type RuleFilters } from '../../host/windows/firewall-filters.js';
import type { ConnectionProfile } from '../../host/windows/net-connection-profile.js';
import { recording } from '../../host/windows/fixtures/recorded-runner.js';
import type { WindowsFirewall } from './windows.js';
import { windowsListenerExposure, type WindowsListener } from './windows-exposure.js';

const network = (firewallProfile: ConnectionProfile['firewallProfile'], addresses: string[] = [], interfaceAlias = 'Ethernet'): ConnectionProfile => ({
  name: `${firewallProfile} net`, interfaceAlias, category: firewallProfile === 'Domain' ? 'DomainAuthenticated' : firewallProfile, firewallProfile, addresses,
});

/** The genuine Server 2022 recordings (profiles, rules, rule filters; fixtures/README.md), with the networks a test names. */
function recorded(networks?: ConnectionProfile[]): WindowsFirewall {
  const fw: WindowsFirewall = {
    profiles: parseFirewallProfiles(recording('Get-NetFirewallProfile.ws2022.cnquery.json')).items,
    rules: parseFirewallRules(recording('Get-NetFirewallRule.ws2022.cnquery.json')).items.filter((r) => r.enabled && r.direction === 'inbound'),
    filters: parseFirewallFilters(recording('Get-NetFirewallRuleFilters.ws2022.cnquery.json')),
  };
  if (networks) fw.networks = networks;
  return fw;
}

// The listeners are hand-written: no genuine recording joins a Windows socket with its process and services.
const winrm: WindowsListener = { ip: '0.0.0.0', port: 5985, transport: 'tcp', family: 'ipv4', pid: 4, scope: 'all' };
const rdp: WindowsListener = {
  ip: '::', port: 3389, transport: 'tcp', family: 'ipv6', pid: 1184, scope: 'all',
  executable: 'C:\\WINDOWS\\System32\\svchost.exe', services: ['TermService'],
};

describe('Windows exposure on the genuine Server 2022 rules and filters', () => {
  it('WinRM (System, TCP 5985) is reachable on a Domain network by its rule, blocked on a Public one by the default', () => {
    expect(windowsListenerExposure(winrm, recorded([network('Domain')]))).toEqual({
      verdict: 'reachable', reason: 'allowed by rule "Windows Remote Management (HTTP-In)" (WINRM-HTTP-In-TCP) in the Domain profile (network Domain net on Ethernet)',
    });
    expect(windowsListenerExposure(winrm, recorded([network('Public')]))).toEqual({
      verdict: 'blocked',
      reason: 'no enabled inbound allow rule matches TCP port 5985 of System in the Public profile (network Public net on Ethernet); default inbound action NotConfigured (Windows default: Block)',
    });
  });

  it('RDP matches its rule by program path (case and %SystemRoot% aside) and service; another program on 3389 does not', () => {
    expect(windowsListenerExposure(rdp, recorded([network('Private')])).reason).toContain('"Remote Desktop - User Mode (TCP-In)" (RemoteDesktop-UserMode-In-TCP)');
    expect(windowsListenerExposure({ ...rdp, executable: 'C:\\tools\\rdp-proxy.exe', services: [] }, recorded([network('Private')])).verdict).toBe('blocked');
    // The rule names termservice: a svchost hosting several services cannot be told apart.
    expect(windowsListenerExposure({ ...rdp, services: ['TermService', 'UmRdpService'] }, recorded([network('Private')]))).toMatchObject({ verdict: 'unknown' });
  });

  it('the socket of the genuine Get-NetTCPConnection recording (:: 49672, pid 2136) matches no rule: blocked in every profile', () => {
    const l: WindowsListener = { ip: '::', port: 49672, transport: 'tcp', family: 'ipv6', pid: 2136, scope: 'all' };
    const e = windowsListenerExposure(l, recorded());
    expect(e.verdict).toBe('blocked');
    expect(e.reason).toMatch(/^no connected network is listed; the same in every profile: no enabled inbound allow rule matches TCP port 49672 of pid 2136/);
  });

  it('a disabled rule (LLMNR, UDP 5355, Enabled False in the recording) allows nothing', () => {
    const llmnr: WindowsListener = { ip: '0.0.0.0', port: 5355, transport: 'udp', family: 'ipv4', pid: 1500, scope: 'all', executable: 'C:\\Windows\\System32\\svchost.exe', services: ['Dnscache'] };
    expect(windowsListenerExposure(llmnr, recorded([network('Private')])).verdict).toBe('blocked');
  });

  it('a reachable network wins over a blocked one; a specific address takes the profile of the interface that has it', () => {
    const two = [network('Public', ['203.0.113.7'], 'Wi-Fi'), network('Domain', ['10.0.0.5'])];
    expect(windowsListenerExposure(winrm, recorded(two)).verdict).toBe('reachable');
    expect(windowsListenerExposure({ ...winrm, ip: '203.0.113.7', scope: 'specific' }, recorded(two)).verdict).toBe('blocked');
    expect(windowsListenerExposure({ ...winrm, ip: '10.0.0.5', scope: 'specific' }, recorded(two)).verdict).toBe('reachable');
  });
});

// Hand-written firewalls for what the recordings do not show.
const on = (name: string, defaultInbound: WindowsFirewallProfile['defaultInbound'] = 'block'): WindowsFirewallProfile => ({ name, enabled: true, defaultInbound, defaultOutbound: 'allow' });
const ANY: RuleFilters = {
  protocol: 'TCP', localPorts: ['8080'], remotePorts: ['Any'], localAddresses: ['Any'], remoteAddresses: ['Any'],
  program: 'Any', service: 'Any', interfaceTypes: ['Any'], remoteUsers: 'Any', remoteMachines: 'Any',
};
function fw(rules: [Partial<WindowsFirewallRule> & { name: string }, Partial<RuleFilters>][], opts: { profiles?: WindowsFirewallProfile[]; environment?: Record<string, string> } = {}): WindowsFirewall {
  return {
    profiles: opts.profiles ?? [on('Domain'), on('Private'), on('Public')],
    rules: rules.map(([r]) => ({ id: r.name, enabled: true, direction: 'inbound', action: 'allow', profiles: 'Any', ...r })),
    filters: { byRule: new Map(rules.map(([r, f]) => [r.id ?? r.name, { ...ANY, ...f }])), environment: opts.environment ?? {}, malformed: 0 },
    networks: [network('Public')],
  };
}
const web: WindowsListener = { ip: '0.0.0.0', port: 8080, transport: 'tcp', family: 'ipv4', pid: 3000, scope: 'all', executable: 'C:\\Program Files\\nginx\\nginx.exe' };

describe('Windows exposure model (hand-written rules and filters)', () => {
  it('a block rule overrides an allow rule; the profile must be in the rule', () => {
    const both = fw([[{ name: 'allow-web', displayName: 'Web' }, {}], [{ name: 'block-web', action: 'block' }, {}]]);
    expect(windowsListenerExposure(web, both)).toEqual({ verdict: 'blocked', reason: 'blocked by rule "block-web" in the Public profile (network Public net on Ethernet) (block rules override allow rules)' });
    expect(windowsListenerExposure(web, fw([[{ name: 'allow-web', profiles: 'Domain, Private' }, {}]])).verdict).toBe('blocked');
    expect(windowsListenerExposure(web, fw([[{ name: 'allow-web', profiles: 'Private, Public' }, {}]])).verdict).toBe('reachable');
  });

  it('firewall off in the active profile, or a default inbound Allow, makes it reachable', () => {
    const off = fw([], { profiles: [on('Domain'), on('Private'), { ...on('Public'), enabled: false }] });
    expect(windowsListenerExposure(web, off)).toEqual({ verdict: 'reachable', reason: 'Windows Firewall is off in the Public profile (network Public net on Ethernet)' });
    expect(windowsListenerExposure(web, fw([], { profiles: [on('Public', 'allow')] })).reason).toContain('default inbound action Allow');
    expect(windowsListenerExposure(web, { profiles: ['Domain', 'Private', 'Public'].map((n) => ({ ...on(n), enabled: false })) }).verdict).toBe('reachable');
  });

  it('"block all incoming connections" (AllowInboundRules False) ignores every allow rule; NotConfigured does not', () => {
    const shieldsUp = fw([[{ name: 'allow-web' }, {}]], { profiles: [{ ...on('Public'), allowInboundRules: false }] });
    expect(windowsListenerExposure(web, shieldsUp)).toEqual({
      verdict: 'blocked',
      reason: 'inbound allow rules are not applied in the Public profile (network Public net on Ethernet): AllowInboundRules False (block all incoming connections, including allowed apps); default inbound action Block',
    });
    const conditional = fw([[{ name: 'r' }, { remoteAddresses: ['LocalSubnet'] }]], { profiles: [{ ...on('Public'), allowInboundRules: false }] });
    expect(windowsListenerExposure(web, conditional).verdict).toBe('blocked');
    expect(windowsListenerExposure(web, fw([[{ name: 'allow-web' }, {}]], { profiles: [{ ...on('Public'), allowInboundRules: 'not-configured' }] })).verdict).toBe('reachable');
  });

  it('an allow rule with authenticated bypass (OverrideBlockRules) beats a block rule, for its IPsec peers only', () => {
    const bypass = fw([[{ name: 'block-web', action: 'block' }, {}], [{ name: 'admins', displayName: 'Web for admins' }, { authentication: 'Required', overrideBlockRules: true }]]);
    expect(windowsListenerExposure(web, bypass)).toEqual({
      verdict: 'reachable',
      reason: 'allowed only for IPsec-authenticated peers by rule "Web for admins" (admins) in the Public profile (network Public net on Ethernet), which overrides block rule "block-web" (authenticated bypass); everything else blocked by that rule',
    });
    // Without the override flag the block rule wins, authentication or not.
    const plain = fw([[{ name: 'block-web', action: 'block' }, {}], [{ name: 'admins' }, { authentication: 'Required', overrideBlockRules: false }]]);
    expect(windowsListenerExposure(web, plain).verdict).toBe('blocked');
    // A bypass rule that may not match this socket leaves it undecided.
    const maybe = fw([[{ name: 'block-web', action: 'block' }, {}], [{ name: 'admins' }, { authentication: 'Required', overrideBlockRules: true, interfaceTypes: ['Wired'] }]]);
    expect(windowsListenerExposure(web, maybe).verdict).toBe('unknown');
  });

  it('ports: lists, ranges, protocol Any, the other transport; RPC keywords cannot be decided', () => {
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { localPorts: ['80', '8000-8100'] }]])).verdict).toBe('reachable');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { protocol: 'Any', localPorts: ['Any'] }]])).verdict).toBe('reachable');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { protocol: 'UDP' }]])).verdict).toBe('blocked');
    expect(windowsListenerExposure({ ...web, transport: 'udp' }, fw([[{ name: 'r' }, { protocol: '17' }]])).verdict).toBe('reachable');
    const rpc = windowsListenerExposure({ ...web, port: 49668 }, fw([[{ name: 'r' }, { localPorts: ['RPC'] }]]));
    expect(rpc.verdict).toBe('unknown');
    expect(rpc.reason).toContain('local port keyword RPC');
    expect(windowsListenerExposure({ ...web, port: 135 }, fw([[{ name: 'r' }, { localPorts: ['RPCEPMap'] }]])).verdict).toBe('reachable');
  });

  it('programs: %ProgramFiles% expanded with the host environment, unreadable paths and packaged apps undecided', () => {
    const nginx: Partial<RuleFilters> = { program: '%ProgramFiles%\\nginx\\nginx.exe' };
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, nginx]])).verdict).toBe('reachable');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, nginx]], { environment: { ProgramFiles: 'D:\\Apps' } })).verdict).toBe('blocked');
    const { executable: _, ...unknownPath } = web;
    expect(windowsListenerExposure(unknownPath, fw([[{ name: 'r' }, nginx]])).verdict).toBe('unknown');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { program: '%NGINX_HOME%\\nginx.exe' }]])).verdict).toBe('unknown');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { package: 'S-1-15-2-1' }]])).verdict).toBe('unknown');
  });

  it('services: a named service, any service (*), no service', () => {
    expect(windowsListenerExposure({ ...web, services: ['nginx'] }, fw([[{ name: 'r' }, { service: 'NGINX' }]])).verdict).toBe('reachable');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { service: '*' }]])).verdict).toBe('blocked');
    expect(windowsListenerExposure({ ...web, services: ['nginx'] }, fw([[{ name: 'r' }, { service: '*' }]])).verdict).toBe('reachable');
  });

  it('remote address and IPsec restrictions: reachable only from those peers, said so; interface types undecided', () => {
    const subnet = windowsListenerExposure(web, fw([[{ name: 'r', displayName: 'Web (LAN)' }, { remoteAddresses: ['LocalSubnet'] }]]));
    expect(subnet).toEqual({
      verdict: 'reachable',
      reason: 'allowed only from remote address LocalSubnet by rule "Web (LAN)" (r) in the Public profile (network Public net on Ethernet); everything else blocked (default inbound action Block)',
    });
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { remoteAddresses: ['2001:db8::/32'] }]])).verdict).toBe('blocked');
    // A socket on :: may be dual-mode (IPV6_V6ONLY off: Node, .NET, Java listen so) and Get-NetTCPConnection lists it once, as ::.
    const v6any: WindowsListener = { ...web, ip: '::', family: 'ipv6' };
    expect(windowsListenerExposure(v6any, fw([[{ name: 'r' }, { remoteAddresses: ['192.0.2.0/24'] }]])).reason).toContain('allowed only from remote address 192.0.2.0/24');
    expect(windowsListenerExposure({ ...v6any, ip: '2001:db8::5', scope: 'specific' }, fw([[{ name: 'r' }, { remoteAddresses: ['192.0.2.0/24'] }]])).verdict).toBe('blocked');
    // Keywords restricted to one family by a 4 or 6 suffix (LocalSubnet6 is in the genuine filter recording).
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { remoteAddresses: ['LocalSubnet6', 'fe80::/64'] }]])).verdict).toBe('blocked');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { remoteAddresses: ['LocalSubnet4'] }]])).verdict).toBe('reachable');
    expect(windowsListenerExposure({ ...web, ip: '10.0.0.5', scope: 'specific' }, fw([[{ name: 'r' }, { localAddresses: ['LocalSubnet6'] }]])).verdict).toBe('blocked');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { authentication: 'Required' }]])).reason).toContain('only for IPsec-authenticated peers');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, { interfaceTypes: ['Wireless'] }]])).verdict).toBe('unknown');
  });

  it('local addresses: a specific socket inside or outside them; a wildcard socket only partly', () => {
    const only = (ip: string): Partial<RuleFilters> => ({ localAddresses: [ip] });
    expect(windowsListenerExposure({ ...web, ip: '10.0.0.5', scope: 'specific' }, fw([[{ name: 'r' }, only('10.0.0.0/255.0.0.0')]])).verdict).toBe('reachable');
    expect(windowsListenerExposure({ ...web, ip: '10.0.0.5', scope: 'specific' }, fw([[{ name: 'r' }, only('10.0.0.1-10.0.0.4')]])).verdict).toBe('blocked');
    expect(windowsListenerExposure(web, fw([[{ name: 'r' }, only('10.0.0.5')]])).reason).toContain('allowed only to local address 10.0.0.5');
  });

  it('a block rule that may apply leaves an allowed socket unknown; a partial block is named as the exception', () => {
    const maybe = fw([[{ name: 'allow' }, {}], [{ name: 'block', action: 'block' }, { interfaceTypes: ['Wireless'] }]]);
    expect(windowsListenerExposure(web, maybe).verdict).toBe('unknown');
    const partial = windowsListenerExposure(web, fw([[{ name: 'allow' }, {}], [{ name: 'block', action: 'block' }, { remoteAddresses: ['198.51.100.0/24'] }]]));
    expect(partial.verdict).toBe('reachable');
    expect(partial.reason).toContain('except traffic matching block rule "block" (only from remote address 198.51.100.0/24)');
  });

  it('edge traversal is noted; rules without filters, unreadable rules or filters are unknown', () => {
    expect(windowsListenerExposure(web, fw([[{ name: 'r', edgeTraversal: 'Allow' }, {}]])).reason).toContain('edge traversal Allow');
    const noFilters = fw([[{ name: 'r' }, {}]]);
    noFilters.filters!.byRule.clear();
    expect(windowsListenerExposure(web, noFilters).reason).toContain('its filters were not read');
    expect(windowsListenerExposure(web, { profiles: [on('Public')], rulesError: 'denied' })).toEqual({ verdict: 'unknown', reason: 'Windows Firewall rules not readable: denied' });
    expect(windowsListenerExposure(web, { profiles: [on('Public')], rules: [], filtersError: 'timeout' }).reason).toBe('Windows Firewall rule filters not readable: timeout');
  });

  it('without the active network: a verdict only when every profile agrees', () => {
    const domainOnly = fw([[{ name: 'r', profiles: 'Domain' }, {}]]);
    delete domainOnly.networks;
    domainOnly.networksError = 'Get-NetConnectionProfile failed';
    expect(windowsListenerExposure(web, domainOnly)).toEqual({
      verdict: 'unknown',
      reason: 'the active network profile is not readable (Get-NetConnectionProfile failed), and the profiles disagree: Domain: reachable, Private: blocked, Public: blocked',
    });
    const everywhere = fw([[{ name: 'r' }, {}]]);
    everywhere.networks = [];
    expect(windowsListenerExposure(web, everywhere).verdict).toBe('reachable');
  });
});
