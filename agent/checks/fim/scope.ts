/** Which paths a FIM configuration covers: under one of its roots, not excluded, included. Pure. */
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';

export interface Scope {
  roots: readonly string[];
  exclude: readonly string[];
  /** Absent or empty: every file under the roots. */
  include?: readonly string[];
}

export interface ScopeMatcher {
  /** The path itself matches an exclude pattern (walkers use this: they never enter excluded dirs). */
  excludedSelf(path: string): boolean;
  /** Under a root, and neither it nor any directory between it and its root is excluded. */
  covers(path: string): boolean;
  /**
   * The include patterns let a non-directory at `path` in (directories are always walked, so that
   * files below them can be included).
   */
  included(path: string): boolean;
  /** covers(path), and for anything but a directory also included(path). */
  wants(path: string, type: string): boolean;
  /** The root a path is under, if any. */
  rootOf(path: string): string | undefined;
}

export function normaliseRoots(roots: readonly string[]): string[] {
  return [...new Set(roots.map((r) => resolve(r)))];
}

function isUnder(root: string, path: string): boolean {
  if (path === root) return true;
  const rel = relative(root, path);
  return rel.length > 0 && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Forward slashes, so one set of glob patterns serves Windows paths too. */
const slashed = (p: string): string => (sep === '\\' ? p.replaceAll('\\', '/') : p);

/**
 * Include patterns. A pattern without a slash (`*.exe`) applies to every file; one with a slash
 * applies only below its literal start (`C:/Program Files/**\/*.exe` restricts what is taken from
 * `C:/Program Files`, and leaves every other root alone). A file is in when no pattern applies to
 * it, or one that applies matches it.
 */
function includeMatcher(patterns: readonly string[]): (path: string) => boolean {
  if (patterns.length === 0) return () => true;
  const bare = patterns.filter((p) => !p.includes('/'));
  const bareMatch = bare.length ? picomatch(bare, { dot: true, basename: true }) : undefined;
  const scoped = patterns.filter((p) => p.includes('/')).map((p) => ({ base: picomatch.scan(p).base, match: picomatch(p, { dot: true }) }));
  return (path) => {
    const p = slashed(path);
    if (bareMatch?.(p)) return true;
    let applies = bare.length > 0;
    for (const s of scoped) {
      if (p === s.base || p.startsWith(s.base.endsWith('/') ? s.base : `${s.base}/`)) {
        applies = true;
        if (s.match(p)) return true;
      }
    }
    return !applies;
  };
}

export function scopeMatcher(scope: Scope, extraExcluded: readonly string[] = []): ScopeMatcher {
  const roots = normaliseRoots(scope.roots);
  const withSlash = scope.exclude.filter((p) => p.includes('/'));
  const bare = scope.exclude.filter((p) => !p.includes('/'));
  const full = withSlash.length ? picomatch(withSlash, { dot: true }) : () => false;
  const base = bare.length ? picomatch(bare, { dot: true, basename: true }) : () => false;
  const hard = normaliseRoots(extraExcluded);
  const excludedSelf = (path: string) => full(slashed(path)) || base(slashed(path)) || hard.some((h) => isUnder(h, path));
  const rootOf = (path: string) => roots.find((r) => isUnder(r, path));
  const included = includeMatcher(scope.include ?? []);
  const covers = (path: string): boolean => {
    const p = resolve(path);
    const root = rootOf(p);
    if (!root) return false;
    for (let cur = p; ; cur = dirname(cur)) {
      if (excludedSelf(cur)) return false;
      if (cur === root || cur === dirname(cur)) return true;
    }
  };
  return {
    excludedSelf,
    rootOf,
    covers,
    included,
    wants: (path, type) => covers(path) && (type === 'dir' || included(path)),
  };
}

/** Whether `path` is strictly inside directory `dir`. */
export function isInside(dir: string, path: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * Watch paths with `*` as a whole segment (`/home/*\/.ssh`, `C:\Users\*\AppData\…\Startup`) become
 * the paths that exist now, in name order; others are kept as they are. `list` gives a directory's
 * names (undefined when it is not there).
 */
export function expandRoots(paths: readonly string[], list: (dir: string) => string[] | undefined): string[] {
  const out: string[] = [];
  for (const raw of paths) {
    const p = resolve(raw);
    if (!p.split(sep).includes('*')) {
      out.push(p);
      continue;
    }
    const parts = p.split(sep);
    let current = [parts[0] === '' ? sep : `${parts[0]}${sep}`];
    for (const part of parts.slice(1)) {
      if (part === '') continue;
      if (part !== '*') {
        current = current.map((c) => join(c, part));
        continue;
      }
      const next: string[] = [];
      for (const c of current) for (const name of (list(c) ?? []).sort()) next.push(join(c, name));
      current = next;
    }
    out.push(...current);
  }
  return [...new Set(out)];
}

/**
 * Drops roots that are another root reached through a symlinked parent: on merged-/usr systems
 * `/lib/systemd/system` is `/usr/lib/systemd/system`, and watching both would record (and report)
 * every unit twice. A root that is itself a symlink (`/bin` → `usr/bin`) stays: the link is
 * recorded as such and not followed. `real` resolves a path (undefined when it does not exist).
 */
export function dropAliasedRoots(roots: readonly string[], real: (p: string) => string | undefined): string[] {
  const direct = new Set<string>();
  const resolved = roots.map((r) => {
    const parent = dirname(r);
    const realParent = parent === r ? parent : real(parent);
    const viaLink = realParent !== undefined && realParent !== parent;
    const target = viaLink ? join(realParent, r.slice(parent.length + (parent.endsWith(sep) ? 0 : 1))) : r;
    if (!viaLink) direct.add(r);
    return { r, target, viaLink };
  });
  const out: string[] = [];
  for (const { r, target, viaLink } of resolved) {
    if (viaLink && [...direct].some((d) => target === d || isInside(d, target))) continue;
    out.push(r);
  }
  return out;
}
