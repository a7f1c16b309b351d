/**
 * Real-time notification of file changes. It only says "something happened at this path"; callers
 * look at the path themselves (and debounce), so a missed or merged event never carries wrong data.
 *
 * Linux: one `fs.watch` — one inotify watch — per directory, none per file. inotify reports what
 * happens to a directory's entries (created, written, chmod/chown, deleted, moved in or out) with
 * the entry's name, so a file needs no watch of its own. New directories are watched as they
 * appear (and their entries reported, for what was written before the watch was in place);
 * removed or moved-away ones are let go. A root that is a file is covered by a watch on its parent
 * directory that passes on that name only, so replacing it (`sed -i`, `vipw`) is seen too; a root
 * folder that is removed is looked out for in the same way, and watched again when it returns.
 *
 * chokidar (5.x) did this before and still does on Windows and macOS, where this code is not
 * tested yet. On Linux it cost too much memory for a 70 MB agent: it watches every file, and its
 * initial scan lstats every entry into a heap V8 keeps — 10,000 files: 111 MB RSS with its
 * per-file watches, 82–126 MB even when told to ignore files (docs/fim.md, "Memory at rest").
 */
import { watch as chokidarWatch } from 'chokidar';
import { lstatSync, readdirSync, readFileSync, readlinkSync, watch, type Dirent, type FSWatcher } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';

export interface PathWatcher {
  /** Resolves when the initial scan is done and changes are being reported. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions {
  /** True for paths to leave alone (not watched, not descended into). */
  ignored(path: string): boolean;
  /** Something may have changed at `path` (it may be created, changed or gone). */
  onPath(path: string): void;
  onError(error: Error): void;
}

export function watchPaths(paths: readonly string[], opts: WatchOptions): PathWatcher {
  return process.platform === 'linux' ? watchDirectories(paths, opts) : watchWithChokidar(paths, opts);
}

/** Errors that mean "not there (any more) or not ours to read": skipped, as a rescan would skip them. */
const SKIPPED = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'ELOOP']);

interface DirWatch {
  handle: FSWatcher;
  /** The directory's inode when the watch was placed (inotify watches the inode, not the name). */
  ino: number;
  /** Only these names are passed on (the parent of roots that are files); undefined: every entry. */
  only?: Set<string>;
}

/** The inode of the directory at `path`; undefined when it is anything else or gone. */
function dirInode(path: string): number | undefined {
  try {
    const st = lstatSync(path);
    return st.isDirectory() ? st.ino : undefined;
  } catch {
    return undefined;
  }
}

function watchDirectories(paths: readonly string[], opts: WatchOptions): PathWatcher {
  const roots = new Set(paths);
  const watches = new Map<string, DirWatch>();
  let closed = false;
  let limitReported = false;

  const fail = (e: unknown): void => {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (SKIPPED.has(code)) return;
    // Out of inotify watches (fs.inotify.max_user_watches): said once, not once per directory.
    if (code === 'ENOSPC') {
      if (limitReported) return;
      limitReported = true;
    }
    opts.onError(err);
  };

  const open = (dir: string, only?: Set<string>): boolean => {
    try {
      const ino = dirInode(dir) ?? 0;
      const handle = watch(dir, { persistent: true }, (_event, name) => onEvent(dir, name));
      handle.on('error', (e) => {
        release(dir);
        fail(e);
      });
      watches.set(dir, only ? { handle, ino, only } : { handle, ino });
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  };

  /** Watches `dir` and every directory below it; `announce`: also report every entry found. */
  const addTree = (dir: string, announce: boolean): void => {
    const stack = [dir];
    for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
      if (closed || opts.ignored(d)) continue;
      const had = watches.get(d);
      if (had && !had.only) continue;
      if (had) release(d); // was watched for a file root only; now the whole directory
      if (!open(d)) continue;
      let entries: Dirent[];
      try {
        entries = readdirSync(d, { withFileTypes: true });
      } catch (e) {
        fail(e);
        continue;
      }
      for (const entry of entries) {
        const p = join(d, entry.name);
        if (announce && !opts.ignored(p)) opts.onPath(p);
        if (entry.isDirectory()) stack.push(p);
      }
    }
  };

  const release = (dir: string): void => {
    watches.get(dir)?.handle.close();
    watches.delete(dir);
  };

  /** Lets go of `dir` and every watch below it (it was removed, moved away or replaced). */
  const releaseTree = (dir: string): void => {
    const prefix = dir.endsWith(sep) ? dir : dir + sep;
    for (const d of [...watches.keys()]) if (d === dir || d.startsWith(prefix)) release(d);
  };

  const onEvent = (dir: string, name: string | Buffer | null): void => {
    if (closed) return;
    const w = watches.get(dir);
    if (!w) return;
    // Without a name, or with the directory's own name (an event on the directory itself),
    // the directory is what to look at.
    const child = typeof name === 'string' && name.length > 0 ? join(dir, name) : undefined;
    if (w.only) {
      if (!child || !w.only.has(basename(child))) return;
      opts.onPath(child);
      // A root folder that was not there (or was removed) has appeared.
      if (roots.has(child) && !watches.has(child) && dirInode(child) !== undefined) addTree(child, true);
      return;
    }
    opts.onPath(dir);
    // A root folder removed or replaced: its watch is dead; its parent looks out for it again.
    if (roots.has(dir) && dirInode(dir) !== w.ino) {
      releaseTree(dir);
      watchName(dir);
      return;
    }
    if (!child || opts.ignored(child)) return;
    opts.onPath(child);
    // Any event can mean a directory came or went (create, move in, move out, delete, replace).
    // A directory replaced by another of the same name has a new inode: watched afresh.
    const known = watches.get(child);
    const ino = dirInode(child);
    if (known && (ino === undefined || (ino !== known.ino && !known.only))) releaseTree(child);
    if (ino !== undefined && (!watches.has(child) || watches.get(child)!.only)) addTree(child, true);
  };

  /** Watches the parent of `path` for that name only (unless the parent is watched whole). */
  const watchName = (path: string): void => {
    const parent = dirname(path);
    const w = watches.get(parent);
    if (w && !w.only) return;
    if (w?.only) w.only.add(basename(path));
    else open(parent, new Set([basename(path)]));
  };

  for (const root of paths) {
    if (closed) break;
    // A folder: watched whole. A file (or symlink, or not there yet): through its parent, by name.
    if (dirInode(root) !== undefined) addTree(root, false);
    else watchName(root);
  }

  return {
    ready: Promise.resolve(),
    close: async () => {
      closed = true;
      for (const d of [...watches.keys()]) release(d);
    },
  };
}

/**
 * Windows and macOS: chokidar as before (one watch per file), until the code above is tested there.
 * Also the benchmark's reference on Linux.
 */
export function watchWithChokidar(paths: readonly string[], opts: WatchOptions): PathWatcher {
  const watcher = chokidarWatch([...paths], {
    ignoreInitial: true,
    followSymlinks: false,
    persistent: true,
    ignorePermissionErrors: true,
    ignored: (path: string) => opts.ignored(path),
  });
  watcher.on('all', (_event, path) => opts.onPath(path));
  watcher.on('raw', (_event, name, details) => {
    const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (typeof watched !== 'string') return;
    // fs.watch on a directory names the child; on a file it names the file itself.
    opts.onPath(watched);
    if (typeof name === 'string' && name.length > 0) opts.onPath(join(watched, name));
  });
  watcher.on('error', (e) => opts.onError(e instanceof Error ? e : new Error(String(e))));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    close: () => watcher.close(),
  };
}

/**
 * The inodes this process holds inotify watches on (Linux; empty elsewhere): one `inotify wd:`
 * line per watch in /proc/<pid>/fdinfo/<fd> of each inotify descriptor. For tests and the benchmark.
 */
export function inotifyWatchedInodes(pid: number | 'self' = 'self'): number[] {
  const fdDir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(fdDir);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const fd of fds) {
    try {
      if (readlinkSync(join(fdDir, fd)) !== 'anon_inode:inotify') continue;
      for (const m of readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) {
        out.push(parseInt(m[1]!, 16));
      }
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return out;
}
