/**
 * Collector-managed retention for the embedded store (the search-engine store runs its own schedule,
 * deleting whole monthly indices). Defaults satisfy the Vietnamese rules: alerts (logs of incidents)
 * kept ≥ 12 months (Decree 53/2022), findings ≥ 3 months (TCVN level 3 log retention).
 */
import type { Logger } from '../common/logger.js';
import type { Store } from './store/types.js';

export interface RetentionOptions { alertsDays: number; findingsDays: number; intervalHours: number }

const DAY = 86_400_000;

export async function pruneOnce(store: Store, o: RetentionOptions, now = Date.now()): Promise<{ findings: number; alerts: number }> {
  return store.prune({
    findingsBefore: new Date(now - o.findingsDays * DAY).toISOString(),
    alertsBefore: new Date(now - o.alertsDays * DAY).toISOString(),
  });
}

/** Prunes at start and every `intervalHours`; returns a stop function. 0 hours = off. */
export function scheduleRetention(store: Store, o: RetentionOptions, log: Logger): () => void {
  if (o.intervalHours <= 0) return () => undefined;
  const run = (): void => {
    pruneOnce(store, o).then(
      (r) => { if (r.findings || r.alerts) log.info('retention applied', { 'retention.findings_deleted': r.findings, 'retention.alerts_deleted': r.alerts }); },
      (e) => log.warn('retention failed; will retry at the next interval', { error: (e as Error).message }),
    );
  };
  const first = setTimeout(run, 10_000);
  const timer = setInterval(run, o.intervalHours * 3600_000);
  first.unref();
  timer.unref();
  return () => { clearTimeout(first); clearInterval(timer); };
}
