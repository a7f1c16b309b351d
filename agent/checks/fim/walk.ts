/**
 * Looking at paths for FIM: whole trees (walk) or a set of paths (lookAll), through the hash pool's
 * worker threads, reusing the baseline's hash of every file whose metadata did not change.
 */
import { join } from 'node:path';
import { deviceOf, EXTRA, REC, STATUS, statKey, type HashPool, type LookOutcome, type RawLook } from '../../host/hash-pool.js';
import type { Entry } from './entry.js';
import { EntryStore, type EntryLookup } from './entry-store.js';
import type { ScopeMatcher } from './scope.js';

/**
 * Looks a walker leaves waiting in the pool at most: enough to keep every worker busy, few enough
 * that waiting promises die young instead of piling up in the old generation.
 */
const MAX_WAITING = 128;

/** The baseline's stat key of a file whose old hash may be reused (it had one, or was too big for one). */
function reuseKey(previous: Entry | undefined, maxHashBytes: number): string | undefined {
  if (!previous || previous.type !== 'file') return undefined;
  if (previous.sha256 === undefined && previous.size <= maxHashBytes) return undefined;
  return statKey(previous);
}

/** The Entry for a look's outcome; undefined when gone or not a file, directory or symlink. */
function entryOf(o: LookOutcome & { kind: 'found' }, previous: Entry | undefined): Entry | undefined {
  // The facts have exactly an Entry's fields (and sha256 when read); taken over as they are.
  if (o.facts.type === 'other') return undefined;
  const e = o.facts as Entry;
  if (o.reused && previous?.sha256 !== undefined) e.sha256 = previous.sha256;
  return e;
}

export interface WalkOptions {
  matcher: ScopeMatcher;
  maxHashBytes: number;
  previous: EntryLookup;
  pool: HashPool;
}

export interface WalkResult {
  entries: EntryStore;
  /** Paths that could not be looked at (permissions, I/O errors), with the error code. */
  failed: { path: string; code: string }[];
}

/**
 * Walks the trees under `roots`, not following symlinks and not entering excluded directories. The
 * workers list directories and hash files; this thread only hands out paths and files the answers.
 */
export async function walk(roots: readonly string[], opts: WalkOptions): Promise<WalkResult> {
  const { matcher, maxHashBytes, previous, pool } = opts;
  const entries = new EntryStore();
  const failed: WalkResult['failed'] = [];
  // Directories still to hand out, each with its names in one NUL-separated string and a cursor:
  // child paths are made one at a time, so a folder of 18,000 files is not 18,000 live strings.
  const frames: { dir: string; names: string; pos: number }[] = [{ dir: '', names: [...roots].join('\0'), pos: 0 }];
  let waiting = 0;

  const next = (): string | undefined => {
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      if (f.pos >= f.names.length) {
        frames.pop();
        continue;
      }
      let end = f.names.indexOf('\0', f.pos);
      if (end < 0) end = f.names.length;
      const name = f.names.slice(f.pos, end);
      f.pos = end + 1;
      if (name.length === 0) continue;
      return f.dir === '' ? name : join(f.dir, name);
    }
    return undefined;
  };

  // The worker's record is copied into the store as it is: no Entry object per path.
  const settle = (path: string, { buf, off, str }: RawLook): void => {
    const status = buf[off + REC.status];
    if (status === STATUS.gone) return;
    if (status === STATUS.failed) {
      failed.push({ path, code: str ?? 'EIO' });
      return;
    }
    const type = buf[off + REC.type];
    if (type === 3) return; // devices, sockets, FIFOs are not tracked
    if (type !== 1 && !matcher.included(path)) return;
    const extra = buf[off + REC.extra]!;
    let sha: Buffer | undefined;
    if (extra & EXTRA.reused) {
      sha = previous instanceof EntryStore ? previous.shaOf(path) : shaBytes(previous.get(path)?.sha256);
    }
    entries.setRecord(path, buf, off, deviceOf(buf, off), type === 2 ? str : undefined, sha);
    if (type !== 1) return;
    if (extra & EXTRA.listError) failed.push({ path, code: str ?? 'EIO' });
    else if (extra & EXTRA.names && str) frames.push({ dir: path, names: str, pos: 0 });
  };

  await new Promise<void>((done, fail) => {
    const pump = (): void => {
      try {
        while (waiting < MAX_WAITING) {
          const path = next();
          if (path === undefined) break;
          if (matcher.excludedSelf(path)) continue;
          waiting++;
          // A file the include patterns leave out is still looked at (it may be a directory to enter), never read.
          const req = { path, hash: matcher.included(path), list: true, maxHashBytes, ...optional('reuse', reuseKey(previous.get(path), maxHashBytes)) };
          pool.lookRaw(req, (r) => {
            waiting--;
            try {
              settle(path, r);
            } catch (e) {
              fail(e);
              return;
            }
            pump();
          });
        }
        if (frames.length === 0 && waiting === 0) done();
      } catch (e) {
        fail(e);
      }
    };
    pump();
  });
  return { entries, failed };
}

const shaBytes = (hex: string | undefined): Buffer | undefined => (hex === undefined ? undefined : Buffer.from(hex, 'hex'));

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** What each path is now (undefined: gone or untracked), or the error code it could not be looked at with. */
export type Look = { path: string; entry: Entry | undefined } | { path: string; code: string };

/** The current state of some paths (no listing of directories), in parallel. */
export async function lookAll(paths: readonly string[], previous: EntryLookup, maxHashBytes: number, pool: HashPool): Promise<Look[]> {
  return Promise.all(paths.map(async (path): Promise<Look> => {
    const prev = previous.get(path);
    const o = await pool.look({ path, hash: true, list: false, maxHashBytes, ...optional('reuse', reuseKey(prev, maxHashBytes)) });
    if (o.kind === 'failed') return { path, code: o.code };
    return { path, entry: o.kind === 'gone' ? undefined : entryOf(o, prev) };
  }));
}
