/**
 * A lock file holding its owner's pid, created exclusively. A lock whose process is gone is taken over by
 * renaming it to a name of our own first — only one of several processes racing for the same stale lock
 * can win that rename — then creating it exclusively again, so two processes never both believe they
 * hold it. Used for the collector's data directory (`collector.pid`) and for feed imports.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export interface PidLockOptions {
  /** The error to throw when the lock is held (`holder` says by whom, for the message). */
  busy(holder: string): Error;
  /** Linux: a live process whose command line lacks this is not the holder (its pid was reused). */
  program?: string;
  /** The file names this very process: stale (a restarted container's pid 1) rather than held. */
  ownPidIsStale?: boolean;
}

function alive(pid: number, program: string | undefined): boolean {
  if (program !== undefined) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(program)) return false;
    } catch { /* no /proc (or the process is gone): ask the kernel below */ }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const read = (file: string): string => { try { return readFileSync(file, 'utf8').trim(); } catch { return ''; } };

/** Takes the lock; returns its release (which removes the file only while it still names this process). */
export function takePidLock(file: string, opts: PidLockOptions): () => void {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const text = read(file);
    const pid = Number(text);
    const held = Number.isInteger(pid) && pid > 0 && (pid === process.pid ? !opts.ownPidIsStale : alive(pid, opts.program));
    if (held) throw opts.busy(`process ${pid}`);
    if (attempt > 0) throw opts.busy(`lock holder ${text || 'unknown'}`);
    const aside = `${file}.stale-${process.pid}-${randomUUID()}`;
    try {
      renameSync(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw opts.busy('another process took over the stale lock first');
      throw e;
    }
    const moved = read(aside);
    rmSync(aside, { force: true });
    // What was moved aside must be the stale lock read above, not one another process has just taken.
    if (moved !== text) throw opts.busy(`process ${moved || 'unknown'}`);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (read(file) === String(process.pid)) rmSync(file, { force: true });
  };
}
