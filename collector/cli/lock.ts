/**
 * One collector per data directory: `serve` and `demo` hold `<data-dir>/collector.pid` while they run. A
 * second one on the same directory (another port in another config file, a forgotten terminal) would
 * share the store and the CA with the first and double its alerts; it is refused, naming the first.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CanhGacError } from '../../common/errors.js';

function alive(pid: number): boolean {
  // Linux: a process id reused by an unrelated program does not hold the directory.
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('canhgac')) return false;
  } catch { /* no /proc (or the process is gone): ask the kernel below */ }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data directory for this process; returns the release function. A stale file (its process gone) is taken over. */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'collector.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        try { if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true }); } catch { /* already gone */ }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new CanhGacError('COLLECTOR_DATA_DIR_BUSY', `another collector (process ${pid}) is running with this data directory`, {
          where: dataDir, hint: `stop it first (kill ${pid}), or give this one its own --data-dir`,
        });
      }
      rmSync(file, { force: true }); // left by a collector that was killed
    }
  }
  throw new CanhGacError('COLLECTOR_DATA_DIR_BUSY', 'could not take the data directory', { where: dataDir, hint: 'try again' });
}
