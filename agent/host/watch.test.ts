import { chmodSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inotifyWatchedInodes, watchPaths, type PathWatcher } from './watch.js';

const linux = process.platform === 'linux';

describe.runIf(linux)('watchPaths on Linux: one inotify watch per directory', () => {
  let root: string;
  let watcher: PathWatcher | undefined;
  let seen: Set<string>;
  let errors: Error[];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cg-watch-'));
    seen = new Set();
    errors = [];
  });
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  const start = async (paths: string[] = [root], ignored: (p: string) => boolean = () => false) => {
    watcher = watchPaths(paths, { ignored, onPath: (p) => seen.add(p), onError: (e) => errors.push(e) });
    await watcher.ready;
  };
  /** Waits until every path was reported (then forgets what was seen), or fails naming the missing ones. */
  const reported = async (...paths: string[]) => {
    const until = Date.now() + 5_000;
    while (Date.now() < until && !paths.every((p) => seen.has(p))) await new Promise((r) => setTimeout(r, 20));
    expect(paths.filter((p) => !seen.has(p))).toEqual([]);
    seen.clear();
  };
  const ino = (p: string) => lstatSync(p).ino;
  const watched = () => new Set(inotifyWatchedInodes());

  it('watches every directory and no file (10 folders × 50 files: 11 watches, not 511)', async () => {
    const dirs = [root];
    const files: string[] = [];
    for (let d = 0; d < 10; d++) {
      const dir = join(root, `d${d}`);
      mkdirSync(dir);
      dirs.push(dir);
      for (let f = 0; f < 50; f++) {
        files.push(join(dir, `f${f}`));
        writeFileSync(files.at(-1)!, `${d}/${f}\n`);
      }
    }
    const before = watched();
    await start();
    const w = watched();
    expect(dirs.filter((d) => !w.has(ino(d)))).toEqual([]);
    expect(files.filter((f) => w.has(ino(f)))).toEqual([]);
    expect(w.size - before.size).toBeLessThanOrEqual(dirs.length);
    await watcher!.close();
    watcher = undefined;
    const after = watched();
    expect(dirs.filter((d) => after.has(ino(d)))).toEqual([]);
  });

  it('reports create, modify, chmod, delete and both sides of a rename of a file in a subfolder', async () => {
    const sub = join(root, 'etc', 'cron.d');
    mkdirSync(sub, { recursive: true });
    const f = join(sub, 'job');
    await start();
    writeFileSync(f, 'a\n');
    await reported(f);
    writeFileSync(f, 'b\n', { flag: 'a' });
    await reported(f);
    chmodSync(f, 0o4755);
    await reported(f);
    renameSync(f, join(sub, 'job2'));
    await reported(f, join(sub, 'job2'));
    unlinkSync(join(sub, 'job2'));
    await reported(join(sub, 'job2'));
    expect(errors).toEqual([]);
  });

  it('watches a new directory tree as it appears, reports what is already in it, and lets go of it when removed', async () => {
    await start();
    const deep = join(root, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'early'), 'x');
    await reported(join(root, 'a'), join(deep, 'early'));
    // The new folders have watches of their own: a later file deep inside is seen.
    await new Promise((r) => setTimeout(r, 50));
    expect(watched().has(ino(deep))).toBe(true);
    writeFileSync(join(deep, 'late'), 'y');
    await reported(join(deep, 'late'));
    const deepIno = ino(deep);
    rmSync(join(root, 'a'), { recursive: true });
    await reported(join(root, 'a'));
    await new Promise((r) => setTimeout(r, 50));
    expect(watched().has(deepIno)).toBe(false);
  });

  it('follows a folder moved within the tree under its new name', async () => {
    mkdirSync(join(root, 'old', 'inner'), { recursive: true });
    await start();
    renameSync(join(root, 'old'), join(root, 'new'));
    await reported(join(root, 'old'), join(root, 'new'));
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(join(root, 'new', 'inner', 'f'), 'z');
    await reported(join(root, 'new', 'inner', 'f'));
  });

  it('reports every one of 1,000 files written in a burst across 10 folders', async () => {
    const files: string[] = [];
    for (let d = 0; d < 10; d++) mkdirSync(join(root, `d${d}`));
    for (let i = 0; i < 1_000; i++) files.push(join(root, `d${i % 10}`, `f${i}`));
    await start();
    for (const f of files) writeFileSync(f, 'x');
    await reported(...files);
  });

  it('watches a root that is a file through its folder, passing on that name only, also when it is replaced', async () => {
    const etc = join(root, 'etc');
    mkdirSync(etc);
    const passwd = join(etc, 'passwd');
    writeFileSync(passwd, 'root:x:0:0\n');
    await start([passwd]);
    expect(watched().has(ino(passwd))).toBe(false);
    writeFileSync(join(etc, 'passwd.tmp'), 'root:x:0:0\nmallory:x:0:0\n');
    renameSync(join(etc, 'passwd.tmp'), passwd);
    await reported(passwd);
    writeFileSync(join(etc, 'other'), 'x');
    writeFileSync(passwd, 'again\n');
    await reported(passwd);
    expect([...seen].filter((p) => p !== passwd)).toEqual([]);
  });

  it('watches a root folder again when it is removed and created anew', async () => {
    const www = join(root, 'www');
    mkdirSync(join(www, 'site'), { recursive: true });
    await start([www]);
    rmSync(www, { recursive: true });
    await reported(www);
    mkdirSync(join(www, 'site'), { recursive: true });
    await reported(www);
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(join(www, 'site', 'shell.php'), '<?php system($_GET[1]);');
    await reported(join(www, 'site', 'shell.php'));
  });

  it('does not watch or report what is ignored', async () => {
    mkdirSync(join(root, 'skip', 'below'), { recursive: true });
    mkdirSync(join(root, 'keep'));
    await start([root], (p) => p === join(root, 'skip'));
    expect(watched().has(ino(join(root, 'skip', 'below')))).toBe(false);
    writeFileSync(join(root, 'skip', 'below', 'f'), 'x');
    writeFileSync(join(root, 'keep', 'f'), 'x');
    await reported(join(root, 'keep', 'f'));
    expect(seen.has(join(root, 'skip', 'below', 'f'))).toBe(false);
  });
});
