/**
 * The chain walker behind the exposure verdict. Firewall rules of any product (nftables, iptables) are
 * first translated, for one probe packet, into rules whose match is `yes`, `no` or `maybe`, then walked
 * the way the kernel walks them. A `maybe` is a condition the agent cannot decide for "a new connection
 * from some other host": a source address, an input interface, a rate limit. Its verdict is recorded as
 * a conditional outcome and the walk goes on, as the packet that does not meet the condition would.
 * Pure: no I/O.
 */

/** A new inbound connection from another host to a listener. */
export interface Packet {
  family: 'ipv4' | 'ipv6';
  transport: 'tcp' | 'udp';
  port: number;
  /** The listener's own address when it is bound to one (undefined for 0.0.0.0 / ::). */
  dst?: string;
}

export interface Cond {
  text: string;
  /** true when the agent does not know what the condition means (an unsupported match). */
  opaque: boolean;
}

export type Match = { is: 'yes' } | { is: 'no' } | { is: 'maybe'; conds: Cond[] };

export const YES: Match = { is: 'yes' };
export const NO: Match = { is: 'no' };
export const maybe = (text: string, opaque = false): Match => ({ is: 'maybe', conds: [{ text, opaque }] });

/** All of them (a rule's matches are ANDed). */
export function and(ms: readonly Match[]): Match {
  const conds: Cond[] = [];
  for (const m of ms) {
    if (m.is === 'no') return NO;
    if (m.is === 'maybe') conds.push(...m.conds);
  }
  return conds.length ? { is: 'maybe', conds } : YES;
}

/** `!` in front of a match: yes ↔ no; a maybe stays a maybe, with its text negated. */
export function not(m: Match): Match {
  if (m.is === 'yes') return NO;
  if (m.is === 'no') return YES;
  return { is: 'maybe', conds: m.conds.map((c) => ({ text: `not (${c.text})`, opaque: c.opaque })) };
}

export type Action =
  | { type: 'accept' }
  | { type: 'drop'; how: 'drop' | 'reject' }
  | { type: 'return' }
  | { type: 'continue' }
  | { type: 'jump' | 'goto'; target: string };

export interface WalkRule {
  /** For people: where the rule is and what it says. */
  where: string;
  match: Match;
  action: Action;
}

export type Chains = ReadonlyMap<string, readonly WalkRule[]>;

export interface Outcome {
  verdict: 'accept' | 'drop';
  where: string;
  /** Conditions under which this outcome applies (empty: always). */
  conds: Cond[];
}

interface WalkResult { final?: Outcome; side: Outcome[] }

const MAX_DEPTH = 32;

function walk(chains: Chains, chain: string, conds: Cond[], depth: number): WalkResult {
  const side: Outcome[] = [];
  for (const r of chains.get(chain) ?? []) {
    if (r.match.is === 'no') continue;
    const definite = r.match.is === 'yes';
    const here = r.match.is === 'maybe' ? [...conds, ...r.match.conds] : conds;
    const a = r.action;
    if (a.type === 'accept' || a.type === 'drop') {
      const o: Outcome = { verdict: a.type, where: r.where, conds: here };
      if (definite) return { final: o, side };
      side.push(o);
    } else if (a.type === 'return') {
      if (definite) return { side };
    } else if (a.type === 'jump' || a.type === 'goto') {
      if (depth >= MAX_DEPTH) {
        side.push({ verdict: 'drop', where: r.where, conds: [...here, { text: `chains nested deeper than ${MAX_DEPTH}`, opaque: true }] });
        continue;
      }
      const sub = walk(chains, a.target, here, depth + 1);
      side.push(...sub.side);
      if (sub.final) {
        if (definite) return { final: sub.final, side };
        side.push(sub.final);
      } else if (a.type === 'goto' && definite) {
        return { side };
      }
    }
  }
  return { side };
}

export interface BaseChain {
  /** `nftables inet filter input`, `iptables filter INPUT (IPv4)`. */
  name: string;
  chain: string;
  policy: 'accept' | 'drop';
  chains: Chains;
}

export interface Decision { chain: BaseChain; final: Outcome; side: Outcome[] }

/** What one base chain does with the packet: a definite outcome plus the conditional ones met on the way. */
export function decide(base: BaseChain): Decision {
  const r = walk(base.chains, base.chain, [], 0);
  const final = r.final ?? { verdict: base.policy, where: `policy ${base.policy} of ${base.name}`, conds: [] };
  return { chain: base, final, side: r.side };
}

export type Reach = 'reachable' | 'blocked' | 'unknown';

export interface Judgement { reach: Reach; reason: string }

const condText = (o: Outcome) => o.conds.map((c) => c.text).join(' and ');
const isOpaque = (o: Outcome) => o.conds.some((c) => c.opaque);

/**
 * A packet reaches the socket only when every base chain on its path accepts it (an accept ends one
 * chain; a drop anywhere is final). `bases` must not be empty: no chain at all is the caller's case.
 */
export function judge(bases: readonly BaseChain[]): Judgement {
  const decisions = bases.map(decide);
  const dropper = decisions.find((d) => d.final.verdict === 'drop');
  if (dropper) {
    const accepts = dropper.side.filter((o) => o.verdict === 'accept');
    const clear = accepts.filter((o) => !isOpaque(o));
    if (clear.length) {
      const first = clear[0]!;
      return {
        reach: 'reachable',
        reason: `allowed only when ${condText(first)} by ${first.where}${clear.length > 1 ? ` (and ${clear.length - 1} more conditional rule(s))` : ''}; everything else dropped by ${dropper.final.where}`,
      };
    }
    if (accepts.length) {
      const first = accepts[0]!;
      return {
        reach: 'unknown',
        reason: `accepted by ${first.where} only when ${condText(first)}, which the agent cannot evaluate; otherwise dropped by ${dropper.final.where}`,
      };
    }
    return { reach: 'blocked', reason: `dropped by ${dropper.final.where}` };
  }
  const last = decisions[decisions.length - 1]!;
  const explicit = [...decisions].reverse().find((d) => !d.final.where.startsWith('policy ')) ?? last;
  const drops = decisions.flatMap((d) => d.side.filter((o) => o.verdict === 'drop'));
  const unless = drops.length ? `; except when ${condText(drops[0]!)} (${drops[0]!.where})` : '';
  return { reach: 'reachable', reason: `accepted by ${explicit.final.where}${unless}` };
}
