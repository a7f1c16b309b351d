/** Looking at paths for FIM: one path (inspect) or whole trees (walk), reusing unchanged hashes. */
import { join } from 'node:path';
import { hashFile, listDir, statPath, type FileFacts, type Pause } from '../../host/files.js';
import { sameStat, type Entry } from './entry.js';
import type { ScopeMatcher } from './scope.js';

/**
 * A pause that yields to the event loop once `budgetMs` of work has passed since the last yield:
 * the file calls are synchronous (see agent/host/files.ts), so walkers must give timers, sockets
 * and real-time events their turn.
 */
export function pacer(budgetMs = 10): Pause {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < budgetMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

function toEntry(f: FileFacts): Entry | undefined {
  if (f.type === 'other') return undefined;
  const e: Entry = { type: f.type, size: f.size, mode: f.mode, uid: f.uid, gid: f.gid, mtimeNs: f.mtimeNs, ctimeNs: f.ctimeNs, ino: f.ino, dev: f.dev };
  if (f.target !== undefined) e.target = f.target;
  return e;
}

/**
 * The current state of one path; undefined when it is gone or not a file, directory or symlink
 * (devices, sockets and FIFOs are not tracked). A regular file whose metadata equals `previous`
 * keeps the previous hash instead of being read again.
 */
export async function inspect(path: string, previous: Entry | undefined, maxHashBytes: number, pause?: Pause): Promise<Entry | undefined> {
  const facts = statPath(path);
  if (!facts) return undefined;
  if (facts.type !== 'file') return toEntry(facts);
  if (previous && sameStat(previous, facts) && (previous.sha256 !== undefined || facts.size > maxHashBytes)) {
    const e = toEntry(facts)!;
    if (previous.sha256 !== undefined) e.sha256 = previous.sha256;
    return e;
  }
  if (facts.size > maxHashBytes) return toEntry(facts);
  const hashed = await hashFile(path, maxHashBytes, pause);
  if (!hashed) return undefined;
  const e = toEntry(hashed.facts);
  if (e && hashed.sha256 !== undefined) e.sha256 = hashed.sha256;
  return e;
}

export interface WalkOptions {
  matcher: ScopeMatcher;
  maxHashBytes: number;
  previous: ReadonlyMap<string, Entry>;
}

export interface WalkResult {
  entries: Map<string, Entry>;
  /** Paths that could not be looked at (permissions, I/O errors), with the error code. */
  failed: { path: string; code: string }[];
}

/**
 * Walks the trees under `roots`, depth first in name order, not following symlinks and not entering
 * excluded directories.
 */
export async function walk(roots: readonly string[], opts: WalkOptions): Promise<WalkResult> {
  const entries = new Map<string, Entry>();
  const failed: WalkResult['failed'] = [];
  const pause = pacer();
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const path = stack.pop()!;
    await pause();
    if (opts.matcher.excludedSelf(path)) continue;
    try {
      const entry = await inspect(path, opts.previous.get(path), opts.maxHashBytes, pause);
      if (!entry) continue;
      entries.set(path, entry);
      if (entry.type !== 'dir') continue;
      const names = listDir(path);
      if (!names) continue;
      names.sort();
      for (let i = names.length - 1; i >= 0; i--) stack.push(join(path, names[i]!));
    } catch (e) {
      failed.push({ path, code: String((e as NodeJS.ErrnoException).code ?? 'EIO') });
    }
  }
  return { entries, failed };
}
