/**
 * One collector per data directory: `serve` and `demo` hold `<data-dir>/collector.pid` while they run. A
 * second one on the same directory (another port in another config file, a forgotten terminal) would
 * share the store and the CA with the first and double its alerts; it is refused, naming the first.
 */
import { join } from 'node:path';
import { CanhGacError } from '../../common/errors.js';
import { takePidLock } from '../../common/pid-lock.js';

/** Takes the data directory for this process; returns the release function. A stale file (its process gone) is taken over. */
export function lockDataDir(dataDir: string): () => void {
  const release = takePidLock(join(dataDir, 'collector.pid'), {
    program: 'canhgac',
    ownPidIsStale: true,
    busy: (holder) => new CanhGacError('COLLECTOR_DATA_DIR_BUSY', `another collector (${holder}) is running with this data directory`, {
      where: dataDir, hint: holder.startsWith('process ') ? `stop it first (kill ${holder.slice(8)}), or give this one its own --data-dir` : 'try again, or give this one its own --data-dir',
    }),
  });
  process.once('exit', release);
  return release;
}
