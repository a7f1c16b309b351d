/**
 * The exposure evaluator for Windows Defender Firewall: for one listener (not on loopback) and the
 * firewall as read by windows.ts, is the socket reachable from other hosts? Pure. The model, and
 * what it does not model, is in README.md ("Windows exposure").
 */
import type { FirewallAction, WindowsFirewallProfile, WindowsFirewallRule } from '../../host/windows/firewall.js';
import type { RuleFilters } from '../../host/windows/firewall-filters.js';
import type { ConnectionProfile, FirewallProfileName } from '../../host/windows/net-connection-profile.js';
import { inPrefix, parseAddr, parsePrefix } from './ip.js';
import type { Exposure } from './exposure.js';
import type { WindowsFirewall } from './windows.js';

export interface WindowsListener {
  ip: string;
  port: number;
  transport: 'tcp' | 'udp';
  family: 'ipv4' | 'ipv6';
  pid: number;
  executable?: string;
  services?: string[];
  scope: 'all' | 'specific';
}

/** The outcome of one filter, or of a whole rule: matches, does not, matches only for some peers, or cannot be told. */
type Match =
  | { kind: 'yes' }
  | { kind: 'no' }
  | { kind: 'condition'; text: string }
  | { kind: 'opaque'; text: string };

const YES: Match = { kind: 'yes' };
const NO: Match = { kind: 'no' };

/** Windows' own values, used when the query did not print the host's (the recordings do not). */
const DEFAULT_ENV: Readonly<Record<string, string>> = {
  systemroot: 'C:\\Windows', windir: 'C:\\Windows', systemdrive: 'C:', programfiles: 'C:\\Program Files',
  'programfiles(x86)': 'C:\\Program Files (x86)', programdata: 'C:\\ProgramData',
};

const isAny = (list: readonly string[] | undefined): boolean => list === undefined || list.some((v) => v.toLowerCase() === 'any' || v === '*');

function protocolMatch(f: RuleFilters, transport: 'tcp' | 'udp'): Match {
  const p = f.protocol?.toLowerCase();
  if (p === undefined) return { kind: 'opaque', text: 'its port filter was not read' };
  if (p === 'any') return YES;
  const wanted = transport === 'tcp' ? ['tcp', '6'] : ['udp', '17'];
  return wanted.includes(p) ? YES : NO;
}

function portMatch(f: RuleFilters, port: number): Match {
  if (f.protocol?.toLowerCase() === 'any' || isAny(f.localPorts)) return YES;
  let opaque: string | undefined;
  for (const item of f.localPorts!) {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(item);
    if (/^\d+$/.test(item)) {
      if (Number(item) === port) return YES;
    } else if (range) {
      if (port >= Number(range[1]) && port <= Number(range[2])) return YES;
    } else if (item.toLowerCase() === 'rpcepmap') {
      if (port === 135) return YES;
    } else {
      // RPC (dynamic RPC endpoints), IPHTTPSIn, Teredo, PlayToDiscovery…: sets only Windows resolves.
      opaque ??= `local port keyword ${item}`;
    }
  }
  return opaque === undefined ? NO : { kind: 'opaque', text: opaque };
}

/** An address without its IPv6 zone (`fe80::1%12` → `fe80::1`), lower-cased. */
const unscoped = (ip: string): string => ip.replace(/%.*$/, '').toLowerCase();

/** Address keywords, which a 4 or 6 suffix restricts to one family (`LocalSubnet6`). */
const KEYWORD = /^(?:LocalSubnet|DNS|DHCP|WINS|DefaultGateway|Internet|Intranet|IntranetRemoteAccess|PlayToDevice|CaptivePortal)([46])?$/i;

/** The family an address-filter item is limited to: its address's, a keyword's suffix, else undefined. */
function familyOf(item: string): 4 | 6 | undefined {
  const k = KEYWORD.exec(item);
  if (k) return k[1] === '4' ? 4 : k[1] === '6' ? 6 : undefined;
  return parseAddr(item.split(/[/-]/)[0] ?? '')?.family;
}

/** Does an address-filter item (address, prefix, range or keyword) hold `ip`? undefined for keywords of its family. */
function holds(item: string, ip: string): boolean | undefined {
  const addr = parseAddr(unscoped(ip));
  if (!addr) return undefined;
  if (KEYWORD.test(item)) {
    const fam = familyOf(item);
    return fam !== undefined && fam !== addr.family ? false : undefined;
  }
  const range = /^([^-]+)-([^-]+)$/.exec(item);
  if (range) {
    const lo = parseAddr(range[1]!);
    const hi = parseAddr(range[2]!);
    if (!lo || !hi) return undefined;
    return lo.family === addr.family && addr.value >= lo.value && addr.value <= hi.value;
  }
  // Windows prints single addresses and prefixes, IPv4 ones sometimes with a dotted mask.
  const masked = /^(\d+\.\d+\.\d+\.\d+)\/(\d+\.\d+\.\d+\.\d+)$/.exec(item);
  if (masked) {
    const mask = parseAddr(masked[2]!);
    if (!mask) return undefined;
    const len = mask.value.toString(2).replace(/0+$/, '').length;
    const p = parsePrefix(`${masked[1]}/${len}`);
    return p ? inPrefix(addr, p) : undefined;
  }
  const p = parsePrefix(item);
  return p ? inPrefix(addr, p) : undefined;
}

function localAddressMatch(f: RuleFilters, l: WindowsListener): Match {
  if (isAny(f.localAddresses)) return YES;
  const list = f.localAddresses!;
  if (l.scope === 'all') return { kind: 'condition', text: `only to local address ${list.join(', ')}` };
  let opaque = false;
  for (const item of list) {
    const h = holds(item, l.ip);
    if (h === true) return YES;
    if (h === undefined) opaque = true;
  }
  return opaque ? { kind: 'opaque', text: `local address ${list.join(', ')}` } : NO;
}

function remoteAddressMatch(f: RuleFilters, l: WindowsListener): Match {
  if (isAny(f.remoteAddresses)) return YES;
  const list = f.remoteAddresses!;
  // Explicit addresses of the other family only can never match this socket's traffic, unless the
  // socket is on :: (a dual-mode socket, IPV6_V6ONLY off, is listed once as :: and takes IPv4 too).
  const families = list.map(familyOf);
  const own = l.family === 'ipv4' ? 4 : 6;
  const dualMode = l.family === 'ipv6' && l.scope === 'all';
  if (!dualMode && families.every((fam) => fam !== undefined && fam !== own)) return NO;
  return { kind: 'condition', text: `only from remote address ${list.join(', ')}` };
}

function expand(path: string, env: Readonly<Record<string, string>>): string | undefined {
  let missing = false;
  const out = path.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = env[name.toLowerCase()];
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

const normPath = (p: string): string => p.replace(/\//g, '\\').replace(/\\+/g, '\\').toLowerCase();

function programMatch(f: RuleFilters, l: WindowsListener, env: Readonly<Record<string, string>>): Match {
  if (f.package !== undefined) return { kind: 'opaque', text: `packaged app ${f.package}` };
  const program = f.program;
  if (program === undefined) return { kind: 'opaque', text: 'its application filter was not read' };
  if (program.toLowerCase() === 'any') return YES;
  if (program.toLowerCase() === 'system') return l.pid === 4 ? YES : NO;
  if (l.pid === 4) return NO;
  const expanded = expand(program, env);
  if (expanded === undefined) return { kind: 'opaque', text: `program ${program} (unknown environment variable)` };
  if (l.executable === undefined) return { kind: 'opaque', text: `program ${program} (the path of pid ${l.pid} is not readable)` };
  return normPath(expanded) === normPath(l.executable) ? YES : NO;
}

function serviceMatch(f: RuleFilters, l: WindowsListener): Match {
  const s = f.service;
  if (s === undefined || s.toLowerCase() === 'any') return YES;
  const services = l.services ?? [];
  if (s === '*') return services.length > 0 ? YES : NO;
  if (!services.some((x) => x.toLowerCase() === s.toLowerCase())) return NO;
  // Windows matches the service that owns the socket; a shared process hosts several.
  return services.length === 1 ? YES : { kind: 'opaque', text: `service ${s} (process ${l.pid} hosts ${services.length} services)` };
}

function interfaceMatch(f: RuleFilters): Match {
  return isAny(f.interfaceTypes) ? YES : { kind: 'opaque', text: `interface type ${f.interfaceTypes!.join(', ')}` };
}

function securityMatch(f: RuleFilters): Match {
  const restricted = (v: string | undefined) => v !== undefined && v.toLowerCase() !== 'any';
  if ((f.authentication !== undefined && f.authentication !== 'NotRequired') || restricted(f.remoteUsers) || restricted(f.remoteMachines)) {
    return { kind: 'condition', text: 'only for IPsec-authenticated peers' };
  }
  return YES;
}

/** All filters of one rule against the listener: no if any says no, else the conditions and opaque parts. */
function ruleMatch(f: RuleFilters | undefined, l: WindowsListener, env: Readonly<Record<string, string>>): Match[] {
  if (!f) return [{ kind: 'opaque', text: 'its filters were not read' }];
  const parts = [protocolMatch(f, l.transport), portMatch(f, l.port), localAddressMatch(f, l), remoteAddressMatch(f, l),
    programMatch(f, l, env), serviceMatch(f, l), interfaceMatch(f), securityMatch(f)];
  if (parts.some((m) => m.kind === 'no')) return [NO];
  return parts.filter((m) => m.kind !== 'yes');
}

/** Whether a rule's Profiles (`Any`, `Domain, Private`, …) include a profile. */
export function ruleApplies(rule: WindowsFirewallRule, profile: string): boolean {
  const list = (rule.profiles ?? 'Any').split(',').map((p) => p.trim().toLowerCase());
  return list.includes('any') || list.includes(profile.toLowerCase());
}

const ruleName = (r: WindowsFirewallRule): string => (r.displayName && r.displayName !== r.name ? `"${r.displayName}" (${r.name})` : `"${r.name}"`);
const texts = (ms: readonly Match[], kind: 'condition' | 'opaque'): string =>
  ms.filter((m): m is Extract<Match, { kind: typeof kind }> => m.kind === kind).map((m) => m.text).join(' and ');

function defaultText(a: FirewallAction): string {
  return a === 'allow' ? 'default inbound action Allow'
    : a === 'block' ? 'default inbound action Block' : 'default inbound action NotConfigured (Windows default: Block)';
}

interface Matched { rule: WindowsFirewallRule; parts: Match[]; bypass: boolean }

/** One profile's verdict. `where` names the profile (and network) for the reason. */
function evaluateProfile(l: WindowsListener, p: WindowsFirewallProfile, fw: Required<Pick<WindowsFirewall, 'rules' | 'filters'>>, where: string): Exposure {
  if (p.enabled === false) return { verdict: 'reachable', reason: `Windows Firewall is off in ${where}` };
  const env = { ...DEFAULT_ENV, ...Object.fromEntries(Object.entries(fw.filters.environment).map(([k, v]) => [k.toLowerCase(), v])) };
  if (env['windir'] === DEFAULT_ENV['windir'] && env['systemroot'] !== undefined) env['windir'] = env['systemroot'];
  // "Block all incoming connections, including those in the list of allowed apps": allow rules are ignored.
  const noAllows = p.allowInboundRules === false;
  const matched: Matched[] = fw.rules
    .filter((r) => r.enabled && r.direction === 'inbound' && ruleApplies(r, p.name) && !(noAllows && r.action === 'allow'))
    .map((rule) => {
      const f = fw.filters.byRule.get(rule.id);
      return { rule, parts: ruleMatch(f, l, env), bypass: rule.action === 'allow' && f?.overrideBlockRules === true };
    })
    .filter((m) => !(m.parts.length === 1 && m.parts[0]!.kind === 'no'));
  const of = (action: 'allow' | 'block', kind: 'plain' | 'condition' | 'opaque') => matched.filter((m) => m.rule.action === action && (
    kind === 'plain' ? m.parts.length === 0
      : kind === 'opaque' ? m.parts.some((x) => x.kind === 'opaque')
        : m.parts.length > 0 && m.parts.every((x) => x.kind === 'condition')));
  const what = `${l.transport.toUpperCase()} port ${l.port}`;
  const block = of('block', 'plain')[0];
  if (block) {
    // Authenticated bypass: an allow rule with OverrideBlockRules lets its (IPsec-authenticated) peers past block rules.
    const bypass = matched.filter((m) => m.bypass);
    const sure = bypass.find((m) => m.parts.every((x) => x.kind === 'condition'));
    if (sure) {
      const only = sure.parts.length > 0 ? ` ${texts(sure.parts, 'condition')}` : '';
      return { verdict: 'reachable', reason: `allowed${only} by rule ${ruleName(sure.rule)} in ${where}, which overrides block rule ${ruleName(block.rule)} (authenticated bypass); everything else blocked by that rule` };
    }
    const maybe = bypass[0];
    if (maybe) {
      return { verdict: 'unknown', reason: `blocked by rule ${ruleName(block.rule)} in ${where}, unless rule ${ruleName(maybe.rule)} overrides it (authenticated bypass; ${texts(maybe.parts, 'opaque')}: cannot be decided from what the agent reads)` };
    }
    return { verdict: 'blocked', reason: `blocked by rule ${ruleName(block.rule)} in ${where} (block rules override allow rules)` };
  }
  const maybeBlock = of('block', 'opaque')[0];
  const partBlocks = of('block', 'condition');
  const except = partBlocks.length > 0 ? `; except traffic matching block rule ${ruleName(partBlocks[0]!.rule)} (${texts(partBlocks[0]!.parts, 'condition')})` : '';
  const edge = (r: WindowsFirewallRule) => (r.edgeTraversal && r.edgeTraversal !== 'Block' ? `; edge traversal ${r.edgeTraversal} (also from beyond NAT via Teredo)` : '');
  const allow = of('allow', 'plain')[0];
  const partAllow = of('allow', 'condition')[0];
  const maybeAllow = of('allow', 'opaque')[0];
  if (maybeBlock && (allow || partAllow || p.defaultInbound === 'allow')) {
    return { verdict: 'unknown', reason: `block rule ${ruleName(maybeBlock.rule)} may apply to ${what} (${texts(maybeBlock.parts, 'opaque')}: cannot be decided from what the agent reads) in ${where}` };
  }
  if (allow) return { verdict: 'reachable', reason: `allowed by rule ${ruleName(allow.rule)} in ${where}${except}${edge(allow.rule)}` };
  if (p.defaultInbound === 'allow') return { verdict: 'reachable', reason: `no rule decides ${what}; ${defaultText(p.defaultInbound)} in ${where}${except}` };
  if (partAllow) {
    return {
      verdict: 'reachable',
      reason: `allowed ${texts(partAllow.parts, 'condition')} by rule ${ruleName(partAllow.rule)} in ${where}; everything else blocked (${defaultText(p.defaultInbound)})${except}${edge(partAllow.rule)}`,
    };
  }
  if (maybeAllow) {
    return { verdict: 'unknown', reason: `rule ${ruleName(maybeAllow.rule)} may allow ${what} (${texts(maybeAllow.parts, 'opaque')}: cannot be decided from what the agent reads) in ${where}; otherwise ${defaultText(p.defaultInbound)}` };
  }
  if (noAllows) {
    return { verdict: 'blocked', reason: `inbound allow rules are not applied in ${where}: AllowInboundRules False (block all incoming connections, including allowed apps); ${defaultText(p.defaultInbound)}${except}` };
  }
  const prog = l.executable ?? (l.pid === 4 ? 'System' : `pid ${l.pid}`);
  return { verdict: 'blocked', reason: `no enabled inbound allow rule matches ${what} of ${prog} in ${where}; ${defaultText(p.defaultInbound)}` };
}

/** The networks whose profile applies to the listener: those holding its address, else every one. */
function networksFor(l: WindowsListener, networks: readonly ConnectionProfile[]): ConnectionProfile[] {
  if (l.scope === 'specific') {
    const own = networks.filter((n) => n.addresses.some((a) => unscoped(a) === unscoped(l.ip)));
    if (own.length > 0) return own;
  }
  return [...networks];
}

const PROFILES: readonly FirewallProfileName[] = ['Domain', 'Private', 'Public'];

/**
 * A listener's exposure: reachable when any active profile lets other hosts in, blocked when every
 * active profile blocks, unknown when a profile cannot be decided (and none reaches).
 */
export function windowsListenerExposure(l: WindowsListener, fw: WindowsFirewall): Exposure {
  const profile = (name: string) => fw.profiles.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (fw.profiles.length > 0 && fw.profiles.every((p) => p.enabled === false)) {
    return { verdict: 'reachable', reason: 'Windows Firewall is off in every profile (Domain, Private, Public)' };
  }
  if (fw.rules === undefined) return { verdict: 'unknown', reason: `Windows Firewall rules not readable: ${fw.rulesError ?? 'not read'}` };
  if (fw.filters === undefined) return { verdict: 'unknown', reason: `Windows Firewall rule filters not readable: ${fw.filtersError ?? 'not read'}` };
  const state = { rules: fw.rules, filters: fw.filters };
  const networks = networksFor(l, fw.networks ?? []);
  if (networks.length === 0) {
    // Which profile is active is not known: a verdict only when every profile gives the same one.
    const why = fw.networksError !== undefined ? `the active network profile is not readable (${fw.networksError})` : 'no connected network is listed';
    const all = PROFILES.map((name) => { const p = profile(name); return p ? evaluateProfile(l, p, state, `the ${name} profile`) : undefined; });
    if (all.some((e) => e === undefined)) return { verdict: 'unknown', reason: `${why}, and not every firewall profile was read` };
    const verdicts = new Set(all.map((e) => e!.verdict));
    if (verdicts.size === 1) return { verdict: all[0]!.verdict, reason: `${why}; the same in every profile: ${all[0]!.reason}` };
    return { verdict: 'unknown', reason: `${why}, and the profiles disagree: ${all.map((e, i) => `${PROFILES[i]}: ${e!.verdict}`).join(', ')}` };
  }
  const results = networks.map((n) => {
    const p = profile(n.firewallProfile);
    const where = `the ${n.firewallProfile} profile (network ${n.name ?? '?'}${n.interfaceAlias ? ` on ${n.interfaceAlias}` : ''})`;
    return p ? evaluateProfile(l, p, state, where) : { verdict: 'unknown' as const, reason: `the ${n.firewallProfile} profile was not read` };
  });
  const reachable = results.find((e) => e.verdict === 'reachable');
  if (reachable) return reachable;
  const unknown = results.find((e) => e.verdict === 'unknown');
  if (unknown) return unknown;
  return { verdict: 'blocked', reason: [...new Set(results.map((e) => e.reason))].join('; ') };
}
