/**
 * Did the package manager make these file changes? For FIM: a change to a file that a package owns,
 * made while the package manager was installing, upgrading or configuring that package, and leaving
 * the content the package ships, is the package's doing ("expected").
 *
 * - Debian/Ubuntu: `/var/log/dpkg.log` says which packages dpkg worked on and when; `dpkg -S` says
 *   which package owns each changed path; `dpkg --verify` says which of their files no longer match
 *   the package database (MD5).
 * - RHEL/Rocky/Alma: the rpm database says when each package was installed (`INSTALLTIME`) and the
 *   SHA-256 each of its files should have (`FILEDIGESTS`), compared with FIM's own hash.
 *
 * Nothing is asked when the package manager has not written its log/database within the window,
 * so a quiet host pays one stat per batch of changes.
 */
import { open, stat } from 'node:fs/promises';
import { readSystemFile } from './fs.js';
import { dpkgActivity, parseDpkgLog, type DpkgActivity } from './linux/dpkg-log.js';
import { dpkgSearchable, dpkgTempTarget, parseDpkgSearch, parseDpkgVerify, usrMergeAlias } from './linux/dpkg-files.js';
import { parseRpmFiles, parseRpmInstallTimes, RPM_DIGEST_SHA256, RPM_FILES_FORMAT, RPM_INSTALLTIME_FORMAT } from './linux/rpm-files.js';
import { runCommand, type Runner } from './run.js';

export interface FileChange {
  path: string;
  /** When it changed (inode change time; the time it was noticed for deletions), ms. */
  atMs: number;
  type: 'file' | 'dir' | 'symlink';
  deleted: boolean;
  /** FIM's SHA-256 of the content now, when it has one. */
  sha256?: string;
}

export interface PackageVerdict {
  package: string;
  version?: string;
  /** The package manager worked on this package around the change, and the file holds what the package ships. */
  expected: boolean;
}

export interface PackageOracle {
  readonly manager: 'dpkg' | 'rpm';
  /** Verdicts for the changes a package can speak for; paths left out are nobody's doing. */
  explain(changes: readonly FileChange[], windowMs: number): Promise<Map<string, PackageVerdict>>;
}

export interface PackageHostDeps {
  run: Runner<'dpkg' | 'rpm'>;
  /** mtime in ms, undefined when the file does not exist. */
  mtime(path: string): Promise<number | undefined>;
  /** The last `maxBytes` of a file (whole lines), undefined when it does not exist. */
  tail(path: string, maxBytes: number): Promise<string | undefined>;
}

const DPKG_LOG = '/var/log/dpkg.log';
const DPKG_STATUS = '/var/lib/dpkg/status';
const RPM_DBS = ['/var/lib/rpm/rpmdb.sqlite', '/var/lib/rpm/Packages', '/usr/lib/sysimage/rpm/rpmdb.sqlite', '/usr/lib/sysimage/rpm/Packages'];
/** dpkg.log grows by a few hundred bytes per package action; the last 4 MiB covers any window. */
const LOG_TAIL_BYTES = 4 * 1024 * 1024;
/** Paths per `dpkg -S` call (the command line stays far below ARG_MAX). */
const SEARCH_CHUNK = 200;
/** More changed paths than this in one batch are not looked up one by one. */
const MAX_LOOKUPS = 20_000;

async function mtimeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function tailOf(path: string, maxBytes: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size <= maxBytes) return (await readSystemFile(path, maxBytes)) ?? '';
    const buf = Buffer.alloc(maxBytes);
    const { bytesRead } = await fh.read(buf, 0, maxBytes, size - maxBytes);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    return text.slice(text.indexOf('\n') + 1); // drop the partial first line
  } finally {
    await fh.close();
  }
}

export const REAL_PACKAGE_HOST: PackageHostDeps = { run: runCommand, mtime: mtimeOf, tail: tailOf };

function span(changes: readonly FileChange[], windowMs: number): { from: number; to: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of changes) {
    lo = Math.min(lo, c.atMs);
    hi = Math.max(hi, c.atMs);
  }
  return { from: lo - windowMs, to: hi + windowMs };
}

const near = (atMs: number, a: { first: number; last: number }, windowMs: number): boolean => atMs >= a.first - windowMs && atMs <= a.last + windowMs;

/** dpkg names a package `name` or `name:arch`; the activity map is keyed the way the log writes it. */
function activityFor(activity: Map<string, DpkgActivity>, owner: string): DpkgActivity | undefined {
  const direct = activity.get(owner);
  if (direct) return direct;
  const name = owner.includes(':') ? owner.slice(0, owner.indexOf(':')) : owner;
  for (const a of activity.values()) if (a.name === name && (!owner.includes(':') || owner.endsWith(`:${a.arch ?? ''}`))) return a;
  return undefined;
}

export function createDpkgOracle(deps: PackageHostDeps = REAL_PACKAGE_HOST): PackageOracle {
  return {
    manager: 'dpkg',
    async explain(changes, windowMs) {
      const out = new Map<string, PackageVerdict>();
      if (changes.length === 0 || changes.length > MAX_LOOKUPS) return out;
      const { from, to } = span(changes, windowMs);
      const logTime = await deps.mtime(DPKG_LOG);
      if (logTime === undefined || logTime < from) return out;
      const log = await deps.tail(DPKG_LOG, LOG_TAIL_BYTES);
      const activity = dpkgActivity(parseDpkgLog(log ?? ''), from, to);
      if (activity.size === 0) return out;

      // Who owns each path: as written, its other merged-/usr spelling, or the file a dpkg temp name stands for.
      const asked = new Map<string, string[]>(); // change path → names to ask dpkg about
      for (const c of changes) {
        const target = dpkgTempTarget(c.path) ?? c.path;
        const alias = usrMergeAlias(target);
        asked.set(c.path, [target, ...(alias ? [alias] : [])].filter(dpkgSearchable));
      }
      const names = [...new Set([...asked.values()].flat())];
      const owners = new Map<string, string[]>();
      for (let i = 0; i < names.length; i += SEARCH_CHUNK) {
        const r = await deps.run('dpkg', ['-S', ...names.slice(i, i + SEARCH_CHUNK)], { okExitCodes: [1] });
        for (const [p, pkgs] of parseDpkgSearch(r.stdout)) owners.set(p, pkgs);
      }

      // Owners the package manager worked on around the change; then check their files against the database.
      const candidates = new Map<string, { pkg: string; activity: DpkgActivity }>();
      const verifyNames = new Set<string>();
      for (const c of changes) {
        for (const name of asked.get(c.path) ?? []) {
          for (const pkg of owners.get(name) ?? []) {
            const a = activityFor(activity, pkg);
            if (!a || !near(c.atMs, a, windowMs)) continue;
            candidates.set(c.path, { pkg, activity: a });
            verifyNames.add(pkg);
            break;
          }
          if (candidates.has(c.path)) break;
        }
      }
      if (candidates.size === 0) return out;
      const differing = new Set<string>();
      const vr = await deps.run('dpkg', ['--verify', ...verifyNames], { okExitCodes: [1] });
      for (const p of parseDpkgVerify(vr.stdout)) if (p.digestDiffers || p.missing) differing.add(p.path);

      for (const c of changes) {
        const cand = candidates.get(c.path);
        if (!cand) continue;
        const target = dpkgTempTarget(c.path) ?? c.path;
        const alias = usrMergeAlias(target);
        // A deleted file the package still lists is missing from it: not the package's doing.
        const tampered = differing.has(target) || (alias !== undefined && differing.has(alias));
        const verdict: PackageVerdict = { package: cand.activity.name, expected: !tampered && !(c.deleted && !cand.activity.removed) };
        const version = cand.activity.version ?? cand.activity.previous;
        if (version !== undefined) verdict.version = version;
        out.set(c.path, verdict);
      }
      return out;
    },
  };
}

export function createRpmOracle(deps: PackageHostDeps = REAL_PACKAGE_HOST): PackageOracle {
  return {
    manager: 'rpm',
    async explain(changes, windowMs) {
      const out = new Map<string, PackageVerdict>();
      if (changes.length === 0 || changes.length > MAX_LOOKUPS) return out;
      const { from, to } = span(changes, windowMs);
      const dbTimes = await Promise.all(RPM_DBS.map((p) => deps.mtime(p)));
      const dbTime = Math.max(...dbTimes.map((t) => t ?? -Infinity));
      if (dbTime < from) return out;
      const all = parseRpmInstallTimes((await deps.run('rpm', ['-qa', '--qf', RPM_INSTALLTIME_FORMAT])).stdout);
      const active = all.filter((p) => p.installTime * 1000 >= from && p.installTime * 1000 <= to);
      if (active.length === 0) return out;
      const names = [...new Set(active.map((p) => p.name))];
      const packages = parseRpmFiles((await deps.run('rpm', ['-q', '--qf', RPM_FILES_FORMAT, ...names], { okExitCodes: [1] })).stdout);
      for (const c of changes) {
        const at = usrMergeAlias(c.path);
        for (const pkg of packages) {
          const digest = pkg.files.get(c.path) ?? (at !== undefined ? pkg.files.get(at) : undefined);
          if (digest === undefined) continue;
          const installed = pkg.installTime * 1000;
          if (!near(c.atMs, { first: installed, last: installed }, windowMs)) continue;
          const comparable = c.type === 'file' && pkg.digestAlgo === RPM_DIGEST_SHA256 && digest.length === 64;
          const same = !comparable || c.sha256 === digest;
          out.set(c.path, { package: pkg.name, version: pkg.version, expected: same && !c.deleted });
          break;
        }
      }
      return out;
    },
  };
}

/** The oracle for this host's package manager, or undefined (Windows, macOS, no dpkg/rpm database). */
export async function detectPackageOracle(deps: PackageHostDeps = REAL_PACKAGE_HOST): Promise<PackageOracle | undefined> {
  if (process.platform !== 'linux') return undefined;
  if ((await deps.mtime(DPKG_STATUS)) !== undefined) return createDpkgOracle(deps);
  for (const db of RPM_DBS) if ((await deps.mtime(db)) !== undefined) return createRpmOracle(deps);
  return undefined;
}
