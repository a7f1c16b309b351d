import { describe, expect, it } from 'vitest';
import { parseConnectionProfiles } from './net-connection-profile.js';

// No genuine Get-NetConnectionProfile JSON was found (fixtures/README.md): these rows are hand-written
// from Microsoft's reference (property names; NLM_NETWORK_CATEGORY 0 Public, 1 Private, 2 DomainAuthenticated).
describe('Get-NetConnectionProfile parser (hand-written rows)', () => {
  it('maps the network category to the firewall profile, numbers and names alike, with the interface addresses', () => {
    const text = JSON.stringify([
      { Name: 'corp.example', InterfaceAlias: 'Ethernet', InterfaceIndex: 6, NetworkCategory: 2, IPv4Connectivity: 4, IPAddresses: { value: ['fe80::5%6', '10.0.0.5'], Count: 2 } },
      { Name: 'Mạng 2', InterfaceAlias: 'Wi-Fi', InterfaceIndex: 12, NetworkCategory: 'Public', IPAddresses: '192.168.1.20' },
      { Name: 'Home', InterfaceAlias: 'Ethernet 2', InterfaceIndex: 3, NetworkCategory: 1 },
    ]);
    const { profiles, malformed } = parseConnectionProfiles(text);
    expect(malformed).toBe(0);
    expect(profiles).toEqual([
      { name: 'corp.example', interfaceAlias: 'Ethernet', interfaceIndex: 6, category: 'DomainAuthenticated', firewallProfile: 'Domain', addresses: ['fe80::5', '10.0.0.5'] },
      { name: 'Mạng 2', interfaceAlias: 'Wi-Fi', interfaceIndex: 12, category: 'Public', firewallProfile: 'Public', addresses: ['192.168.1.20'] },
      { name: 'Home', interfaceAlias: 'Ethernet 2', interfaceIndex: 3, category: 'Private', firewallProfile: 'Private', addresses: [] },
    ]);
  });

  it('a single object, nothing at all (no connected network), and rows with an unknown category', () => {
    expect(parseConnectionProfiles('{"InterfaceAlias":"Ethernet","NetworkCategory":0}').profiles).toEqual([{ interfaceAlias: 'Ethernet', category: 'Public', firewallProfile: 'Public', addresses: [] }]);
    expect(parseConnectionProfiles('')).toEqual({ profiles: [], malformed: 0 });
    expect(parseConnectionProfiles('[{"NetworkCategory":7},{"NetworkCategory":null},{"NetworkCategory":"Work"}]')).toEqual({ profiles: [], malformed: 3 });
  });
});
