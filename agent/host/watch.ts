/**
 * Real-time notification of file changes (chokidar over inotify / FSEvents / ReadDirectoryChangesW).
 * It only says "something happened at this path"; callers look at the path themselves, so a missed
 * or merged event never carries wrong data, and chmod/chown (which chokidar's own `change` event can
 * miss when atime is newer than mtime) still reaches them through the raw events.
 */
import { watch } from 'chokidar';
import { join } from 'node:path';

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
  const watcher = watch([...paths], {
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
