/** Looking at paths for FIM: one path (inspect) or whole trees (walk), reusing unchanged hashes. */
import { join } from 'node:path';
import { hashFile, listDir, statPath, type FileFacts } from '../../host/files.js';
import { sameStat, type Entry } from './entry.js';
import type { ScopeMatcher } from './scope.js';

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
export async function inspect(path: string, previous: Entry | undefined, maxHashBytes: number): Promise<Entry | undefined> {
  const facts = await statPath(path);
  if (!facts) return undefined;
  if (facts.type !== 'file') return toEntry(facts);
  if (previous && sameStat(previous, facts) && (previous.sha256 !== undefined || facts.size > maxHashBytes)) {
    const e = toEntry(facts)!;
    if (previous.sha256 !== undefined) e.sha256 = previous.sha256;
    return e;
  }
  if (facts.size > maxHashBytes) return toEntry(facts);
  const hashed = await hashFile(path, maxHashBytes);
  if (!hashed) return undefined;
  const e = toEntry(hashed.facts);
  if (e && hashed.sha256 !== undefined) e.sha256 = hashed.sha256;
  return e;
}

export interface WalkOptions {
  matcher: ScopeMatcher;
  maxHashBytes: number;
  previous: ReadonlyMap<string, Entry>;
  concurrency?: number;
}

export interface WalkResult {
  entries: Map<string, Entry>;
  /** Paths that could not be looked at (permissions, I/O errors), with the error code. */
  failed: { path: string; code: string }[];
}

/** Walks the trees under `roots` (not following symlinks, not entering excluded directories). */
export async function walk(roots: readonly string[], opts: WalkOptions): Promise<WalkResult> {
  const entries = new Map<string, Entry>();
  const failed: WalkResult['failed'] = [];
  const stack = [...roots].reverse();
  const limit = opts.concurrency ?? 8;
  let active = 0;

  const visit = async (path: string): Promise<string[]> => {
    if (opts.matcher.excludedSelf(path)) return [];
    const entry = await inspect(path, opts.previous.get(path), opts.maxHashBytes);
    if (!entry) return [];
    entries.set(path, entry);
    if (entry.type !== 'dir') return [];
    const names = await listDir(path);
    return names ? names.sort().reverse().map((n) => join(path, n)) : [];
  };

  await new Promise<void>((resolve) => {
    const pump = () => {
      while (active < limit && stack.length > 0) {
        const path = stack.pop()!;
        active++;
        visit(path).then(
          (children) => { stack.push(...children); },
          (e: unknown) => { failed.push({ path, code: String((e as NodeJS.ErrnoException).code ?? 'EIO') }); },
        ).finally(() => {
          active--;
          if (active === 0 && stack.length === 0) resolve();
          else pump();
        });
      }
    };
    if (stack.length === 0) resolve();
    else pump();
  });
  return { entries, failed };
}
