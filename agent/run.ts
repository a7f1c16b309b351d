/**
 * The agent daemon: runs checks on their schedules, puts what they observe into the durable outbox,
 * and streams the outbox to the collector. `once` runs every check a single time and waits until the
 * collector has acknowledged everything.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import cron from 'node-cron';
import { KIND_FAMILY, type Finding } from '../common/finding.js';
import { logger } from '../common/logger.js';
import type { AgentConfig, CheckEntry } from './config.js';
import type { Check, CheckContext, CollectResult, Observation } from './checks/check.js';
import { loadIdentity } from './transport/identity.js';
import { openOutbox } from './transport/outbox.js';
import { startStream } from './transport/stream.js';

export interface RunOptions {
  config: AgentConfig;
  checks: readonly CheckEntry[];
  once: boolean;
  collector?: string;
  /** --once: how long to wait for the collector to acknowledge everything. */
  drainTimeoutMs?: number;
  /** Progress lines for a person (the demo); undefined = quiet. */
  progress?: (line: string) => void;
}

type Queued = Omit<Finding, 'seq'>;

export function toQueued(check: string, o: Observation, extra: Partial<Queued> = {}): Queued {
  return {
    id: randomUUID(),
    observedAt: o.observedAt ?? new Date().toISOString(),
    check,
    kind: o.kind,
    stateKey: KIND_FAMILY[o.kind] === 'state' ? (o.stateKey ?? '') : '',
    snapshotId: '',
    snapshotTotal: 0,
    fields: o.fields,
    ...extra,
  };
}

/** A collect result → findings: each snapshot gets an id, and its last item carries the count. */
export function resultToFindings(check: string, r: CollectResult): Queued[] {
  const out: Queued[] = [];
  for (const s of r.snapshots) {
    const snapshotId = randomUUID();
    s.items.forEach((o, i) => out.push(toQueued(check, o, { snapshotId, snapshotTotal: i === s.items.length - 1 ? s.items.length : 0 })));
  }
  for (const e of r.events) out.push(toQueued(check, e));
  return out;
}

export async function runAgent(o: RunOptions): Promise<void> {
  const log = logger('agent');
  const { config } = o;
  const dataDir = config.data_dir;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const identity = loadIdentity(dataDir);
  const outbox = openOutbox(join(dataDir, 'outbox.db'), { maxEntries: config.outbox.max_entries, maxBytes: config.outbox.max_bytes });
  const collector = o.collector ?? config.collector;
  const stream = startStream({
    identity, outbox, log: log.child({ component: 'agent.transport' }),
    ...(collector ? { collector } : {}),
    batchMaxFindings: config.transport.batch_max_findings, batchMaxBytes: config.transport.batch_max_bytes,
    window: config.transport.window, backoff: { initialMs: config.transport.backoff_initial_ms, maxMs: config.transport.backoff_max_ms },
    heartbeatMs: config.transport.heartbeat_s * 1000,
  });

  const enqueue = (items: Queued[]): void => {
    if (!items.length) return;
    outbox.enqueue(items);
    stream.wake();
  };

  const active: { entry: CheckEntry; check: Check; ctx: CheckContext }[] = [];
  for (const entry of o.checks) {
    const c = config.checks[entry.name];
    if (!c || c.enabled === 'off') continue;
    const { enabled: _e, schedule: _s, ...options } = c;
    const check = entry.create();
    // init() validates its own options (with errors that name checks.<name>.<option>).
    check.init(options);
    const stateDir = join(dataDir, 'state', entry.name);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const clog = log.child({ component: 'agent.check', check: entry.name });
    const ctx: CheckContext = {
      log: clog, stateDir,
      emit: async (events) => { enqueue(events.map((e) => toQueued(entry.name, e))); },
    };
    active.push({ entry, check, ctx });
  }

  const running = new Set<string>();
  async function runOnce(a: (typeof active)[number]): Promise<number> {
    if (running.has(a.entry.name)) return 0; // the previous run is still going: skip, don't pile up
    running.add(a.entry.name);
    const t0 = Date.now();
    try {
      o.progress?.(`running check ${a.entry.name}…`);
      const findings = resultToFindings(a.entry.name, await a.check.collect(a.ctx));
      enqueue(findings);
      a.ctx.log.info('check finished', { 'event.duration': (Date.now() - t0) * 1e6, findings: findings.length });
      o.progress?.(`check ${a.entry.name}: ${findings.length} findings in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return findings.length;
    } catch (e) {
      a.ctx.log.error('check failed', { error: (e as Error).message, code: (e as { code?: string }).code });
      enqueue([toQueued('agent', {
        kind: 'health',
        fields: { 'event.action': 'check-failed', 'event.category': 'host', 'agent.health.check': a.entry.name, 'error.message': (e as Error).message.slice(0, 2000) },
      })]);
      return 0;
    } finally {
      running.delete(a.entry.name);
    }
  }

  if (o.once) {
    try {
      await Promise.all(active.map((a) => runOnce(a)));
      const depth = outbox.depth().entries;
      o.progress?.(`sending ${depth} findings to the collector…`);
      await stream.drained(o.drainTimeoutMs ?? 120_000);
      o.progress?.('all findings acknowledged by the collector');
    } finally {
      await stream.stop();
      outbox.close();
    }
    return;
  }

  const tasks: { stop(): void }[] = [];
  for (const a of active) {
    void runOnce(a);
    const schedule = a.check.schedule?.() ?? config.checks[a.entry.name]?.schedule ?? a.entry.defaultSchedule;
    tasks.push(cron.schedule(schedule, () => { void runOnce(a); }, { name: a.entry.name }));
    if (a.check.start) await a.check.start(a.ctx);
  }
  log.info('agent running', { 'agent.id': identity.agentId, checks: active.map((a) => a.entry.name) });
  await new Promise<void>((resolve) => {
    const stop = (): void => { resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log.info('agent stopping');
  for (const t of tasks) t.stop();
  for (const a of active) await a.check.stop?.();
  await stream.stop();
  outbox.close();
}
