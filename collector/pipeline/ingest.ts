/**
 * The ingest pipeline (DESIGN §1): validate → dedupe by finding id → enrich → evaluate rules → persist.
 * `ingest` resolves only after the store committed the batch; the caller acks `upToSeq` after that.
 * Per agent, batches are ingested one at a time, in the order `ingest` was called: the stream handler
 * serialises one stream's batches, and the pipeline serialises an agent's streams (an agent that
 * reconnects while its old stream's batch is still being written resends that batch on the new one; it
 * must see the first write, or both pass the duplicate check and the alerts are applied twice).
 */
import { randomUUID } from 'node:crypto';
import { KIND_FAMILY, type FindingRecord } from '../../common/finding.js';
import type { Logger } from '../../common/logger.js';
import type { WireFinding } from '../../proto/convert.js';
import { isCanhGacError } from '../../common/errors.js';
import { StoreCodes } from '../store/errors.js';
import type { AlertUpsert, CommitResult, Store } from '../store/types.js';
import { changeTracker } from './changes.js';
import { validateFinding } from './validate.js';

export interface AgentIdentity { id: string; hostName: string }

export interface IngestResult {
  upToSeq: number;
  stored: number;
  duplicates: number;
  rejected: number;
  alerts: number;
}

export interface Pipeline {
  ingest(agent: AgentIdentity, batch: { lastSeq: number; findings: WireFinding[] }): Promise<IngestResult>;
}

export interface PipelineDeps {
  store: Store;
  /** The rule engine: alerts for one finding (the engine is swapped on rule reload). */
  evaluate(r: FindingRecord): AlertUpsert[];
  log: Logger;
  /** Observer for metrics and the demo's progress. */
  onCommitted?(agent: AgentIdentity, r: IngestResult): void;
}

export function buildPipeline(deps: PipelineDeps): Pipeline {
  const { store, log } = deps;
  const changes = changeTracker(store);
  const evaluateAll = (records: FindingRecord[]): AlertUpsert[] => {
    const alerts: AlertUpsert[] = [];
    for (const r of records) {
      try {
        const found = deps.evaluate(r);
        for (const a of found) alerts.push(a);
      } catch (e) {
        log.error('rule evaluation failed', { 'finding.id': r.id, error: (e as Error).message });
      }
    }
    return alerts;
  };
  /** Each agent's last ingest: the next one of that agent starts after it settled. */
  const lanes = new Map<string, Promise<unknown>>();
  /**
   * Change events derived after a commit whose own commit then failed: the batch that closed the snapshot
   * is stored, so its resend derives nothing; they are committed before the agent's next batch instead.
   */
  const pendingDerived = new Map<string, FindingRecord[]>();

  const commitDerived = async (agent: AgentIdentity, derived: FindingRecord[], upToSeq: number, at: string) => {
    try {
      // Some may be stored already (a commit that failed after it was written, e.g. the commit thread died).
      const known = await store.knownFindingIds(derived.map((r) => r.id));
      const fresh = known.size ? derived.filter((r) => !known.has(r.id)) : derived;
      if (!fresh.length) return { alertsCreated: 0, alertsFolded: 0 };
      return await store.commit({ agentId: agent.id, findings: fresh, closedSnapshots: [], alerts: evaluateAll(fresh), upToSeq, lastSeen: at });
    } catch (e) {
      pendingDerived.set(agent.id, derived);
      log.warn('change events not stored yet', { 'agent.id': agent.id, count: derived.length, error: (e as Error).message });
      throw e;
    }
  };

  /**
   * A batch the store refused as invalid: each finding is committed on its own; one the store still refuses
   * is kept as a `finding-rejected` health record with the store's reason (never dropped without a trace),
   * and the sequence is acknowledged so the agent moves on.
   */
  const commitIsolating = async (
    agent: AgentIdentity, fresh: FindingRecord[], closers: Map<string, { kind: FindingRecord['kind']; snapshotId: string }>,
    maxSeq: number, at: string, cause: Error,
  ): Promise<{ result: CommitResult; refused: number }> => {
    log.error('store refused a batch; committing its findings one by one', { 'agent.id': agent.id, count: fresh.length, error: cause.message });
    const total: CommitResult = { alertsCreated: 0, alertsFolded: 0, removed: [] };
    const refusals: FindingRecord[] = [];
    for (const r of fresh) {
      const c = closers.get(r.id);
      try {
        const one = await store.commit({ agentId: agent.id, findings: [r], closedSnapshots: c ? [c] : [], alerts: evaluateAll([r]), upToSeq: 0, lastSeen: at });
        total.alertsCreated += one.alertsCreated;
        total.alertsFolded += one.alertsFolded;
        total.removed.push(...one.removed);
      } catch (e) {
        if (!(isCanhGacError(e) && e.code === StoreCodes.INVALID_INPUT)) throw e;
        log.error('store refused a finding', { 'agent.id': agent.id, 'finding.id': r.id, 'finding.seq': r.seq, error: (e as Error).message });
        refusals.push({
          id: `rejected-${agent.id}-${r.seq}-${randomUUID().slice(0, 8)}`, agentId: agent.id, hostName: agent.hostName,
          seq: r.seq, observedAt: at, receivedAt: at, check: 'collector', kind: 'health', family: 'event', stateKey: '', snapshotId: '',
          fields: {
            'event.action': 'finding-rejected', 'event.category': 'host', 'canhgac.rejected.id': r.id,
            'error.message': `the store refused it: ${(e as Error).message}`.slice(0, 2000),
          },
        });
      }
    }
    // The refusals and the batch's sequence, in one last commit: after it the agent is acknowledged.
    const last = await store.commit({ agentId: agent.id, findings: refusals, closedSnapshots: [], alerts: evaluateAll(refusals), upToSeq: maxSeq, lastSeen: at });
    total.alertsCreated += last.alertsCreated;
    total.alertsFolded += last.alertsFolded;
    total.removed.push(...last.removed);
    return { result: total, refused: refusals.length };
  };

  const ingestOne: Pipeline['ingest'] = async (agent, batch) => {
    const pending = pendingDerived.get(agent.id);
    if (pending) {
      pendingDerived.delete(agent.id);
      await commitDerived(agent, pending, 0, new Date().toISOString());
    }
    const receivedAt = new Date().toISOString();
    const records: FindingRecord[] = [];
    const closers = new Map<string, { kind: FindingRecord['kind']; snapshotId: string }>();
    let rejected = 0;
    // Sequence numbers are stored as SQLite integers: one beyond 2^53 (a uint64 from a broken or hostile
    // agent) would make the store refuse the whole batch every time it is resent.
    const safeSeq = (n: number): number => (Number.isSafeInteger(n) && n > 0 ? n : 0);
    let maxSeq = safeSeq(Number(batch.lastSeq));
    for (const w of batch.findings) {
      const v = validateFinding(w);
      if (!v.ok) {
        rejected++;
        maxSeq = Math.max(maxSeq, safeSeq(v.seq));
        log.warn('finding refused', { 'agent.id': agent.id, 'finding.id': v.id, 'finding.seq': v.seq, reason: v.reason });
        // The refusal itself is kept as a health finding, so nothing disappears without a trace.
        records.push({
          id: `rejected-${agent.id}-${safeSeq(v.seq)}-${randomUUID().slice(0, 8)}`, agentId: agent.id, hostName: agent.hostName,
          seq: safeSeq(v.seq), observedAt: receivedAt, receivedAt, check: 'collector', kind: 'health', family: 'event',
          stateKey: '', snapshotId: '',
          fields: { 'event.action': 'finding-rejected', 'event.category': 'host', 'error.message': v.reason, 'canhgac.rejected.id': v.id },
        });
        continue;
      }
      const f = v.finding;
      maxSeq = Math.max(maxSeq, f.seq);
      records.push({
        id: f.id, agentId: agent.id, hostName: agent.hostName, seq: f.seq, observedAt: f.observedAt, receivedAt,
        check: f.check, kind: f.kind, family: KIND_FAMILY[f.kind], stateKey: f.stateKey, snapshotId: f.snapshotId, fields: f.fields,
      });
      if (f.snapshotId && f.snapshotTotal > 0) closers.set(f.id, { kind: f.kind, snapshotId: f.snapshotId });
    }
    const known = await store.knownFindingIds(records.map((r) => r.id));
    const fresh = known.size ? records.filter((r) => !known.has(r.id)) : records;
    // Only a snapshot's closing item that is new closes it: a replay must not close an old snapshot again.
    const closed: { kind: FindingRecord['kind']; snapshotId: string }[] = [];
    if (closers.size) for (const r of fresh) { const c = closers.get(r.id); if (c) closed.push(c); }
    await changes.observe(fresh);
    const alerts = evaluateAll(fresh);
    let result: CommitResult;
    try {
      result = await store.commit({
        agentId: agent.id, findings: fresh, closedSnapshots: closed, alerts, upToSeq: maxSeq, lastSeen: receivedAt,
      });
    } catch (e) {
      // The store refusing what validation let through is a bug of ours, but acking nothing would make the
      // agent resend this batch forever, holding back everything after it. Find the findings it refuses.
      if (!(isCanhGacError(e) && e.code === StoreCodes.INVALID_INPUT) || fresh.length === 0) throw e;
      const isolated = await commitIsolating(agent, fresh, closers, maxSeq, receivedAt, e as Error);
      result = isolated.result;
      rejected += isolated.refused;
    }
    // Change events derived from the snapshots this batch closed (listener-added, package-removed, …).
    const derived = changes.derive(agent.id, closed, result.removed, receivedAt);
    if (derived.length) {
      const more = await commitDerived(agent, derived, maxSeq, receivedAt);
      result.alertsCreated += more.alertsCreated;
      result.alertsFolded += more.alertsFolded;
    }
    const out: IngestResult = {
      upToSeq: maxSeq, stored: fresh.length, duplicates: records.length - fresh.length, rejected,
      alerts: result.alertsCreated + result.alertsFolded,
    };
    deps.onCommitted?.(agent, out);
    return out;
  };

  return {
    ingest(agent, batch) {
      const previous = lanes.get(agent.id) ?? Promise.resolve();
      const run = previous.then(() => ingestOne(agent, batch), () => ingestOne(agent, batch));
      const settled = run.then(() => undefined, () => undefined);
      lanes.set(agent.id, settled);
      void settled.then(() => { if (lanes.get(agent.id) === settled) lanes.delete(agent.id); });
      return run;
    },
  };
}
