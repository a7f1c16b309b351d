/**
 * Parser for `Get-NetConnectionProfile | Select-Object … | ConvertTo-Json` (MSFT_NetConnectionProfile,
 * the `connection-profiles` query): which network each connected interface is on, and so which
 * Windows Firewall profile applies to it. Text in, profiles out, no I/O.
 *
 * NetworkCategory is a number without -EnumsAsStrings — 0 Public, 1 Private, 2 DomainAuthenticated
 * (NLM_NETWORK_CATEGORY, Microsoft's netlistmgr.h reference) — or that name. DomainAuthenticated
 * networks get the firewall's Domain profile. IPAddresses is a calculated column of the agent's
 * query (the interface's addresses from Get-NetIPAddress). No genuine recording of this JSON was
 * found (fixtures/README.md): tested on hand-written rows only.
 */
import { psEnum, psGet, psInt, psList, psRows, psString } from './powershell-json.js';

const CATEGORY = { 0: 'Public', 1: 'Private', 2: 'DomainAuthenticated' } as const;

export type FirewallProfileName = 'Domain' | 'Private' | 'Public';

export interface ConnectionProfile {
  /** The network's name (Network 2, a Wi-Fi SSID, the domain). */
  name?: string;
  interfaceAlias?: string;
  interfaceIndex?: number;
  category: 'Public' | 'Private' | 'DomainAuthenticated';
  /** The firewall profile this network gets. */
  firewallProfile: FirewallProfileName;
  /** The interface's addresses, when the query listed them. */
  addresses: string[];
}

export interface ConnectionProfileParse { profiles: ConnectionProfile[]; malformed: number }

export function parseConnectionProfiles(text: string): ConnectionProfileParse {
  const profiles: ConnectionProfile[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const category = psEnum(psGet(row, 'NetworkCategory'), CATEGORY);
    if (category === undefined) {
      malformed++;
      continue;
    }
    const p: ConnectionProfile = {
      category,
      firewallProfile: category === 'DomainAuthenticated' ? 'Domain' : category,
      addresses: (psList(psGet(row, 'IPAddresses')) ?? []).map((a) => a.replace(/%\d+$/, '')),
    };
    const name = psString(psGet(row, 'Name'));
    const alias = psString(psGet(row, 'InterfaceAlias'));
    const index = psInt(psGet(row, 'InterfaceIndex'));
    if (name !== undefined) p.name = name;
    if (alias !== undefined) p.interfaceAlias = alias;
    if (index !== undefined) p.interfaceIndex = index;
    profiles.push(p);
  }
  return { profiles, malformed };
}
