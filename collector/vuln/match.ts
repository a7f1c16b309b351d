/**
 * Matching installed packages against OSV records.
 *
 * A version v is affected by an affected[] entry when it is listed in `versions`, or when
 * one of its ECOSYSTEM/SEMVER ranges contains it. A range is evaluated the OSV way: sort the
 * events by version (introduced "0" first); walk them; `introduced <= v` opens, `fixed <= v`
 * closes, `last_affected < v` closes; when the range has `limit` events, v must also be below
 * one of them. GIT ranges are ignored. Withdrawn records are left out of the index.
 *
 * The index is built once per feed (ecosystem → package name → entries, events pre-sorted),
 * so a host's packages are each one map lookup plus a few comparisons.
 */
import type { InstalledPackage } from './inventory.js';
import { kevIndex, type KevCatalog, type KevEntry } from './kev.js';
import { parseEcosystem, recordAliases, type Ecosystem, type OsvAffected, type OsvRange, type OsvRecord } from './osv.js';
import { distributionRating, severityOf, type Cvss, type SeverityInfo, type VulnSeverity } from './severity.js';
import { SEMVER_ORDER, type VersionOrder } from './version/index.js';
import { buildWindowsIndex, type WindowsBuilds, type WindowsIndex } from './windows.js';

interface PreparedEvent {
  kind: 'introduced' | 'fixed' | 'last_affected';
  version: string;
  /** introduced "0": before every version. */
  zero: boolean;
}

interface PreparedRange {
  order: VersionOrder;
  events: PreparedEvent[];
  /** `limit` events other than "*"; empty when the range has none. */
  limits: string[];
  /**
   * rpm ranges: whether the range's versions are modular builds (`.module_el9…`, `.module+el9…`),
   * undefined when it has no version to tell (introduced "0" alone) or is not rpm.
   */
  modular: boolean | undefined;
}

/** An rpm release built for a module stream (AlmaLinux `.module_el9.2.0+29+…`, RHEL/Rocky `.module+el9.2.0+…`). */
const MODULAR_RPM = /\.module[_+]el\d/;

interface IndexedEntry {
  record: OsvRecord;
  aliases: string[];
  affected: OsvAffected;
  ecosystem: string;
  name: string;
  versions: ReadonlySet<string>;
  ranges: PreparedRange[];
  /**
   * What every match of this entry shares, computed at its first match (CVSS parsing and the KEV
   * lookup are not free, and a feed is matched against many hosts).
   */
  rated?: { sev: SeverityInfo; rating: string | undefined; cves: string[]; kev: KevEntry | undefined };
}

export interface IndexStats {
  records: number;
  withdrawn: number;
  /** affected[] entries indexed (one per record × ecosystem × package). */
  entries: number;
  /** GIT ranges and ranges of unknown types, left out. */
  ignoredRanges: number;
  /** Ranges left out because an event version is malformed for the ecosystem's order. */
  invalidRanges: number;
  /** Ecosystems seen in the records that Canh Gác does not match (counted, not indexed). */
  otherEcosystems: Record<string, number>;
  /** The first problems found, for the import report. */
  problems: string[];
}

export interface FeedIndex {
  readonly ecosystems: ReadonlyMap<string, ReadonlyMap<string, readonly IndexedEntry[]>>;
  readonly kev: ReadonlyMap<string, KevEntry>;
  readonly stats: IndexStats;
  /** The Windows fixed-build table of the feed, when it has one (windows.ts). */
  readonly windows?: WindowsIndex | undefined;
}

const MAX_PROBLEMS = 100;

function prepareRange(type: string, events: OsvRange['events'], eco: Ecosystem, where: string, stats: IndexStats): PreparedRange | undefined {
  const order = type === 'ECOSYSTEM' ? eco.order : type === 'SEMVER' ? SEMVER_ORDER : undefined;
  if (order === undefined) {
    stats.ignoredRanges++;
    return undefined;
  }
  const prepared: PreparedEvent[] = [];
  const limits: string[] = [];
  for (const e of events) {
    const [kind, version] = e.introduced !== undefined ? ['introduced', e.introduced] as const
      : e.fixed !== undefined ? ['fixed', e.fixed] as const
        : e.last_affected !== undefined ? ['last_affected', e.last_affected] as const
          : ['limit', e.limit!] as const;
    const zero = kind === 'introduced' && version === '0';
    if (kind === 'limit' && version === '*') continue;
    if (!zero) {
      const problem = order.problem(version);
      if (problem !== undefined) {
        stats.invalidRanges++;
        if (stats.problems.length < MAX_PROBLEMS) stats.problems.push(`${where}: ${kind} "${version}" is not a valid ${order.name} version (${problem}); range ignored`);
        return undefined;
      }
    }
    // Parse once now (the order keeps parsed versions): the first host matched after a feed load
    // then costs what every later one does.
    if (!zero) order.compare(version, version);
    if (kind === 'limit') limits.push(version);
    else prepared.push({ kind, version, zero });
  }
  const rank = { introduced: 0, fixed: 1, last_affected: 1 } as const;
  prepared.sort((a, b) => {
    if (a.zero || b.zero) return a.zero === b.zero ? 0 : a.zero ? -1 : 1;
    return order.compare(a.version, b.version) || rank[a.kind] - rank[b.kind];
  });
  const versions = [...prepared.filter((e) => !e.zero).map((e) => e.version), ...limits];
  const modular = order.name !== 'rpm' || versions.length === 0 ? undefined : versions.some((v) => MODULAR_RPM.test(v));
  return { order, events: prepared, limits, modular };
}

/**
 * A version as `versions[]` lookups compare it: rpm's epoch 0 is the same whether written or not
 * (the agent always writes `0:8.7p1-34.el9`, advisories usually leave it out), so it is dropped.
 */
function listedVersion(v: string, order: VersionOrder): string {
  return order.name === 'rpm' && v.startsWith('0:') ? v.slice(2) : v;
}

/** Builds the lookup structure for a feed. Records of ecosystems Canh Gác does not match are counted and skipped. */
export function buildFeedIndex(records: Iterable<OsvRecord>, kev?: KevCatalog, windows?: WindowsBuilds): FeedIndex {
  const stats: IndexStats = { records: 0, withdrawn: 0, entries: 0, ignoredRanges: 0, invalidRanges: 0, otherEcosystems: {}, problems: [] };
  const ecosystems = new Map<string, Map<string, IndexedEntry[]>>();
  const known = new Map<string, Ecosystem | null>();
  for (const record of records) {
    stats.records++;
    if (record.withdrawn !== undefined) {
      stats.withdrawn++;
      continue;
    }
    const aliases = recordAliases(record);
    for (const affected of record.affected) {
      const pkg = affected.package;
      if (pkg === undefined) continue;
      let eco = known.get(pkg.ecosystem);
      if (eco === undefined) {
        try {
          eco = parseEcosystem(pkg.ecosystem);
        } catch {
          eco = null;
        }
        known.set(pkg.ecosystem, eco);
      }
      if (eco === null) {
        stats.otherEcosystems[pkg.ecosystem] = (stats.otherEcosystems[pkg.ecosystem] ?? 0) + 1;
        continue;
      }
      const ranges: PreparedRange[] = [];
      for (const r of affected.ranges ?? []) {
        const p = prepareRange(r.type, r.events, eco, `${record.id} ${pkg.ecosystem}/${pkg.name}`, stats);
        if (p !== undefined) ranges.push(p);
      }
      const versions = new Set((affected.versions ?? []).map((v) => listedVersion(v, eco.order)));
      if (ranges.length === 0 && versions.size === 0) continue;
      let byName = ecosystems.get(pkg.ecosystem);
      if (byName === undefined) ecosystems.set(pkg.ecosystem, (byName = new Map()));
      let list = byName.get(pkg.name);
      if (list === undefined) byName.set(pkg.name, (list = []));
      list.push({ record, aliases, affected, ecosystem: pkg.ecosystem, name: pkg.name, versions, ranges });
      stats.entries++;
    }
  }
  return { ecosystems, kev: kevIndex(kev), stats, ...(windows !== undefined ? { windows: buildWindowsIndex(windows) } : {}) };
}

// ---------------------------------------------------------------- evaluation

interface RangeHit {
  order: VersionOrder;
  introduced: string;
  fixed?: string;
  lastAffected?: string;
  limit?: string;
}

function evaluateRange(v: string, range: PreparedRange): RangeHit | undefined {
  const cmp = range.order.compare;
  const events = range.events;
  let affected = false;
  let opener = -1;
  for (let k = 0; k < events.length; k++) {
    const e = events[k]!;
    if (e.kind === 'introduced') {
      if (e.zero || cmp(v, e.version) >= 0) {
        affected = true;
        opener = k;
      }
    } else if (e.kind === 'fixed') {
      if (cmp(v, e.version) >= 0) affected = false;
    } else if (cmp(v, e.version) > 0) {
      affected = false;
    }
  }
  if (!affected) return undefined;
  let limit: string | undefined;
  if (range.limits.length > 0) {
    limit = range.limits.find((l) => cmp(v, l) < 0);
    if (limit === undefined) return undefined;
  }
  const hit: RangeHit = { order: range.order, introduced: events[opener]!.version };
  for (let k = opener + 1; k < events.length; k++) {
    const closer = events[k]!;
    if (closer.kind === 'introduced') continue;
    if (closer.kind === 'fixed') hit.fixed = closer.version;
    else hit.lastAffected = closer.version;
    break;
  }
  if (limit !== undefined) hit.limit = limit;
  return hit;
}

export interface VulnMatch {
  /** Advisory id: DSA-5764-1, DEBIAN-CVE-2024-8176, ALSA-2024:1234, … */
  id: string;
  /** Other ids of the same issue (CVE ids, the Debian CVE record of a DSA, …). */
  aliases: string[];
  /** The CVE ids among the id and aliases. */
  cves: string[];
  summary: string | undefined;
  ecosystem: string;
  package: {
    /** The name the advisory lists (a source package for Debian/Ubuntu). */
    name: string;
    /** The installed version compared (the source version when matched on the source package). */
    version: string;
    matchedOn: 'source' | 'binary';
    /** The installed binary packages this covers. */
    binaries: Array<{ name: string; version: string; architecture?: string | undefined }>;
  };
  installedVersion: string;
  /** The version that fixes it in this ecosystem, or null when none is published. */
  fixedVersion: string | null;
  fixAvailable: boolean;
  /** Why the package is affected, in words a person can check. */
  explanation: string;
  severity: VulnSeverity;
  /** CVSS base score, or null when no usable vector was published. */
  score: number | null;
  cvss: Cvss | null;
  severitySource: 'cvss' | 'distribution' | 'none';
  /** The distribution's own rating (Debian urgency such as `unimportant`, Ubuntu priority), whatever the CVSS says. */
  distributionRating: string | undefined;
  /** Listed in CISA's Known Exploited Vulnerabilities catalogue (by the id or an alias). */
  kev: boolean;
  kevDateAdded?: string | undefined;
  modified: string | undefined;
}

export interface SkippedPackage {
  name: string;
  version: string;
  reason: string;
}

export interface MatchResult {
  matches: VulnMatch[];
  /** Packages that could not be compared (malformed versions). */
  skipped: SkippedPackage[];
  /** Distinct (name, version) lookups made. */
  lookups: number;
}

/** The part of an explanation every match of a group shares: which binaries the source package covers. */
function explainSuffix(listedName: string, matchedOn: 'source' | 'binary', binaries: string[]): string {
  return matchedOn === 'source' && (binaries.length !== 1 || binaries[0] !== listedName) ? `; source package ${listedName} of ${binaries.join(', ')}` : '';
}

function explain(v: string, eco: string, hit: RangeHit | undefined, listedName: string, suffix: string): string {
  let text: string;
  if (hit === undefined) {
    text = `installed ${v} is listed among the affected versions of ${listedName} in ${eco}`;
  } else {
    const order = `(${hit.order.name} order)`;
    const range = `affected range introduced ${hit.introduced}`;
    if (hit.fixed !== undefined) text = `installed ${v} < fixed ${hit.fixed} ${order}; ${range}`;
    else if (hit.lastAffected !== undefined) text = `installed ${v} <= last affected ${hit.lastAffected} ${order}; ${range}; no fixed version listed`;
    else if (hit.introduced === '0') text = `installed ${v}: no fixed version is listed for ${eco} ${order}; ${range}`;
    else text = `installed ${v} >= introduced ${hit.introduced} ${order}; no fixed version is listed for ${eco}`;
    if (hit.limit !== undefined) text += `; below limit ${hit.limit}`;
  }
  return text + suffix;
}

interface Group {
  name: string;
  version: string;
  matchedOn: 'source' | 'binary';
  binaries: InstalledPackage[];
}

function groupPackages(pkgs: readonly InstalledPackage[], eco: Ecosystem, byName: ReadonlyMap<string, readonly IndexedEntry[]>): Map<string, Group> {
  const groups = new Map<string, Group>();
  const add = (name: string, version: string, matchedOn: Group['matchedOn'], p: InstalledPackage): void => {
    const key = `${matchedOn}\u0000${name}\u0000${version}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { name, version, matchedOn, binaries: [] }));
    g.binaries.push(p);
  };
  for (const p of pkgs) {
    const sourceName = p.source?.name || undefined;
    const sourceVersion = p.source?.version || p.version;
    if (eco.keyedBySource) {
      if (sourceName !== undefined) add(sourceName, sourceVersion, 'source', p);
      else add(p.name, p.version, 'binary', p);
    } else if (byName.has(p.name) || sourceName === undefined) {
      add(p.name, p.version, 'binary', p);
    } else {
      add(sourceName, sourceVersion, 'source', p);
    }
  }
  return groups;
}

/**
 * Ecosystems whose advisories also apply to a host of `osEcosystem`: an Ubuntu LTS release's
 * Ubuntu Pro (ESM) advisories (`Ubuntu:22.04:LTS` → `Ubuntu:Pro:22.04:LTS`). Once a release leaves
 * standard support its new advisories are published only there; the host is affected whether or
 * not it has Ubuntu Pro — only the fix needs it.
 */
export function companionEcosystems(osEcosystem: string): string[] {
  const m = /^Ubuntu:(\d\d\.\d\d):LTS$/.exec(osEcosystem);
  return m ? [`Ubuntu:Pro:${m[1]}:LTS`] : [];
}

/**
 * Matches a host's packages against the feed for its OS ecosystem ("Debian:12",
 * "Ubuntu:22.04:LTS", "Rocky Linux:9", "AlmaLinux:9"). Throws COLLECTOR_ECOSYSTEM_UNKNOWN
 * for an ecosystem Canh Gác cannot match; packages with malformed versions are reported
 * in `skipped`, not thrown.
 */
export function matchPackages(pkgs: readonly InstalledPackage[], index: FeedIndex, osEcosystem: string): MatchResult {
  const eco = parseEcosystem(osEcosystem);
  const byName = index.ecosystems.get(osEcosystem) ?? new Map<string, IndexedEntry[]>();
  const ecosystems = [{ name: osEcosystem, byName }, ...companionEcosystems(osEcosystem).flatMap((name) => {
    const m = index.ecosystems.get(name);
    return m === undefined ? [] : [{ name, byName: m }];
  })];
  const matches: VulnMatch[] = [];
  const skipped: SkippedPackage[] = [];
  const groups = groupPackages(pkgs, eco, byName);
  for (const g of groups.values()) {
    const lists = ecosystems.map((e) => ({ eco: e.name, entries: e.byName.get(g.name) })).filter((x) => x.entries !== undefined);
    if (lists.length === 0) continue;
    const problem = eco.order.problem(g.version);
    if (problem !== undefined) {
      skipped.push({ name: g.name, version: g.version, reason: `not a valid ${eco.order.name} version: ${problem}` });
      continue;
    }
    // Per advisory: the host's own ecosystem first; an Ubuntu Pro entry only for an advisory the
    // release's own entries do not match (one finding per advisory and package).
    const seen = new Map<string, { entry: IndexedEntry; hit: RangeHit | undefined; eco: string }>();
    for (const { eco: ecoName, entries } of lists) {
      const before = new Set(seen.keys());
      for (const entry of entries!) {
        if (before.has(entry.record.id)) continue;
        let hit: RangeHit | undefined;
        for (const range of entry.ranges) {
          if (range.order !== eco.order && range.order.problem(g.version) !== undefined) continue;
          // A module stream's erratum (nodejs:18, fixed 1:18.14.2-2.module_el9…) is about that stream's
          // builds only: the non-modular nodejs 16 of the base AppStream is another package line, fixed
          // by its own errata, and comparing it with 18.14.2 would call every such host affected. So a
          // modular range applies only to modular builds and a non-modular range only to non-modular ones.
          if (range.modular !== undefined && range.modular !== MODULAR_RPM.test(g.version)) continue;
          hit = evaluateRange(g.version, range);
          if (hit !== undefined) break;
        }
        if (hit === undefined && !entry.versions.has(listedVersion(g.version, eco.order))) continue;
        const prior = seen.get(entry.record.id);
        if (prior === undefined || (prior.hit === undefined && hit !== undefined)) seen.set(entry.record.id, { entry, hit, eco: ecoName });
      }
    }
    if (seen.size === 0) continue;
    // Shared by every match of this group.
    const binaries = g.binaries.map((b) => ({ name: b.name, version: b.version, architecture: b.architecture }));
    const suffix = explainSuffix(g.name, g.matchedOn, [...new Set(binaries.map((b) => b.name))]);
    for (const { entry, hit, eco: entryEco } of seen.values()) {
      if (entry.rated === undefined) {
        const ids = [entry.record.id, ...entry.aliases];
        entry.rated = {
          sev: severityOf(entry.record, entry.affected),
          rating: distributionRating(entry.record, entry.affected),
          cves: ids.filter((id) => /^CVE-\d{4}-\d+$/.test(id)),
          kev: ids.map((id) => index.kev.get(id)).find((k) => k !== undefined),
        };
      }
      const sev = entry.rated.sev;
      const kevEntry = entry.rated.kev;
      const fixed = hit?.fixed ?? null;
      matches.push({
        id: entry.record.id,
        aliases: entry.aliases,
        cves: entry.rated.cves,
        summary: entry.record.summary,
        ecosystem: entryEco,
        package: { name: g.name, version: g.version, matchedOn: g.matchedOn, binaries },
        installedVersion: g.version,
        fixedVersion: fixed,
        fixAvailable: fixed !== null,
        explanation: explain(g.version, entryEco, hit, g.name, suffix) + (entryEco === osEcosystem ? '' : `; advisory of ${entryEco}${fixed !== null ? ' (the fix needs Ubuntu Pro)' : ''}`),
        severity: sev.severity,
        score: sev.score,
        cvss: sev.cvss,
        severitySource: sev.source,
        distributionRating: entry.rated.rating,
        kev: kevEntry !== undefined,
        kevDateAdded: kevEntry?.dateAdded,
        modified: entry.record.modified,
      });
    }
  }
  matches.sort((a, b) => (a.package.name < b.package.name ? -1 : a.package.name > b.package.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { matches, skipped, lookups: groups.size };
}

/** The matches of `matchPackages`. */
export function matchInventory(pkgs: readonly InstalledPackage[], index: FeedIndex, osEcosystem: string): VulnMatch[] {
  return matchPackages(pkgs, index, osEcosystem).matches;
}

/** Whether one version is affected by one record in one ecosystem (for tests and the API's "why" view). */
export function isAffected(record: OsvRecord, ecosystem: string, packageName: string, version: string): VulnMatch | undefined {
  const eco = parseEcosystem(ecosystem);
  const index = buildFeedIndex([record]);
  const pkg: InstalledPackage = eco.keyedBySource
    ? { name: packageName, version, source: { name: packageName, version } }
    : { name: packageName, version };
  return matchInventory([pkg], index, ecosystem)[0];
}
