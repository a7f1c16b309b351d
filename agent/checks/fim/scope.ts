/** Which paths a FIM configuration covers: under one of its roots and not excluded. Pure. */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';

export interface Scope {
  roots: readonly string[];
  exclude: readonly string[];
}

export interface ScopeMatcher {
  /** The path itself matches an exclude pattern (walkers use this: they never enter excluded dirs). */
  excludedSelf(path: string): boolean;
  /** Under a root, and neither it nor any directory between it and its root is excluded. */
  covers(path: string): boolean;
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

export function scopeMatcher(scope: Scope, extraExcluded: readonly string[] = []): ScopeMatcher {
  const roots = normaliseRoots(scope.roots);
  const withSlash = scope.exclude.filter((p) => p.includes('/'));
  const bare = scope.exclude.filter((p) => !p.includes('/'));
  const full = withSlash.length ? picomatch(withSlash, { dot: true }) : () => false;
  const base = bare.length ? picomatch(bare, { dot: true, basename: true }) : () => false;
  const hard = normaliseRoots(extraExcluded);
  const excludedSelf = (path: string) => full(path) || base(path) || hard.some((h) => isUnder(h, path));
  const rootOf = (path: string) => roots.find((r) => isUnder(r, path));
  return {
    excludedSelf,
    rootOf,
    covers(path: string) {
      const p = resolve(path);
      const root = rootOf(p);
      if (!root) return false;
      for (let cur = p; ; cur = dirname(cur)) {
        if (excludedSelf(cur)) return false;
        if (cur === root || cur === dirname(cur)) return true;
      }
    },
  };
}

/** Whether `path` is strictly inside directory `dir`. */
export function isInside(dir: string, path: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}
