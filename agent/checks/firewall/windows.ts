/**
 * Windows Defender Firewall: reading it (the fixed PowerShell queries), its `firewall` items (one per
 * profile) and what it lets the listeners check say about exposure.
 */
import type { Observation } from '../check.js';
import type { CommandId, Runner } from '../../host/run.js';
import { runPowerShell } from '../../host/windows/powershell.js';
import {
  parseFirewallProfiles, parseFirewallRules, type FirewallAction, type WindowsFirewallProfile, type WindowsFirewallRule,
} from '../../host/windows/firewall.js';
import { parseFirewallFilters, type FirewallFilters } from '../../host/windows/firewall-filters.js';
import { parseConnectionProfiles, type ConnectionProfile } from '../../host/windows/net-connection-profile.js';
import { ruleApplies } from './windows-exposure.js';

export { ruleApplies };

export interface WindowsFirewall {
  profiles: WindowsFirewallProfile[];
  /** Enabled inbound rules; undefined when they could not be read. */
  rules?: WindowsFirewallRule[];
  rulesError?: string;
  /** The rules' filters (read for exposure only). */
  filters?: FirewallFilters;
  filtersError?: string;
  /** The connected networks and their category. */
  networks?: ConnectionProfile[];
  networksError?: string;
}

/** `profiles`: what the firewall check reports (profiles, rules, connected networks); `exposure`: also the rule filters the evaluator needs. */
export type WindowsFirewallDetail = 'profiles' | 'exposure';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function readWindowsFirewall(run: Runner<CommandId>, detail: WindowsFirewallDetail = 'profiles'): Promise<WindowsFirewall> {
  const exposure = detail === 'exposure';
  const [profiles, rules, filters, networks] = await Promise.all([
    runPowerShell(run, 'firewall-profiles').then(parseFirewallProfiles),
    runPowerShell(run, 'firewall-rules').then(parseFirewallRules).catch((e: unknown) => new Error(message(e))),
    exposure ? runPowerShell(run, 'firewall-rule-filters').then(parseFirewallFilters).catch((e: unknown) => new Error(message(e))) : undefined,
    runPowerShell(run, 'connection-profiles').then(parseConnectionProfiles).catch((e: unknown) => new Error(message(e))),
  ]);
  const fw: WindowsFirewall = { profiles: profiles.items };
  if (rules instanceof Error) fw.rulesError = rules.message;
  else fw.rules = rules.items.filter((r) => r.enabled && r.direction === 'inbound');
  if (filters instanceof Error) fw.filtersError = filters.message;
  else if (filters) fw.filters = filters;
  if (networks instanceof Error) fw.networksError = networks.message;
  else fw.networks = networks.profiles;
  return fw;
}

const MAX_SUMMARY = 50;

/**
 * NotConfigured means the profile's local store leaves the setting to Windows' built-in default
 * (firewall on, inbound blocked); a group policy could say otherwise, and is not read. Such values
 * are reported as the default and named in firewall.assumed.
 */
function inbound(a: FirewallAction): 'allow' | 'deny' {
  return a === 'allow' ? 'allow' : 'deny';
}

export function windowsFirewallItems(fw: WindowsFirewall): Observation[] {
  return fw.profiles.map((p) => {
    const profile = p.name.toLowerCase();
    const assumed = [...(p.enabled === 'not-configured' ? ['enabled'] : []), ...(p.defaultInbound === 'not-configured' ? ['default_inbound'] : [])];
    const allow = fw.rules?.filter((r) => r.action === 'allow' && ruleApplies(r, p.name));
    const fields: Observation['fields'] = {
      'firewall.product': 'windows-firewall',
      'firewall.profile': profile,
      'firewall.enabled': p.enabled !== false,
      'firewall.default_inbound': inbound(p.defaultInbound),
    };
    if (assumed.length > 0) fields['firewall.assumed'] = assumed;
    if (fw.networks) {
      const here = fw.networks.filter((n) => n.firewallProfile.toLowerCase() === profile);
      fields['firewall.active'] = here.length > 0;
      if (here.length > 0) fields['firewall.networks'] = here.map((n) => `${n.name ?? '?'}${n.interfaceAlias ? ` (${n.interfaceAlias})` : ''}`);
    }
    if (p.allowInboundRules === false) {
      // "Block all incoming connections, including those in the list of allowed apps": allow rules are ignored.
      fields['firewall.block_all'] = true;
      fields['firewall.rules.count'] = 0;
      if (allow && allow.length > 0) fields['firewall.rules.summary'] = [`${allow.length} allow rules ignored: AllowInboundRules is False (block all incoming)`];
    } else if (allow) {
      fields['firewall.rules.count'] = allow.length;
      fields['firewall.rules.summary'] = allow.slice(0, MAX_SUMMARY).map((r) => r.displayName ?? r.name);
    }
    if (fw.rulesError !== undefined) fields['error.message'] = `inbound rules not readable: ${fw.rulesError}`;
    return { kind: 'firewall', stateKey: `windows-firewall:${profile}`, fields };
  });
}
