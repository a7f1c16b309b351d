/**
 * One host's vulnerability evaluation as collector-derived `vulnerability` state findings: one
 * finding per (advisory, installed binary package), state key `<advisory id>:<package state key>`
 * (`DEBIAN-CVE-2024-8176:libexpat1:amd64`), all in one snapshot so that what vanished since the
 * previous evaluation is removed from the host's state when the snapshot closes.
 *
 * `package.name`/`package.version` are the installed binary package as the package manager lists
 * it (dpkg-query, rpm); `vulnerability.compared_version` is the version the advisory was compared
 * with (for Debian and Ubuntu the source package's version, which differs from the binary's for
 * binNMUs). `vulnerability.first_seen` and `vulnerability.fix_available_since` carry over from the
 * previous evaluation, so the age rules measure how long a host has been exposed.
 */
import { randomUUID } from 'node:crypto';
import type { Fields, FindingRecord } from '../../common/finding.js';
import { vulnerabilityFields } from './fields.js';
import { hostOs, platformOf } from './host-os.js';
import { hotfixSet, matchWindows, windowsHostOf } from './windows.js';
import { packageFromFields, type InstalledPackage } from './inventory.js';
import { matchPackages, type FeedIndex, type SkippedPackage, type VulnMatch } from './match.js';

export const VULN_CHECK = 'vuln';

export interface HostState {
  agentId: string;
  hostName: string;
  /** The host's current `host` item (its OS decides the ecosystem). */
  host: FindingRecord | undefined;
  /** Current `package` items. */
  packages: readonly FindingRecord[];
  /** Current `vulnerability` items (from the previous evaluation). */
  previous: readonly FindingRecord[];
}

export interface EvaluationPolicy {
  /**
   * Report advisories the distribution rates `unimportant` (Debian: "not a security problem in
   * Debian", never fixed) when no fixed version exists. Default false: they are counted, not reported.
   */
  includeUnimportant?: boolean;
}

export interface HostEvaluation {
  ecosystem: string | undefined;
  /** Why nothing was matched (no host inventory, an OS without advisories…). */
  skippedReason: string | undefined;
  /**
   * The host's OS is one that is matched, but this evaluation could not compare it (a Windows build
   * without UBR, client/server unknown, no fixed-build data for its branch): "cannot evaluate", not
   * "nothing vulnerable" — the previous findings must stay, not be resolved as patched.
   */
  indeterminate?: boolean;
  findings: FindingRecord[];
  snapshotId: string;
  /** Advisory matches (per source package), before the per-binary split. */
  matches: number;
  /** Matches left out by the policy (unimportant, no fix). */
  hidden: number;
  /** Packages whose installed version could not be compared. */
  skipped: SkippedPackage[];
  packages: number;
  matchMs: number;
}

const MAX_TEXT = 4000;
const MAX_LIST = 256;

function trimText(s: string): string {
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s;
}

/** Debian's "unimportant" (and Ubuntu's "negligible") with no fix: the distribution will not fix it. */
export function isUnimportant(m: VulnMatch): boolean {
  return !m.fixAvailable && (m.distributionRating === 'unimportant' || m.distributionRating === 'negligible');
}

function packageKey(name: string, version: string, arch: string | undefined): string {
  return `${name}\u0000${version}\u0000${arch ?? ''}`;
}

function str(f: Fields, k: string): string | undefined {
  return typeof f[k] === 'string' ? (f[k] as string) : undefined;
}

/** Evaluates one host. Pure apart from the clock and the ids (both injectable). */
export function evaluateHost(
  state: HostState, index: FeedIndex, feedId: string, now: Date,
  policy: EvaluationPolicy = {}, newId: () => string = randomUUID,
): HostEvaluation {
  const snapshotId = newId();
  const empty = (reason: string | undefined, ecosystem?: string): HostEvaluation => ({
    ecosystem, skippedReason: reason, findings: [], snapshotId, matches: 0, hidden: 0, skipped: [], packages: state.packages.length, matchMs: 0,
  });
  if (state.host === undefined) return empty('no host inventory yet');
  if (platformOf(state.host.fields) === 'windows') return evaluateWindowsHost(state, index, feedId, now, snapshotId, newId);
  const os = hostOs(state.host.fields);
  if (os.ecosystem === undefined) return empty(os.reason);

  const installed: InstalledPackage[] = [];
  const byKey = new Map<string, FindingRecord[]>();
  for (const r of state.packages) {
    const p = packageFromFields(r.fields);
    if (p === undefined) continue;
    installed.push(p);
    const k = packageKey(p.name, p.version, p.architecture);
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  const t0 = performance.now();
  const result = matchPackages(installed, index, os.ecosystem);
  const matchMs = performance.now() - t0;

  const prev = new Map(state.previous.map((r) => [r.stateKey, r.fields]));
  const at = now.toISOString();
  const findings: FindingRecord[] = [];
  let hidden = 0;
  for (const m of result.matches) {
    if (policy.includeUnimportant !== true && isUnimportant(m)) {
      hidden++;
      continue;
    }
    const base = vulnerabilityFields(m);
    const seenKeys = new Set<string>();
    for (const b of m.package.binaries) {
      for (const pkg of byKey.get(packageKey(b.name, b.version, b.architecture)) ?? []) {
        const stateKey = `${m.id}:${pkg.stateKey}`;
        if (seenKeys.has(stateKey)) continue;
        seenKeys.add(stateKey);
        const before = prev.get(stateKey);
        const f: Fields = {
          ...base,
          'event.category': 'vulnerability',
          'event.type': 'info',
          'vulnerability.explanation': trimText(m.explanation),
          'vulnerability.aliases': m.aliases.slice(0, MAX_LIST),
          'vulnerability.compared_version': m.installedVersion,
          'vulnerability.first_seen': (before && str(before, 'vulnerability.first_seen')) ?? at,
          'vulnerability.feed.id': feedId,
          'vulnerability.scanner.vendor': 'Canh Gác',
          'package.name': b.name,
          'package.version': b.version,
        };
        if (m.cves.length > 0) f['vulnerability.cves'] = m.cves.slice(0, MAX_LIST);
        if (m.summary !== undefined && m.summary !== '') f['vulnerability.summary'] = trimText(m.summary);
        if (m.kevDateAdded !== undefined) f['vulnerability.kev_date_added'] = m.kevDateAdded;
        if (m.distributionRating !== undefined) f['vulnerability.distribution_rating'] = m.distributionRating;
        if (m.fixAvailable) {
          const since = before && before['vulnerability.fix_available'] === true ? str(before, 'vulnerability.fix_available_since') : undefined;
          f['vulnerability.fix_available_since'] = since ?? at;
        }
        for (const k of ['package.architecture', 'package.type', 'package.source.name', 'package.source.version']) {
          const v = str(pkg.fields, k);
          if (v !== undefined && v !== '') f[k] = v;
        }
        findings.push({
          id: newId(), agentId: state.agentId, hostName: state.hostName, seq: 0, observedAt: at, receivedAt: at,
          check: VULN_CHECK, kind: 'vulnerability', family: 'state', stateKey, snapshotId, fields: f,
        });
      }
    }
  }
  return {
    ecosystem: os.ecosystem, skippedReason: undefined, findings, snapshotId, matches: result.matches.length, hidden,
    skipped: result.skipped, packages: installed.length, matchMs,
  };
}

/**
 * A Windows host: its OS build against the feed's fixed-build table (windows.ts). One finding per
 * CVE, state key `<CVE>:os`, `package.name` the Windows product, `package.version` the build.
 */
function evaluateWindowsHost(state: HostState, index: FeedIndex, feedId: string, now: Date, snapshotId: string, newId: () => string): HostEvaluation {
  const base = { snapshotId, hidden: 0, skipped: [] as SkippedPackage[], packages: state.packages.length };
  const empty = (reason: string): HostEvaluation => ({ ...base, ecosystem: 'Windows', skippedReason: reason, indeterminate: true, findings: [], matches: 0, matchMs: 0 });
  if (index.windows === undefined) return empty('the feed has no Windows fixed-build data (windows-builds.json)');
  const host = windowsHostOf(state.host!.fields);
  if ('reason' in host) return empty(host.reason);
  const t0 = performance.now();
  const result = matchWindows(host, hotfixSet(state.packages), index.windows, index.kev);
  const matchMs = performance.now() - t0;
  if (result.reason !== undefined) return { ...empty(result.reason), matchMs };
  const prev = new Map(state.previous.map((r) => [r.stateKey, r.fields]));
  const at = now.toISOString();
  const findings: FindingRecord[] = result.matches.map((m) => {
    const stateKey = `${m.id}:os`;
    const before = prev.get(stateKey);
    const f: Fields = {
      ...vulnerabilityFields(m),
      'event.category': 'vulnerability',
      'event.type': 'info',
      'vulnerability.explanation': trimText(m.explanation),
      'vulnerability.aliases': [],
      'vulnerability.cves': m.cves,
      'vulnerability.compared_version': m.installedVersion,
      'vulnerability.first_seen': (before && str(before, 'vulnerability.first_seen')) ?? at,
      'vulnerability.fix_available_since': (before && before['vulnerability.fix_available'] === true ? str(before, 'vulnerability.fix_available_since') : undefined) ?? at,
      'vulnerability.feed.id': feedId,
      'vulnerability.scanner.vendor': 'Canh Gác',
      'package.name': m.package.name,
      'package.version': m.installedVersion,
      'package.type': 'os',
      // The rules dedup per source package: for Windows the OS product is the "source", so pending
      // cumulative updates are one alert per host, as the fix (one cumulative update) is.
      'package.source.name': m.package.name,
      'package.source.version': m.installedVersion,
    };
    if (m.summary !== undefined && m.summary !== '') f['vulnerability.summary'] = trimText(m.summary);
    if (m.kevDateAdded !== undefined) f['vulnerability.kev_date_added'] = m.kevDateAdded;
    if (m.distributionRating !== undefined) f['vulnerability.distribution_rating'] = m.distributionRating;
    if (host.arch !== undefined) f['package.architecture'] = host.arch;
    return {
      id: newId(), agentId: state.agentId, hostName: state.hostName, seq: 0, observedAt: at, receivedAt: at,
      check: VULN_CHECK, kind: 'vulnerability', family: 'state', stateKey, snapshotId, fields: f,
    };
  });
  return { ...base, ecosystem: 'Windows', skippedReason: undefined, findings, matches: result.matches.length, matchMs };
}
