/**
 * Parser for `nft -j list ruleset` (nftables ≥ 0.9, JSON schema version 1): tables, chains with their
 * hooks and policies, rules with their expressions, and named sets. Text in, data out, no I/O. Rule
 * expressions are kept as the JSON nftables printed; the firewall check interprets them.
 */

export interface NftChain {
  family: string;
  table: string;
  name: string;
  /** Base chains only: `filter`, `nat`, `route`. */
  type?: string;
  /** Base chains only: `prerouting`, `input`, `forward`, `output`, `postrouting`, `ingress`. */
  hook?: string;
  prio?: number;
  /** Base chains only: `accept` or `drop`. */
  policy?: string;
}

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle?: number;
  comment?: string;
  expr: unknown[];
}

export interface NftSet {
  family: string;
  table: string;
  name: string;
  /** `set` or `map` (verdict maps are maps whose data are verdicts). */
  kind: 'set' | 'map';
  elem: unknown[];
}

export interface NftRuleset {
  version?: string;
  tables: { family: string; name: string }[];
  chains: NftChain[];
  rules: NftRule[];
  sets: NftSet[];
  /** Entries of kinds this parser does not use (flowtables, counters, ct helpers…). */
  skipped: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Throws when the text is not nftables JSON at all; tolerates entries it does not know. */
export function parseNftJson(text: string): NftRuleset {
  const trimmed = text.trim();
  const out: NftRuleset = { tables: [], chains: [], rules: [], sets: [], skipped: 0 };
  // An empty ruleset prints `{"nftables": [{"metainfo": …}]}`; some old versions print nothing at all.
  if (trimmed === '') return out;
  const doc: unknown = JSON.parse(trimmed);
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new Error('not nftables JSON: no top-level "nftables" array');
  for (const entry of doc.nftables) {
    if (!isObj(entry)) { out.skipped++; continue; }
    if (isObj(entry.metainfo)) {
      const v = str(entry.metainfo.version);
      if (v) out.version = v;
    } else if (isObj(entry.table)) {
      const t = entry.table;
      const family = str(t.family); const name = str(t.name);
      if (family && name) out.tables.push({ family, name });
    } else if (isObj(entry.chain)) {
      const c = entry.chain;
      const family = str(c.family); const table = str(c.table); const name = str(c.name);
      if (!family || !table || !name) { out.skipped++; continue; }
      const chain: NftChain = { family, table, name };
      const type = str(c.type); const hook = str(c.hook); const prio = num(c.prio); const policy = str(c.policy);
      if (type) chain.type = type;
      if (hook) chain.hook = hook;
      if (prio !== undefined) chain.prio = prio;
      if (policy) chain.policy = policy;
      out.chains.push(chain);
    } else if (isObj(entry.rule)) {
      const r = entry.rule;
      const family = str(r.family); const table = str(r.table); const chain = str(r.chain);
      if (!family || !table || !chain || !Array.isArray(r.expr)) { out.skipped++; continue; }
      const rule: NftRule = { family, table, chain, expr: r.expr };
      const handle = num(r.handle); const comment = str(r.comment);
      if (handle !== undefined) rule.handle = handle;
      if (comment) rule.comment = comment;
      out.rules.push(rule);
    } else if (isObj(entry.set) || isObj(entry.map)) {
      const s = (entry.set ?? entry.map) as Obj;
      const family = str(s.family); const table = str(s.table); const name = str(s.name);
      if (!family || !table || !name) { out.skipped++; continue; }
      const elem = Array.isArray(s.elem) ? s.elem : s.elem === undefined ? [] : [s.elem];
      out.sets.push({ family, table, name, kind: entry.map ? 'map' : 'set', elem });
    } else {
      out.skipped++;
    }
  }
  return out;
}
