/**
 * Vulnerability matching on the collector. Holds the active feed (loaded once per feed), and
 * evaluates a host when its package or host snapshot closes, every host when a new feed becomes
 * active (no rescan needed), and keeps the host's `vulnerability` state and alerts in step:
 *
 *   1. read the host's current `host`, `package` and `vulnerability` items;
 *   2. match (collector/vuln/findings.ts) → one `vulnerability` snapshot;
 *   3. run the rules over the new findings (age rules see carried-over first_seen);
 *   4. commit findings, the closed snapshot and the alerts in one Store.commit;
 *   5. for each vulnerability that vanished, resolve its open alerts (actor `system:vuln`, with
 *      the reason: patched from → to, package removed, or no longer in the feed).
 *
 * Evaluations run one at a time, in the background; `idle()` waits for the queue to drain.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FindingRecord } from '../../common/finding.js';
import type { Logger } from '../../common/logger.js';
import type { EvaluateOptions } from '../engine/evaluate.js';
import { alertsByKey, currentItems, gateUpserts } from '../state-schedule.js';
import type { Alert, AlertUpsert, Store } from '../store/types.js';
import { evaluateHost, type EvaluationPolicy, type HostEvaluation } from './findings.js';
import { feedStatus, loadFeed, type LoadedFeed } from './feed-store.js';
import { buildLifecycle, lifecycleFields, loadLifecycleFile, type LifecycleEntry, type LifecycleTable } from './lifecycle.js';

export const VULN_ACTOR = 'system:vuln';
const OPEN = ['open', 'acknowledged', 'in_progress'] as const;

export interface VulnServiceOptions {
  dataDir: string;
  store: Store;
  evaluate(r: FindingRecord, opts: EvaluateOptions): AlertUpsert[];
  /** The shipped OS lifecycle table (rules/data/os-lifecycle.yaml); none: only the feed's eol.json. */
  lifecycleFile?: string;
  policy?: EvaluationPolicy;
  clock?: () => Date;
  log: Logger;
  /** Called after each host evaluation (the collector runs the host's state pass then). */
  onEvaluated?(agentId: string, report: HostReport): Promise<void> | void;
}

export interface HostReport {
  agentId: string;
  feedId: string | undefined;
  ecosystem: string | undefined;
  skippedReason: string | undefined;
  findings: number;
  matches: number;
  hidden: number;
  removed: number;
  alertsRaised: number;
  alertsResolved: number;
  matchMs: number;
  totalMs: number;
}

export interface VulnService {
  /** The active feed, once loaded. */
  feed(): LoadedFeed | undefined;
  /** Loads the active feed and, if hosts were last evaluated against another one, re-evaluates every host. */
  start(): Promise<void>;
  /** Loads the active feed if it changed since the last load; re-evaluates every host if so. */
  refreshFeed(): Promise<'unchanged' | 'loaded' | 'none'>;
  /** Queues an evaluation of one host. */
  schedule(agentId: string): void;
  /** Queues every active agent. */
  scheduleAll(): Promise<number>;
  /** Evaluates one host now (outside the queue; tests and the bench). */
  evaluateNow(agentId: string): Promise<HostReport>;
  /** Resolves when nothing is queued or running. */
  idle(): Promise<void>;
  /** `host` items get host.os.ecosystem / host.os.eol before the state rules run. */
  enrich(r: FindingRecord): FindingRecord;
  /** Polls `<data dir>/feed/current` every `ms` (timer unref'd). */
  watchFeed(ms: number): void;
  close(): Promise<void>;
}

interface EvaluatedMarker { feed_id: string; finished_at: string; hosts: number }

export function evaluationMarkerPath(dataDir: string): string {
  return join(dataDir, 'vulnerability-evaluation.json');
}

export async function readEvaluationMarker(dataDir: string): Promise<EvaluatedMarker | undefined> {
  try {
    const v = JSON.parse(await readFile(evaluationMarkerPath(dataDir), 'utf8')) as Partial<EvaluatedMarker>;
    return typeof v.feed_id === 'string' && typeof v.finished_at === 'string' ? { feed_id: v.feed_id, finished_at: v.finished_at, hosts: Number(v.hosts ?? 0) } : undefined;
  } catch {
    return undefined;
  }
}

/** Why a vulnerability left a host, for the audit trail. */
export function resolutionReason(prev: FindingRecord, now: ReadonlyMap<string, FindingRecord>, feedId: string | undefined): string {
  const id = String(prev.fields['vulnerability.id'] ?? prev.stateKey);
  const pkgKey = prev.stateKey.startsWith(`${id}:`) ? prev.stateKey.slice(id.length + 1) : undefined;
  const name = String(prev.fields['package.name'] ?? '');
  const was = String(prev.fields['package.version'] ?? '');
  const fixed = prev.fields['vulnerability.fixed_version'];
  const cur = pkgKey === undefined ? undefined : now.get(pkgKey);
  if (cur === undefined) return `resolved: package ${name} ${was} is no longer installed; ${id} no longer applies`;
  const version = String(cur.fields['package.version'] ?? '');
  if (version !== was) {
    return `resolved by patch: ${name} ${was} → ${version}${typeof fixed === 'string' ? ` (fixed in ${fixed})` : ''}; ${id} no longer matches${feedId ? ` (feed ${feedId})` : ''}`;
  }
  return `resolved: ${id} no longer lists ${name} ${was} as affected in feed ${feedId ?? '(none)'} (advisory changed or withdrawn)`;
}

/** What an evaluation depends on: the feed, the host's OS, every package's name, version and source, the policy. */
export function inputDigest(feedId: string, host: FindingRecord | undefined, packages: readonly FindingRecord[], policy: EvaluationPolicy | undefined): string {
  const h = createHash('sha256');
  h.update(`${feedId}\n${JSON.stringify(policy ?? {})}\n`);
  h.update(`${String(host?.fields['host.os.platform'] ?? '')}|${String(host?.fields['host.os.name'] ?? '')}|${String(host?.fields['host.os.version'] ?? '')}\n`);
  const lines = packages.map((p) => `${p.stateKey}\t${String(p.fields['package.name'])}\t${String(p.fields['package.version'])}\t${String(p.fields['package.source.name'] ?? '')}\t${String(p.fields['package.source.version'] ?? '')}`);
  lines.sort();
  for (const l of lines) h.update(`${l}\n`);
  return h.digest('hex');
}

export function createVulnService(o: VulnServiceOptions): VulnService {
  const clock = o.clock ?? (() => new Date());
  const log = o.log;
  let feed: LoadedFeed | undefined;
  let shipped: LifecycleEntry[] = [];
  let lifecycle: LifecycleTable = buildLifecycle([]);
  const queue = new Set<string>();
  let worker: Promise<void> | undefined;
  let closed = false;
  let feedTimer: NodeJS.Timeout | undefined;
  let lastAt = 0;
  /** Per agent, what the last committed evaluation saw: a package snapshot that changes nothing is not re-evaluated. */
  const lastInput = new Map<string, string>();
  let pendingAll: { feedId: string; hosts: number } | undefined;

  if (o.lifecycleFile !== undefined) {
    try {
      shipped = loadLifecycleFile(o.lifecycleFile);
    } catch (e) {
      log.error('OS lifecycle table unreadable; end-of-life checks use the feed only', { file: o.lifecycleFile, error: (e as Error).message });
    }
  }
  const rebuildLifecycle = (): void => {
    lifecycle = buildLifecycle([
      { entries: shipped, from: 'rules/data/os-lifecycle.yaml' },
      ...(feed?.eol ? [{ entries: feed.eol, from: `feed ${feed.status.id} eol.json` }] : []),
    ]);
  };
  rebuildLifecycle();

  /** Evaluation times strictly increase, so a new snapshot always supersedes the previous one. */
  const tick = (): Date => {
    const t = Math.max(clock().getTime(), lastAt + 1);
    lastAt = t;
    return new Date(t);
  };

  async function evaluateOne(agentId: string): Promise<HostReport> {
    const t0 = performance.now();
    const report: HostReport = {
      agentId, feedId: feed?.status.id, ecosystem: undefined, skippedReason: undefined, findings: 0, matches: 0, hidden: 0,
      removed: 0, alertsRaised: 0, alertsResolved: 0, matchMs: 0, totalMs: 0,
    };
    const agent = await o.store.getAgent(agentId);
    if (agent === undefined || feed === undefined) {
      report.skippedReason = agent === undefined ? 'unknown agent' : 'no vulnerability feed imported';
      return report;
    }
    const current = feed;
    const [hostItems, packages, previous] = await Promise.all([
      currentItems(o.store, agentId, 'host'),
      currentItems(o.store, agentId, 'package'),
      currentItems(o.store, agentId, 'vulnerability'),
    ]);
    const host = hostItems.find((h) => h.stateKey === 'host') ?? hostItems[0];
    const input = inputDigest(current.status.id, host, packages, o.policy);
    if (lastInput.get(agentId) === input) {
      report.skippedReason = 'packages, OS and feed unchanged since the last evaluation';
      report.totalMs = performance.now() - t0;
      return report;
    }
    const now = tick();
    const ev: HostEvaluation = evaluateHost({ agentId, hostName: agent.hostName, host, packages, previous }, current.index, current.status.id, now, o.policy);
    Object.assign(report, { ecosystem: ev.ecosystem, skippedReason: ev.skippedReason, findings: ev.findings.length, matches: ev.matches, hidden: ev.hidden, matchMs: ev.matchMs });
    // Without a host inventory nothing is known yet: keep what is there. Likewise when the host could
    // not be compared this time (a Windows build without UBR…): closing the snapshot would remove its
    // vulnerabilities and resolve their alerts as if patched. An OS without advisories (or a host that
    // changed OS) clears the previous vulnerabilities.
    if (host === undefined || ev.indeterminate === true) return report;
    if (ev.findings.length === 0 && previous.length === 0) {
      lastInput.set(agentId, input);
      report.totalMs = performance.now() - t0;
      return report;
    }

    // Alerts for the new findings; the dedup keys they stand for (raised or not) protect their alerts from resolution.
    const upserts: AlertUpsert[] = [];
    for (const r of ev.findings) {
      try {
        upserts.push(...o.evaluate(r, { now }));
      } catch (e) {
        log.error('rule evaluation failed', { 'finding.id': r.id, error: (e as Error).message });
      }
    }
    const liveKeys = new Set(upserts.map((u) => u.dedupKey));
    const existing = await alertsByKey(o.store, agentId);
    const alerts = gateUpserts(upserts, existing);
    const result = await o.store.commit({
      agentId, findings: ev.findings, closedSnapshots: [{ kind: 'vulnerability', snapshotId: ev.snapshotId }], alerts, upToSeq: 0, lastSeen: agent.lastSeen,
    });
    lastInput.set(agentId, input);
    report.alertsRaised = result.alertsCreated + result.alertsFolded;
    const removed = result.removed.filter((x) => x.kind === 'vulnerability');
    report.removed = removed.length;

    if (removed.length > 0) {
      const prevByKey = new Map(previous.map((r) => [r.stateKey, r]));
      const pkgByKey = new Map(packages.map((r) => [r.stateKey, r]));
      const reasons = new Map<string, string>();
      for (const x of removed) {
        const prev = prevByKey.get(x.stateKey);
        if (prev === undefined) continue;
        let keys: AlertUpsert[] = [];
        try {
          keys = o.evaluate(prev, { now, recheck: true });
        } catch {
          keys = [];
        }
        for (const u of keys) if (!liveKeys.has(u.dedupKey) && !reasons.has(u.dedupKey)) reasons.set(u.dedupKey, resolutionReason(prev, pkgByKey, current.status.id));
      }
      for (const [key, reason] of reasons) {
        for (const a of existing.get(key) ?? []) {
          if (!(OPEN as readonly string[]).includes(a.status)) continue;
          if (await resolve(a, reason)) report.alertsResolved++;
        }
      }
    }
    report.totalMs = performance.now() - t0;
    return report;
  }

  async function resolve(a: Alert, reason: string): Promise<boolean> {
    let cur: Alert | undefined = a;
    for (let attempt = 0; attempt < 3 && cur !== undefined; attempt++) {
      if (!(OPEN as readonly string[]).includes(cur.status)) return false;
      try {
        await o.store.changeAlertStatus(cur.id, { to: 'resolved', actor: VULN_ACTOR, reason, expectedVersion: cur.version, at: clock().toISOString() });
        return true;
      } catch (e) {
        if ((e as { code?: string }).code !== 'STORE_CONFLICT') throw e;
        cur = await o.store.getAlert(a.id);
      }
    }
    return false;
  }

  async function drain(): Promise<void> {
    while (queue.size > 0 && !closed) {
      const agentId = queue.values().next().value as string;
      queue.delete(agentId);
      try {
        const r = await evaluateOne(agentId);
        if (r.findings > 0 || r.removed > 0 || r.alertsResolved > 0) {
          log.info('host evaluated against the vulnerability feed', {
            'agent.id': agentId, 'vulnerability.feed.id': r.feedId, ecosystem: r.ecosystem, findings: r.findings, removed: r.removed,
            alerts_raised: r.alertsRaised, alerts_resolved: r.alertsResolved, match_ms: Math.round(r.matchMs), ms: Math.round(r.totalMs),
          });
        }
        await o.onEvaluated?.(agentId, r);
      } catch (e) {
        log.error('vulnerability evaluation failed', { 'agent.id': agentId, error: (e as Error).message });
      }
    }
    if (pendingAll !== undefined && queue.size === 0 && !closed) {
      const done = pendingAll;
      pendingAll = undefined;
      const marker: EvaluatedMarker = { feed_id: done.feedId, finished_at: clock().toISOString(), hosts: done.hosts };
      const path = evaluationMarkerPath(o.dataDir);
      await writeFile(`${path}.tmp`, `${JSON.stringify(marker, null, 2)}\n`).then(() => rename(`${path}.tmp`, path))
        .catch((e) => log.warn('could not record the feed evaluation', { error: (e as Error).message }));
    }
  }

  const kick = (): void => {
    if (worker !== undefined || closed) return;
    worker = drain().finally(() => {
      worker = undefined;
      if (queue.size > 0 && !closed) kick();
    });
  };

  const scheduleAll = async (): Promise<number> => {
    const agents = (await o.store.listAgents()).filter((a) => a.status === 'active');
    for (const a of agents) queue.add(a.id);
    if (feed !== undefined) pendingAll = { feedId: feed.status.id, hosts: agents.length };
    kick();
    return agents.length;
  };

  const load = async (): Promise<'loaded' | 'none'> => {
    const status = await feedStatus(o.dataDir);
    if (!status.active) {
      feed = undefined;
      rebuildLifecycle();
      return 'none';
    }
    const t0 = performance.now();
    feed = await loadFeed(o.dataDir);
    rebuildLifecycle();
    log.info('vulnerability feed loaded', {
      'vulnerability.feed.id': feed.status.id, records: feed.index.stats.records, entries: feed.index.stats.entries, ms: Math.round(performance.now() - t0),
    });
    return 'loaded';
  };

  const service: VulnService = {
    feed: () => feed,
    async start() {
      try {
        if ((await load()) === 'none') return;
      } catch (e) {
        log.error('the active vulnerability feed cannot be loaded; matching is off until a feed is imported', { error: (e as Error).message });
        return;
      }
      const marker = await readEvaluationMarker(o.dataDir);
      if (marker?.feed_id !== feed!.status.id) await scheduleAll();
    },
    async refreshFeed() {
      const status = await feedStatus(o.dataDir);
      if (!status.active) return feed === undefined ? 'unchanged' : (feed = undefined, rebuildLifecycle(), 'none');
      if (feed !== undefined && status.id === feed.status.id) return 'unchanged';
      await load();
      await scheduleAll();
      return 'loaded';
    },
    schedule(agentId) {
      if (closed) return;
      queue.add(agentId);
      kick();
    },
    scheduleAll,
    evaluateNow: (agentId) => evaluateOne(agentId),
    async idle() {
      while (worker !== undefined) await worker;
    },
    enrich(r) {
      if (r.kind !== 'host') return r;
      const extra = lifecycleFields(r.fields, lifecycle);
      return Object.keys(extra).length === 0 ? r : { ...r, fields: { ...r.fields, ...extra } };
    },
    watchFeed(ms) {
      if (feedTimer !== undefined) return;
      feedTimer = setInterval(() => {
        void service.refreshFeed().catch((e) => log.error('vulnerability feed refresh failed', { error: (e as Error).message }));
      }, ms);
      feedTimer.unref();
    },
    async close() {
      closed = true;
      if (feedTimer !== undefined) clearInterval(feedTimer);
      feedTimer = undefined;
      queue.clear();
      await worker?.catch(() => undefined);
    },
  };
  return service;
}
