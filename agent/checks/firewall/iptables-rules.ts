/**
 * iptables rules (iptables-save / ip6tables-save) translated, for one probe packet, into the walker's
 * yes/no/maybe rules (walk.ts). Only the filter table's INPUT chain and what it jumps to decide what
 * reaches a local socket. Options the agent does not know become opaque `maybe`s. Pure: no I/O.
 */
import type { IptablesRule, IptablesSave } from '../../host/linux/iptables.js';
import { inPrefix, isAnyPrefix, isGroupAddress, parseAddr, parsePrefix } from './ip.js';
import { and, maybe, NO, not, YES, type Action, type BaseChain, type Match, type Packet, type WalkRule } from './walk.js';

const PROTO: Record<string, string> = { '6': 'tcp', '17': 'udp' };

function portsMatch(spec: string, port: number): boolean {
  return spec.split(',').some((part) => {
    const [a, b] = part.split(':');
    const lo = a === '' || a === undefined ? 0 : Number(a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
    return port >= lo && port <= hi;
  });
}

function states(list: string): boolean {
  return list.split(',').some((s) => s.toUpperCase() === 'NEW');
}

/** Options that take no value. */
const FLAGS = new Set(['--syn', '--rsource', '--rdest', '--set', '--update', '--rcheck', '--remove', '--rttl', '--reap', '-f', '--fragment']);
/** Options whose value is only an annotation or a detail of another option. */
const IGNORED = new Set(['--comment', '--icmp-type', '--icmpv6-type', '--limit-iface-in', '--limit-iface-out', '--mask', '--name', '--seconds', '--hitcount', '--limit-burst']);

function translate(rule: IptablesRule, pkt: Packet, userChains: ReadonlySet<string>, label: string): WalkRule {
  const a = rule.args;
  const where = `${label} rule "-A ${rule.chain} ${a.join(' ')}" (line ${rule.line})`;
  const ms: Match[] = [];
  let action: Action = { type: 'continue' };
  let negate = false;
  let recentChecks = false;
  const push = (m: Match) => { ms.push(negate ? not(m) : m); negate = false; };
  for (let i = 0; i < a.length; i++) {
    const opt = a[i]!;
    const val = a[i + 1];
    if (opt === '!') { negate = true; continue; }
    if (opt === '-j' || opt === '--jump' || opt === '-g' || opt === '--goto') {
      const target = val ?? '';
      if (target === 'ACCEPT') action = { type: 'accept' };
      else if (target === 'DROP') action = { type: 'drop', how: 'drop' };
      else if (target === 'REJECT') action = { type: 'drop', how: 'reject' };
      else if (target === 'RETURN') action = { type: 'return' };
      else if (userChains.has(target)) action = { type: opt === '-g' || opt === '--goto' ? 'goto' : 'jump', target };
      else if (target === 'QUEUE' || target === 'NFQUEUE') { ms.push(maybe(`packet handed to userspace (${target})`, true)); action = { type: 'accept' }; }
      break; // what follows are the target's own options
    }
    if (FLAGS.has(opt)) {
      if (opt === '--syn') push(YES); // a new TCP connection starts with SYN
      else if (opt === '--update' || opt === '--rcheck') recentChecks = true;
      else if (opt === '-f' || opt === '--fragment') push(NO);
      continue;
    }
    i++; // every other option takes one value (multi-value options are comma lists)
    if (val === undefined) { push(maybe(`${opt} without a value`, true)); continue; }
    switch (opt) {
      case '-m': case '--match': negate = false; break;
      case '-p': case '--protocol': {
        const p = (PROTO[val] ?? val).toLowerCase();
        push(p === 'all' || p === '0' || p === pkt.transport ? YES : NO);
        break;
      }
      case '-s': case '--source': case '--src-range': {
        const all = val.split(',');
        push(all.some(isAnyPrefix) ? YES : maybe(`source address in ${val}`));
        break;
      }
      case '-d': case '--destination': {
        const list = val.split(',');
        if (pkt.dst) {
          const ip = parseAddr(pkt.dst);
          push(list.some((t) => { const p = parsePrefix(t); return !!(ip && p && inPrefix(ip, p)); }) ? YES : NO);
        } else if (list.every(isGroupAddress)) push(NO);
        else if (list.some(isAnyPrefix)) push(YES);
        else push(maybe(`destination address in ${val}`));
        break;
      }
      case '-i': case '--in-interface':
        if (val === 'lo') push(NO);
        else if (val === '+') push(YES);
        else push(maybe(`input interface ${val}`));
        break;
      case '-o': case '--out-interface': break; // no output interface on INPUT
      case '--dport': case '--destination-port': case '--dports': case '--destination-ports':
        push(portsMatch(val, pkt.port) ? YES : NO);
        break;
      case '--ports':
        push(portsMatch(val, pkt.port) ? YES : maybe(`source port ${val}`));
        break;
      case '--sport': case '--source-port': case '--sports': case '--source-ports':
        push(maybe(`source port ${val}`));
        break;
      case '--ctstate': case '--state':
        push(states(val) ? YES : NO);
        break;
      case '--ctdir':
        push(val.toUpperCase() === 'ORIGINAL' ? YES : NO);
        break;
      case '--dst-type':
        push(val.split(',').some((t) => t === 'LOCAL' || t === 'UNICAST') ? YES : NO);
        break;
      case '--src-type':
        push(val.split(',').some((t) => t === 'UNICAST') ? YES : val.split(',').every((t) => t === 'LOCAL') ? NO : maybe(`source address type ${val}`, true));
        break;
      case '--pkt-type':
        push(val === 'unicast' || val === 'host' ? YES : NO);
        break;
      case '--match-set':
        i++; // direction flags (src,dst)
        push(maybe(`address in ipset ${val}`));
        break;
      case '--limit':
        push(maybe(`rate limit ${val}`, true));
        break;
      case '--tcp-flags': {
        const comp = a[i + 1] ?? '';
        i++;
        push(comp === 'SYN' ? YES : maybe(`tcp flags ${val} ${comp}`, true));
        break;
      }
      default:
        if (IGNORED.has(opt)) { negate = false; break; }
        push(maybe(`${opt} ${val}`, true));
    }
  }
  if (recentChecks) ms.push(maybe('recently seen source (rate limiting with -m recent)', true));
  return { where, match: and(ms), action };
}

/** The filter INPUT chain of one iptables-save output as a base chain for the packet, if there is one. */
export function iptablesBaseChain(save: IptablesSave, pkt: Packet, tool: 'iptables' | 'ip6tables'): BaseChain | undefined {
  const filter = save.tables.get('filter');
  if (!filter) return undefined;
  const policy = filter.chains.get('INPUT');
  if (!policy) return undefined;
  const label = `${tool} filter`;
  const userChains = new Set([...filter.chains].filter(([, p]) => p === '-').map(([n]) => n));
  const chains = new Map<string, WalkRule[]>();
  for (const name of filter.chains.keys()) chains.set(name, []);
  for (const r of filter.rules) chains.get(r.chain)?.push(translate(r, pkt, userChains, label));
  return {
    name: `${tool} filter chain INPUT`,
    chain: 'INPUT',
    policy: policy === 'DROP' || policy === 'REJECT' ? 'drop' : 'accept',
    chains,
  };
}

/** Whether an iptables-save output holds any rule or a non-ACCEPT policy (anything that filters). */
export function iptablesFilters(save: IptablesSave): boolean {
  for (const t of save.tables.values()) {
    if (t.rules.length) return true;
    for (const p of t.chains.values()) if (p !== '-' && p !== 'ACCEPT') return true;
  }
  return false;
}
