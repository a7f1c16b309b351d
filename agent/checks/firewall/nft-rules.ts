/**
 * nftables rules (the JSON of `nft -j list ruleset`) translated, for one probe packet, into the walker's
 * yes/no/maybe rules (walk.ts). Expressions the agent does not know become opaque `maybe`s, never guesses.
 * Pure: no I/O.
 */
import type { NftChain, NftRule, NftRuleset, NftSet } from '../../host/linux/nft.js';
import { inPrefix, isAnyPrefix, isGroupAddress, parseAddr, parsePrefix } from './ip.js';
import { and, maybe, NO, not, YES, type Action, type BaseChain, type Match, type Packet, type WalkRule } from './walk.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Short text of an nftables JSON expression, close to what `nft list ruleset` prints. */
export function describe(e: unknown): string {
  if (e === null || e === undefined) return '';
  if (typeof e !== 'object') return String(e);
  if (Array.isArray(e)) return `{ ${e.map(describe).join(', ')} }`;
  const o = e as Obj;
  if (isObj(o.payload)) return `${String(o.payload.protocol)} ${String(o.payload.field)}`;
  if (isObj(o.meta)) return `meta ${String(o.meta.key)}`;
  if (isObj(o.ct)) return `ct ${String(o.ct.key)}`;
  if (isObj(o.fib)) return `fib ${Array.isArray(o.fib.flags) ? o.fib.flags.join(' . ') : ''} ${String(o.fib.result)}`;
  if (Array.isArray(o.set)) return `{ ${o.set.map(describe).join(', ')} }`;
  if (Array.isArray(o.range)) return `${describe(o.range[0])}-${describe(o.range[1])}`;
  if (isObj(o.prefix)) return `${String(o.prefix.addr)}/${String(o.prefix.len)}`;
  if (isObj(o.match)) {
    const op = o.match.op === '==' || o.match.op === 'in' ? '' : `${String(o.match.op)} `;
    return `${describe(o.match.left)} ${op}${describe(o.match.right)}`;
  }
  if (isObj(o.vmap)) return `${describe(o.vmap.key)} vmap ${isObj(o.vmap.data) || Array.isArray(o.vmap.data) ? '{ … }' : describe(o.vmap.data)}`;
  if (isObj(o.jump)) return `jump ${String(o.jump.target)}`;
  if (isObj(o.goto)) return `goto ${String(o.goto.target)}`;
  if (isObj(o.xt)) return `xt ${String(o.xt.type)} ${String(o.xt.name)}`;
  const [k] = Object.keys(o);
  if (k === 'counter') return 'counter';
  if (k === 'limit' && isObj(o.limit)) return `limit rate ${String(o.limit.rate)}/${String(o.limit.per)}`;
  return k ?? '';
}

function describeRule(rule: NftRule): string {
  const text = rule.expr.map(describe).filter((t) => t && t !== 'counter').join(' ');
  const id = `${rule.family} ${rule.table} chain ${rule.chain}${rule.handle !== undefined ? ` handle ${rule.handle}` : ''}`;
  return `nftables rule "${text}${rule.comment ? ` comment "${rule.comment}"` : ''}" (${id})`;
}

interface Ctx { pkt: Packet; sets: Map<string, NftSet>; family: string; table: string }

/** The elements a right-hand side stands for: a literal, an anonymous set, a named set (`@name`). */
function elements(right: unknown, ctx: Ctx): unknown[] | undefined {
  if (typeof right === 'string' && right.startsWith('@')) {
    return ctx.sets.get(right.slice(1))?.elem;
  }
  if (isObj(right) && Array.isArray(right.set)) return right.set;
  if (Array.isArray(right)) return right;
  return [right];
}

const PROTO_NUM: Record<string, number> = { tcp: 6, udp: 17 };

function portIn(el: unknown, port: number): boolean | undefined {
  if (typeof el === 'number') return el === port;
  if (isObj(el) && Array.isArray(el.range)) {
    const [a, b] = el.range;
    return typeof a === 'number' && typeof b === 'number' ? port >= a && port <= b : undefined;
  }
  return undefined;
}

/** Builds a Match from "does the packet's value belong to the elements" answers. */
function membership(op: unknown, answers: (boolean | undefined)[], what: string, right: unknown): Match {
  if (answers.length === 0) return op === '!=' ? YES : NO;
  if (answers.some((a) => a === undefined)) return maybe(`${what} ${describe(right)}`, true);
  const hit = answers.some(Boolean);
  if (op === '==' || op === 'in' || op === undefined) return hit ? YES : NO;
  if (op === '!=') return hit ? NO : YES;
  return maybe(`${what} ${String(op)} ${describe(right)}`, true);
}

const L4 = new Set(['tcp', 'udp', 'th', 'udplite', 'sctp', 'dccp']);

function addressMatch(field: string, op: unknown, right: unknown, ctx: Ctx): Match {
  const els = elements(right, ctx);
  const text = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (isObj(e) && isObj(e.prefix)) return `${String(e.prefix.addr)}/${String(e.prefix.len)}`;
    return undefined;
  };
  const texts = els?.map(text);
  if (!els || !texts || texts.some((t) => t === undefined)) return maybe(`${field} ${describe(right)}`, true);
  const list = texts as string[];
  if (field === 'saddr') {
    if (list.some(isAnyPrefix)) return op === '!=' ? NO : YES;
    return maybe(`source address ${op === '!=' ? 'not ' : ''}in ${list.join(', ')}`);
  }
  // daddr: decidable when the listener has its own address, and for group addresses.
  if (ctx.pkt.dst) {
    const ip = parseAddr(ctx.pkt.dst);
    const answers = list.map((t) => {
      const p = parsePrefix(t);
      return ip && p ? inPrefix(ip, p) : undefined;
    });
    return membership(op, answers, 'destination address', right);
  }
  if (list.every(isGroupAddress)) return op === '!=' ? YES : NO;
  if (list.some(isAnyPrefix)) return op === '!=' ? NO : YES;
  return maybe(`destination address ${op === '!=' ? 'not ' : ''}in ${list.join(', ')}`);
}

function matchExpr(m: Obj, ctx: Ctx): Match {
  const { op, left, right } = m;
  const { pkt } = ctx;
  if (isObj(left) && isObj(left.payload)) {
    const proto = String(left.payload.protocol);
    const field = String(left.payload.field);
    if (L4.has(proto)) {
      if (proto !== 'th' && proto !== pkt.transport) return NO;
      const els = elements(right, ctx);
      if (field === 'dport') {
        if (!els) return maybe(`${proto} dport ${describe(right)}`, true);
        if (op === '<' || op === '>' || op === '<=' || op === '>=') {
          const n = Number(right);
          const r = op === '<' ? pkt.port < n : op === '>' ? pkt.port > n : op === '<=' ? pkt.port <= n : pkt.port >= n;
          return Number.isFinite(n) ? (r ? YES : NO) : maybe(`dport ${String(op)} ${describe(right)}`, true);
        }
        return membership(op, els.map((e) => portIn(e, pkt.port)), `${proto} dport`, right);
      }
      if (field === 'sport') return maybe(`source port ${op === '!=' ? 'not ' : ''}${describe(right)}`);
      return maybe(`${proto} ${field} ${describe(right)}`, true);
    }
    if (proto === 'ip' || proto === 'ip6') {
      if ((proto === 'ip') !== (pkt.family === 'ipv4')) return NO;
      if (field === 'saddr' || field === 'daddr') return addressMatch(field, op, right, ctx);
      if (field === 'protocol' || field === 'nexthdr') {
        const els = elements(right, ctx) ?? [];
        return membership(op, els.map((e) => e === pkt.transport || e === PROTO_NUM[pkt.transport]), `${proto} ${field}`, right);
      }
      return maybe(`${proto} ${field} ${describe(right)}`, true);
    }
    // icmp, icmpv6, arp, ether…: another protocol's header; a TCP/UDP packet has none.
    if (['icmp', 'icmpv6', 'igmp', 'arp', 'esp', 'ah', 'comp'].includes(proto)) return NO;
    return maybe(`${proto} ${field} ${describe(right)}`, true);
  }
  if (isObj(left) && isObj(left.meta)) {
    const key = String(left.meta.key);
    const els = elements(right, ctx) ?? [];
    if (key === 'l4proto') return membership(op, els.map((e) => e === pkt.transport || e === PROTO_NUM[pkt.transport]), 'meta l4proto', right);
    if (key === 'nfproto') return membership(op, els.map((e) => e === pkt.family), 'meta nfproto', right);
    if (key === 'protocol') return membership(op, els.map((e) => e === (pkt.family === 'ipv4' ? 'ip' : 'ip6')), 'meta protocol', right);
    if (key === 'iifname' || key === 'iif') {
      const names = els.map(String);
      if (names.every((n) => n === 'lo')) return op === '!=' ? YES : NO;
      return maybe(`input interface ${op === '!=' ? 'not ' : ''}${names.join(', ')}`);
    }
    if (key === 'iiftype') {
      if (els.every((e) => e === 'loopback')) return op === '!=' ? YES : NO;
      return maybe(`input interface type ${describe(right)}`);
    }
    if (key === 'pkttype') return membership(op, els.map((e) => e === 'host' || e === 'unicast'), 'meta pkttype', right);
    if (key === 'oifname' || key === 'oif') return YES; // not set on input
    return maybe(`meta ${key} ${describe(right)}`, true);
  }
  if (isObj(left) && isObj(left.ct)) {
    const key = String(left.ct.key);
    const els = elements(right, ctx) ?? [];
    if (key === 'state') return membership(op, els.map((e) => e === 'new'), 'ct state', right);
    if (key === 'status') {
      // A connection made straight to this host is neither NATed nor expected.
      if (els.every((e) => e === 'dnat' || e === 'snat' || e === 'expected')) return op === '!=' ? YES : NO;
      return maybe(`ct status ${describe(right)}`, true);
    }
    if (key === 'direction') return membership(op, els.map((e) => e === 'original'), 'ct direction', right);
    return maybe(`ct ${key} ${describe(right)}`, true);
  }
  if (isObj(left) && isObj(left.fib)) {
    const result = String(left.fib.result);
    const els = elements(right, ctx) ?? [];
    if (result === 'type') return membership(op, els.map((e) => e === 'local'), 'fib daddr type', right);
    // Reverse-path checks (`fib saddr . iif oif missing drop`) only catch spoofed sources.
    if (result === 'oif' || result === 'oifname') return NO;
    return maybe(`fib ${result} ${describe(right)}`, true);
  }
  return maybe(describe({ match: m }), true);
}

/** The verdict statement of a rule, if `e` is one. */
function verdictOf(e: Obj, ctx: Ctx): Action | undefined {
  if ('accept' in e) return { type: 'accept' };
  if ('drop' in e) return { type: 'drop', how: 'drop' };
  if ('reject' in e) return { type: 'drop', how: 'reject' };
  if ('return' in e) return { type: 'return' };
  if ('continue' in e) return { type: 'continue' };
  if (isObj(e.jump)) return { type: 'jump', target: String(e.jump.target) };
  if (isObj(e.goto)) return { type: 'goto', target: String(e.goto.target) };
  void ctx;
  return undefined;
}

/** Statements that neither match nor decide (counters, logging, marks, set updates). */
const NEUTRAL = new Set(['counter', 'log', 'mangle', 'notrack', 'set', 'ct helper', 'ct timeout', 'ct expectation', 'synproxy', 'tproxy', 'dup', 'fwd', 'meter', 'ct count']);

function translateRule(rule: NftRule, ctx: Ctx): WalkRule[] {
  const where = describeRule(rule);
  const ms: Match[] = [];
  for (const raw of rule.expr) {
    if (!isObj(raw)) { ms.push(maybe(String(raw), true)); continue; }
    if (isObj(raw.match)) { ms.push(matchExpr(raw.match, ctx)); continue; }
    const v = verdictOf(raw, ctx);
    if (v) return [{ where, match: and(ms), action: v }];
    if (isObj(raw.vmap)) {
      // One walker rule per map entry: the keys are exclusive, so their order does not matter.
      const data = raw.vmap.data;
      const pairs = isObj(data) && Array.isArray(data.set) ? data.set
        : typeof data === 'string' && data.startsWith('@') ? ctx.sets.get(data.slice(1))?.elem : undefined;
      if (!pairs) return [{ where, match: and([...ms, maybe(describe(raw), true)]), action: { type: 'accept' } }];
      const out: WalkRule[] = [];
      for (const p of pairs) {
        const [key, verdict] = Array.isArray(p) ? p : [];
        const action = isObj(verdict) ? verdictOf(verdict, ctx) : undefined;
        if (!action) continue;
        out.push({ where, match: and([...ms, matchExpr({ op: '==', left: raw.vmap.key, right: key }, ctx)]), action });
      }
      return out;
    }
    if (isObj(raw.xt)) {
      const name = String(raw.xt.name);
      if (raw.xt.type === 'target') {
        if (name === 'ACCEPT') return [{ where, match: and(ms), action: { type: 'accept' } }];
        if (name === 'DROP' || name === 'REJECT') return [{ where, match: and(ms), action: { type: 'drop', how: name === 'DROP' ? 'drop' : 'reject' } }];
        continue;
      }
      ms.push(maybe(`iptables match "${name}" (details not visible in nft JSON)`, true));
      continue;
    }
    if ('queue' in raw) return [{ where, match: and([...ms, maybe('packet handed to a userspace queue', true)]), action: { type: 'accept' } }];
    if (isObj(raw.limit)) { ms.push(maybe(describe(raw), true)); continue; }
    if ('quota' in raw) { ms.push(maybe('quota', true)); continue; }
    const [k] = Object.keys(raw);
    if (k && NEUTRAL.has(k)) continue;
    // Unknown statements are treated as not deciding anything; they never end the rule.
  }
  return [];
}

export interface NftOptions {
  /** Tables not to read here because iptables-save shows them better (iptables-nft): `ip filter`. */
  skipTables?: ReadonlySet<string>;
}

const HOOKS = ['prerouting', 'input'];

/** The filter base chains a packet to this host goes through, in the order the kernel runs them. */
export function nftBaseChains(rs: NftRuleset, pkt: Packet, opts: NftOptions = {}): BaseChain[] {
  const families = pkt.family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
  const bases: (BaseChain & { order: [number, number] })[] = [];
  type Table = { chains: NftChain[]; rules: NftRule[]; sets: Map<string, NftSet> };
  const byTable = new Map<string, Table>();
  for (const c of rs.chains) {
    const key = `${c.family} ${c.table}`;
    if (!families.includes(c.family) || opts.skipTables?.has(key)) continue;
    const t: Table = byTable.get(key) ?? { chains: [], rules: [], sets: new Map() };
    t.chains.push(c);
    byTable.set(key, t);
  }
  for (const r of rs.rules) byTable.get(`${r.family} ${r.table}`)?.rules.push(r);
  for (const s of rs.sets) byTable.get(`${s.family} ${s.table}`)?.sets.set(s.name, s);
  for (const [key, t] of byTable) {
    const [family, table] = key.split(' ') as [string, string];
    const ctx: Ctx = { pkt, sets: t.sets, family, table };
    const chains = new Map<string, WalkRule[]>();
    for (const c of t.chains) chains.set(c.name, []);
    for (const r of t.rules) chains.get(r.chain)?.push(...translateRule(r, ctx));
    for (const c of t.chains) {
      if (c.type !== 'filter' || !c.hook || !HOOKS.includes(c.hook)) continue;
      bases.push({
        name: `nftables ${family} ${table} chain ${c.name} (hook ${c.hook}, priority ${c.prio ?? 0})`,
        chain: c.name,
        policy: c.policy === 'drop' ? 'drop' : 'accept',
        chains,
        order: [HOOKS.indexOf(c.hook), c.prio ?? 0],
      });
    }
  }
  bases.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
  return bases.map(({ order: _o, ...b }) => b);
}
