/**
 * The scheduled state pass (DESIGN §3.5 "state rules run on a schedule over current host state").
 * Rules whose outcome changes with time alone — those with an `age_gt`/`age_lt` modifier
 * (CompiledRule.usesClock) — are evaluated every few minutes over the current state items of
 * their finding kinds, with the pass's clock. Before evaluation an item may be enriched with
 * derived fields (the OS lifecycle of a `host` item); the enrichment is not stored.
 *
 * Alerts from the pass and from collector-derived findings go through `gateUpserts`: a dedup key
 * that already has an alert still open (open, acknowledged, in progress, risk accepted) or whose
 * latest alert was marked a false positive raises nothing. So a condition that stays true is one
 * alert, not one more count every pass, and an analyst's verdict is not undone five minutes later.
 */
import { KIND_FAMILY, type FindingKind, type FindingRecord } from '../common/finding.js';
import type { Logger } from '../common/logger.js';
import type { EvaluateOptions } from './engine/evaluate.js';
import type { Alert, AlertUpsert, Store } from './store/types.js';

export interface StatePassDeps {
  store: Store;
  evaluate(r: FindingRecord, opts: EvaluateOptions): AlertUpsert[];
  /** Finding kinds that have rules with a clock (state kinds only are scanned). */
  clockKinds(): readonly FindingKind[];
  /** Derived fields for an item before evaluation (not stored). */
  enrich?(r: FindingRecord): FindingRecord;
  clock?: () => Date;
  log: Logger;
}

export interface StatePassReport {
  agents: number;
  items: number;
  alertsRaised: number;
  ms: number;
}

export interface StatePass {
  /** One agent's current state, now. */
  runAgent(agentId: string): Promise<StatePassReport>;
  /** Every agent. Passes never overlap: a call while one runs waits for it and runs again. */
  runAll(): Promise<StatePassReport>;
  /** Runs runAll every `intervalMs` (timer unref'd); stop() ends it. */
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

const PAGE = 5000;
const OPEN_OR_ACCEPTED = new Set<Alert['status']>(['open', 'acknowledged', 'in_progress', 'risk_accepted']);

/** Every current state item of one kind for one agent, page by page. */
export async function currentItems(store: Store, agentId: string, kind: FindingKind): Promise<FindingRecord[]> {
  const out: FindingRecord[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.listFindings({ kind, agentId, current: true, limit: PAGE, offset });
    out.push(...page.items);
    if (page.items.length < PAGE || out.length >= page.total) return out;
  }
}

/** The agent's alerts by dedup key, newest first per key. */
export async function alertsByKey(store: Store, agentId: string): Promise<Map<string, Alert[]>> {
  const byKey = new Map<string, Alert[]>();
  for (let offset = 0; ; offset += 10_000) {
    const page = await store.listAlerts({ agentId, limit: 10_000, offset, sort: { field: 'firstSeen', dir: 'desc' } });
    for (const a of page.items) {
      const list = byKey.get(a.dedupKey);
      if (list) list.push(a);
      else byKey.set(a.dedupKey, [a]);
    }
    if (page.items.length < 10_000 || offset + page.items.length >= page.total) return byKey;
  }
}

/**
 * The upserts that should raise or fold an alert: not those whose key has an alert still open or
 * accepted, nor those whose latest alert was a false positive. One upsert per key.
 */
export function gateUpserts(upserts: readonly AlertUpsert[], existing: ReadonlyMap<string, readonly Alert[]>): AlertUpsert[] {
  const out = new Map<string, AlertUpsert>();
  for (const u of upserts) {
    if (out.has(u.dedupKey)) continue;
    const alerts = existing.get(u.dedupKey) ?? [];
    if (alerts.some((a) => OPEN_OR_ACCEPTED.has(a.status))) continue;
    if (alerts[0]?.status === 'false_positive') continue;
    out.set(u.dedupKey, u);
  }
  return [...out.values()];
}

export function createStatePass(deps: StatePassDeps): StatePass {
  const clock = deps.clock ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<StatePassReport> | undefined;
  let again = false;

  const runAgent = async (agentId: string): Promise<StatePassReport> => {
    const t0 = performance.now();
    const agent = await deps.store.getAgent(agentId);
    const report: StatePassReport = { agents: 0, items: 0, alertsRaised: 0, ms: 0 };
    if (agent === undefined) return report;
    report.agents = 1;
    const now = clock();
    const upserts: AlertUpsert[] = [];
    for (const kind of deps.clockKinds()) {
      if (KIND_FAMILY[kind] !== 'state') continue;
      for (const item of await currentItems(deps.store, agentId, kind)) {
        report.items++;
        const r = deps.enrich ? deps.enrich(item) : item;
        try {
          upserts.push(...deps.evaluate(r, { now, clockOnly: true }));
        } catch (e) {
          deps.log.error('rule evaluation failed', { 'finding.id': r.id, error: (e as Error).message });
        }
      }
    }
    if (upserts.length > 0) {
      const alerts = gateUpserts(upserts, await alertsByKey(deps.store, agentId));
      if (alerts.length > 0) {
        const r = await deps.store.commit({ agentId, findings: [], closedSnapshots: [], alerts, upToSeq: 0, lastSeen: agent.lastSeen });
        report.alertsRaised = r.alertsCreated + r.alertsFolded;
      }
    }
    report.ms = performance.now() - t0;
    return report;
  };

  const passAll = async (): Promise<StatePassReport> => {
    const t0 = performance.now();
    const total: StatePassReport = { agents: 0, items: 0, alertsRaised: 0, ms: 0 };
    for (const a of await deps.store.listAgents()) {
      if (a.status !== 'active') continue;
      try {
        const r = await runAgent(a.id);
        total.agents += r.agents;
        total.items += r.items;
        total.alertsRaised += r.alertsRaised;
      } catch (e) {
        deps.log.error('state pass failed for an agent', { 'agent.id': a.id, error: (e as Error).message });
      }
    }
    total.ms = performance.now() - t0;
    if (total.alertsRaised > 0) deps.log.info('state pass raised alerts', { agents: total.agents, items: total.items, alerts: total.alertsRaised, ms: Math.round(total.ms) });
    return total;
  };

  const runAll = async (): Promise<StatePassReport> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        let r: StatePassReport;
        do {
          again = false;
          r = await passAll();
        } while (again);
        return r;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  return {
    runAgent,
    runAll,
    start(intervalMs) {
      if (timer) return;
      timer = setInterval(() => { void runAll().catch((e) => deps.log.error('state pass failed', { error: (e as Error).message })); }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
