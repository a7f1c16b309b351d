/**
 * The exposure evaluator: for one listener and the host firewall, is the socket reachable from other
 * hosts? `reachable`, `blocked`, `local-only` or `unknown`, with the rule, default policy or missing
 * data that decided it. Pure: the firewall state comes in as data (state.ts reads it).
 */
import type { IptablesSave } from '../../host/linux/iptables.js';
import { iptablesBaseChain } from './iptables-rules.js';
import { nftBaseChains } from './nft-rules.js';
import type { LinuxFirewall, Source } from './state.js';
import { judge, type BaseChain, type Judgement, type Packet } from './walk.js';

export type ExposureVerdict = 'reachable' | 'blocked' | 'local-only' | 'unknown';

export interface ListenerAddress {
  ip: string;
  port: number;
  transport: 'tcp' | 'udp';
  family: 'ipv4' | 'ipv6';
  /** An IPv6 socket on :: that also takes IPv4. */
  dualStack: boolean;
  /** Bound to one interface (SO_BINDTODEVICE). */
  iface?: string;
  scope: 'loopback' | 'all' | 'specific';
}

export interface Exposure { verdict: ExposureVerdict; reason: string }

export const NO_RULES_REASON = 'no host firewall rules (nftables/iptables empty)';

const TABLES_IPTABLES_OWNS = ['filter', 'raw', 'mangle', 'nat', 'security'];

/** nftables tables that iptables-nft made: read through iptables-save, which shows their matches. */
export function iptablesNftTables(fw: LinuxFirewall): Set<string> {
  const skip = new Set<string>();
  const add = (src: Source<IptablesSave>, family: string) => {
    if (src.status !== 'ok' || src.data.backend !== 'nf_tables') return;
    for (const t of src.data.tables.keys()) if (TABLES_IPTABLES_OWNS.includes(t)) skip.add(`${family} ${t}`);
  };
  add(fw.iptables, 'ip');
  add(fw.ip6tables, 'ip6');
  return skip;
}

export function baseChainsFor(fw: LinuxFirewall, pkt: Packet): BaseChain[] {
  const bases: BaseChain[] = [];
  if (fw.nft.status === 'ok') bases.push(...nftBaseChains(fw.nft.data, pkt, { skipTables: iptablesNftTables(fw) }));
  const ipt = pkt.family === 'ipv4' ? fw.iptables : fw.ip6tables;
  if (ipt.status === 'ok') {
    const b = iptablesBaseChain(ipt.data, pkt, pkt.family === 'ipv4' ? 'iptables' : 'ip6tables');
    // An INPUT chain with policy ACCEPT and no rules filters nothing: leave it out of the path.
    if (b && (b.policy === 'drop' || (b.chains.get('INPUT')?.length ?? 0) > 0)) bases.push(b);
  }
  return bases;
}

function unreadable(fw: LinuxFirewall, family: Packet['family']): string[] {
  const ipt = family === 'ipv4' ? ['iptables', fw.iptables] as const : ['ip6tables', fw.ip6tables] as const;
  const out: string[] = [];
  for (const [name, src] of [['nftables', fw.nft] as const, ipt]) {
    if (src.status === 'failed') out.push(`${name} could not be read (${src.error})`);
  }
  return out;
}

/** One packet family. */
export function judgePacket(fw: LinuxFirewall, pkt: Packet): Judgement {
  const bases = baseChainsFor(fw, pkt);
  const problems = unreadable(fw, pkt.family);
  const ipt = pkt.family === 'ipv4' ? fw.iptables : fw.ip6tables;
  if (bases.length === 0) {
    if (fw.nft.status !== 'ok' && ipt.status !== 'ok') {
      const why = problems.length ? problems.join('; ') : 'neither nft nor iptables-save is installed';
      return { reach: 'unknown', reason: `cannot read the host firewall: ${why}` };
    }
    if (problems.length) return { reach: 'unknown', reason: `no filtering rules seen, but ${problems.join('; ')}` };
    return { reach: 'reachable', reason: NO_RULES_REASON };
  }
  const j = judge(bases);
  if (j.reach === 'reachable' && problems.length) {
    return { reach: 'unknown', reason: `${j.reason}; but ${problems.join('; ')}` };
  }
  return j;
}

function packetsFor(l: ListenerAddress): Packet[] {
  const dst = l.scope === 'specific' && l.ip !== '0.0.0.0' && l.ip !== '::' ? l.ip : undefined;
  const base = { transport: l.transport, port: l.port, ...(dst ? { dst } : {}) };
  if (l.family === 'ipv4') return [{ ...base, family: 'ipv4' }];
  if (l.dualStack) return [{ ...base, family: 'ipv4' }, { ...base, family: 'ipv6' }];
  return [{ ...base, family: 'ipv6' }];
}

const LABEL = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;

export function evaluateExposure(l: ListenerAddress, fw: LinuxFirewall): Exposure {
  if (l.scope === 'loopback') {
    return { verdict: 'local-only', reason: `listens on loopback address ${l.ip}${l.iface ? ` on ${l.iface}` : ''}: reachable only from this host` };
  }
  const packets = packetsFor(l);
  const judged = packets.map((p) => ({ p, j: judgePacket(fw, p) }));
  const prefix = (p: Packet) => (packets.length > 1 ? `${LABEL[p.family]}: ` : '');
  const where = l.iface ? ` (bound to interface ${l.iface} only)` : '';
  for (const want of ['reachable', 'unknown'] as const) {
    const hit = judged.filter((x) => x.j.reach === want);
    if (hit.length) return { verdict: want, reason: `${hit.map((x) => `${prefix(x.p)}${x.j.reason}`).join('; ')}${where}` };
  }
  return { verdict: 'blocked', reason: `${judged.map((x) => `${prefix(x.p)}${x.j.reason}`).join('; ')}${where}` };
}
