/**
 * What happens to FIM events between finding them and reporting them: deletions and creations of
 * one file become renames; ignore rules drop what the operator does not want; the package manager
 * and maintenance windows mark what is expected. (Storms are counted afterwards, in index.ts,
 * because they need the clock and the baseline.)
 */
import type { Logger } from '../../../common/logger.js';
import type { FileChange, PackageOracle } from '../../host/package-changes.js';
import type { FimConfig } from './config.js';
import type { FimEvent } from './event-fields.js';
import { changeTimeMs, ignoreFilter, maintenanceMatcher } from './policy.js';
import { pairRenames } from './rename.js';

export interface Triaged {
  /** To report (storm limiting still to come). */
  events: FimEvent[];
  /** Dropped by ignore rules: the baseline still takes them in. */
  ignored: FimEvent[];
}

export interface Triage {
  run(events: readonly FimEvent[], nowMs: number, log: Logger): Promise<Triaged>;
}

export function createTriage(c: FimConfig, packages: () => Promise<PackageOracle | undefined>): Triage {
  const ignored = ignoreFilter(c.ignore);
  const maintenance = maintenanceMatcher(c.maintenance);
  const windowMs = c.package_window_s * 1000;

  async function attribute(events: FimEvent[], nowMs: number, log: Logger): Promise<void> {
    if (c.package_attribution === 'off' || events.length === 0) return;
    const oracle = await packages();
    if (!oracle) return;
    const changes: FileChange[] = events.map((ev) => {
      const shown = (ev.after ?? ev.before)!;
      const change: FileChange = { path: ev.path, atMs: changeTimeMs(ev, nowMs), type: shown.type, deleted: ev.action === 'deleted' };
      if (ev.after?.sha256 !== undefined) change.sha256 = ev.after.sha256;
      return change;
    });
    let verdicts;
    try {
      verdicts = await oracle.explain(changes, windowMs);
    } catch (e) {
      // Not knowing is not an error in the changes: they are reported as unexplained.
      log.warn('fim could not ask the package manager about changes', { manager: oracle.manager, error: (e as Error).message, code: (e as { code?: string }).code });
      return;
    }
    for (const ev of events) {
      const v = verdicts.get(ev.path);
      if (!v) continue;
      if (v.expected) ev.expected = { reason: 'package', package: v.package, ...(v.version === undefined ? {} : { packageVersion: v.version }) };
      else ev.owner = { name: v.package, ...(v.version === undefined ? {} : { version: v.version }) };
    }
  }

  return {
    async run(found, nowMs, log) {
      const paired = pairRenames(found);
      const events: FimEvent[] = [];
      const dropped: FimEvent[] = [];
      for (const ev of paired) (ignored(ev) ? dropped : events).push(ev);
      await attribute(events, nowMs, log);
      for (const ev of events) {
        if (ev.expected) continue;
        const name = maintenance(ev, changeTimeMs(ev, nowMs));
        if (name !== undefined) ev.expected = { reason: 'maintenance', maintenance: name };
      }
      return { events, ignored: dropped };
    },
  };
}
