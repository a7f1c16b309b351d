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

export interface WindowsFirewall {
  profiles: WindowsFirewallProfile[];
  /** Enabled inbound rules; undefined when they could not be read. */
  rules?: WindowsFirewallRule[];
  rulesError?: string;
}

export async function readWindowsFirewall(run: Runner<CommandId>): Promise<WindowsFirewall> {
  const [profiles, rules] = await Promise.all([
    runPowerShell(run, 'firewall-profiles').then(parseFirewallProfiles),
    runPowerShell(run, 'firewall-rules').then(parseFirewallRules).catch((e: unknown) => e as Error),
  ]);
  if (rules instanceof Error) return { profiles: profiles.items, rulesError: rules.message };
  return { profiles: profiles.items, rules: rules.items.filter((r) => r.enabled && r.direction === 'inbound') };
}

const MAX_SUMMARY = 50;

/** Whether a rule's Profiles (`Any`, `Domain, Private`, …) include a profile. */
export function ruleApplies(rule: WindowsFirewallRule, profile: string): boolean {
  const list = (rule.profiles ?? 'Any').split(',').map((p) => p.trim().toLowerCase());
  return list.includes('any') || list.includes(profile.toLowerCase());
}

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
    if (allow) {
      fields['firewall.rules.count'] = allow.length;
      fields['firewall.rules.summary'] = allow.slice(0, MAX_SUMMARY).map((r) => r.displayName ?? r.name);
    }
    if (fw.rulesError !== undefined) fields['error.message'] = `inbound rules not readable: ${fw.rulesError}`;
    return { kind: 'firewall', stateKey: `windows-firewall:${profile}`, fields };
  });
}

export const WINDOWS_RULES_NOT_EVALUATED = 'Windows Firewall rules not evaluated yet';

/**
 * A listener's exposure from the Windows firewall, as far as it is known without evaluating rules
 * (their port, address and program filters are not read): reachable when the firewall is off in
 * every profile, unknown otherwise.
 */
export function windowsExposure(fw: WindowsFirewall): { verdict: 'reachable' | 'unknown'; reason: string } {
  if (fw.profiles.length > 0 && fw.profiles.every((p) => p.enabled === false)) {
    return { verdict: 'reachable', reason: 'Windows Firewall is off in every profile (Domain, Private, Public)' };
  }
  return { verdict: 'unknown', reason: WINDOWS_RULES_NOT_EVALUATED };
}
