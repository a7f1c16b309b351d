/**
 * Parsers for Windows Defender Firewall state: `Get-NetFirewallProfile | ConvertTo-Json`
 * (MSFT_NetFirewallProfile) and `Get-NetFirewallRule | Select-Object … | ConvertTo-Json`
 * (MSFT_NetFirewallRule). Text in, data out, no I/O.
 *
 * Enums arrive as numbers (names under PowerShell 7 `-EnumsAsStrings`):
 * - profile Enabled and AllowInboundRules are GpoBooleans: 0 False, 1 True, 2 NotConfigured
 *   (AllowInboundRules False is "Block all incoming connections, including those in the list of
 *   allowed apps": inbound allow rules are ignored);
 * - DefaultInboundAction / DefaultOutboundAction / rule Action: 0 NotConfigured, 2 Allow, 4 Block.
 *   NotConfigured on a profile means Windows' built-in default applies (inbound Block, outbound Allow)
 *   unless a GPO says otherwise: it is reported as is, not guessed;
 * - rule Enabled: 1 True, 2 False; Direction: 1 Inbound, 2 Outbound; Profile flags 0 Any, 1 Domain,
 *   2 Private, 4 Public (the query prints the names, `$_.Profile.ToString()`: `Domain, Private`).
 * - rule EdgeTraversalPolicy: 0 Block, 1 Allow, 2 DeferToUser, 3 DeferToApp.
 * Rule addresses, ports, programs and services live in separate filter objects (firewall-filters.ts).
 */
import { psEnum, psGet, psRows, psString } from './powershell-json.js';

const GPO_BOOLEAN = { 0: 'False', 1: 'True', 2: 'NotConfigured' } as const;
const ACTION = { 0: 'NotConfigured', 2: 'Allow', 4: 'Block' } as const;
const RULE_ENABLED = { 1: 'True', 2: 'False' } as const;
const DIRECTION = { 1: 'Inbound', 2: 'Outbound' } as const;
/** MSFT_NetFirewallRule.EdgeTraversalPolicy. */
const EDGE_TRAVERSAL = { 0: 'Block', 1: 'Allow', 2: 'DeferToUser', 3: 'DeferToApp' } as const;

export type FirewallAction = 'allow' | 'block' | 'not-configured';

export interface WindowsFirewallProfile {
  /** Domain, Private or Public. */
  name: string;
  enabled: boolean | 'not-configured';
  defaultInbound: FirewallAction;
  defaultOutbound: FirewallAction;
  /** False: every inbound allow rule is ignored ("block all incoming connections"); absent when not printed. */
  allowInboundRules?: boolean | 'not-configured';
}

export interface WindowsFirewallRule {
  name: string;
  /** InstanceID: the key of the rule's filters (firewall-filters.ts); the Name when not printed. */
  id: string;
  displayName?: string;
  group?: string;
  enabled: boolean;
  direction: 'inbound' | 'outbound';
  action: FirewallAction;
  /** As printed: `Any`, `Domain, Private`, … */
  profiles?: string;
  /** Block (the default), Allow, DeferToUser or DeferToApp: whether Teredo-tunnelled traffic may use the rule. */
  edgeTraversal?: 'Block' | 'Allow' | 'DeferToUser' | 'DeferToApp';
}

export interface FirewallParse<T> { items: T[]; malformed: number }

function action(value: unknown): FirewallAction | undefined {
  const a = psEnum(value, ACTION);
  return a === undefined ? undefined : a === 'NotConfigured' ? 'not-configured' : a === 'Allow' ? 'allow' : 'block';
}

const gpoBoolean = (v: 'False' | 'True' | 'NotConfigured'): boolean | 'not-configured' => (v === 'NotConfigured' ? 'not-configured' : v === 'True');

export function parseFirewallProfiles(text: string): FirewallParse<WindowsFirewallProfile> {
  const items: WindowsFirewallProfile[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const name = psString(psGet(row, 'Name')) ?? psString(psGet(row, 'Profile'));
    const enabled = psEnum(psGet(row, 'Enabled'), GPO_BOOLEAN);
    const defaultInbound = action(psGet(row, 'DefaultInboundAction'));
    const defaultOutbound = action(psGet(row, 'DefaultOutboundAction'));
    if (name === undefined || enabled === undefined || defaultInbound === undefined || defaultOutbound === undefined) {
      malformed++;
      continue;
    }
    const profile: WindowsFirewallProfile = { name, enabled: gpoBoolean(enabled), defaultInbound, defaultOutbound };
    const allowInbound = psEnum(psGet(row, 'AllowInboundRules'), GPO_BOOLEAN);
    if (allowInbound !== undefined) profile.allowInboundRules = gpoBoolean(allowInbound);
    items.push(profile);
  }
  return { items, malformed };
}

/** Profile flags (0 Any, 1 Domain, 2 Private, 4 Public) as a number or digits become names; names stay as printed. */
function profileNames(value: unknown): string | undefined {
  const text = typeof value === 'number' ? String(value) : psString(value);
  if (text === undefined || !/^\d+$/.test(text)) return text;
  const n = Number(text);
  if (n === 0) return 'Any';
  const names = (['Domain', 'Private', 'Public'] as const).filter((_, i) => (n & (1 << i)) !== 0);
  return names.length > 0 ? names.join(', ') : `unknown (${n})`;
}

export function parseFirewallRules(text: string): FirewallParse<WindowsFirewallRule> {
  const items: WindowsFirewallRule[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const name = psString(psGet(row, 'Name'));
    const enabled = psEnum(psGet(row, 'Enabled'), RULE_ENABLED);
    const direction = psEnum(psGet(row, 'Direction'), DIRECTION);
    const act = action(psGet(row, 'Action'));
    if (name === undefined || enabled === undefined || direction === undefined || act === undefined) {
      malformed++;
      continue;
    }
    const rule: WindowsFirewallRule = { name, id: psString(psGet(row, 'InstanceID')) ?? name, enabled: enabled === 'True', direction: direction === 'Inbound' ? 'inbound' : 'outbound', action: act };
    const displayName = psString(psGet(row, 'DisplayName'));
    const group = psString(psGet(row, 'DisplayGroup'));
    const profiles = profileNames(psGet(row, 'Profiles')) ?? profileNames(psGet(row, 'Profile'));
    if (displayName !== undefined) rule.displayName = displayName;
    if (group !== undefined) rule.group = group;
    if (profiles !== undefined) rule.profiles = profiles;
    const edge = psEnum(psGet(row, 'EdgeTraversalPolicy'), EDGE_TRAVERSAL);
    if (edge !== undefined) rule.edgeTraversal = edge;
    items.push(rule);
  }
  return { items, malformed };
}
