/**
 * Change events derived from state (DESIGN §3.2): when a host's full snapshot of a state kind closes, the
 * items that were not in the previous snapshot become `<kind>-added` events and the items the store
 * dropped become `<kind>-removed` events (kind `change`), evaluated by the rules like any event.
 *
 * The previous snapshot is read from the store when the first item of a new snapshot arrives (before
 * anything of it is committed); the new snapshot's keys are gathered in memory until it closes. The very
 * first snapshot of a host and kind is a baseline: it derives nothing. If the collector restarts in the
 * middle of a snapshot, additions in the part before the restart are not derived (removals still are,
 * because the store reports them). Derived events whose own commit failed are kept by the pipeline and
 * committed before the agent's next batch (ingest.ts); a restart before then loses them.
 */
import { createHash } from 'node:crypto';
import type { FindingKind, FindingRecord } from '../../common/finding.js';
import type { StateRemoval, Store } from '../store/types.js';

interface Open {
  /** Items of the previous snapshot, by state key; undefined = no previous state (baseline). */
  prev: Map<string, FindingRecord> | undefined;
  /** State keys of the new snapshot seen so far. */
  seen: Map<string, FindingRecord>;
  touched: number;
}

/** Kinds whose changes are worth an event (host facts change all the time: uptime). */
const TRACKED: ReadonlySet<FindingKind> = new Set<FindingKind>(['package', 'listener', 'firewall']);
/**
 * Kinds whose previous snapshot is read for another purpose: an `sca` item gets the result the same check
 * had in the host's previous snapshot as the collector stored it (`sca.check.previous_result`), so the
 * change-only SCA rule does not fire again for a check that kept failing when the agent lost its own
 * memory of the previous run (state directory wiped, agent reinstalled). No change events for them.
 */
const PREVIOUS_OF: ReadonlySet<FindingKind> = new Set<FindingKind>(['sca']);
const MAX_OPEN = 10_000;
const STALE_MS = 6 * 3600_000;

function changeId(snapshotId: string, stateKey: string, what: 'added' | 'removed'): string {
  return `chg-${createHash('sha256').update(`${snapshotId}\0${stateKey}\0${what}`).digest('hex').slice(0, 40)}`;
}

export interface ChangeTracker {
  /** Call with the batch's new records before committing it. */
  observe(records: FindingRecord[]): Promise<void>;
  /** Call after the commit that closed `closed`; returns the derived change events to commit. */
  derive(agentId: string, closed: { kind: FindingKind; snapshotId: string }[], removed: StateRemoval[], at: string): FindingRecord[];
}

export function changeTracker(store: Store): ChangeTracker {
  const open = new Map<string, Open>();
  const keyOf = (agentId: string, kind: string, snapshotId: string): string => `${agentId}\0${kind}\0${snapshotId}`;

  function purge(now: number): void {
    if (open.size < MAX_OPEN) return;
    for (const [k, o] of open) if (now - o.touched > STALE_MS) open.delete(k);
  }

  return {
    async observe(records) {
      const now = Date.now();
      purge(now);
      for (const r of records) {
        if (r.family !== 'state' || !r.snapshotId || !(TRACKED.has(r.kind) || PREVIOUS_OF.has(r.kind))) continue;
        const k = keyOf(r.agentId, r.kind, r.snapshotId);
        let o = open.get(k);
        if (!o) {
          const page = await store.listFindings({ kind: r.kind, agentId: r.agentId, current: true, limit: 1_000_000 });
          const prev = new Map(page.items.filter((p) => p.snapshotId !== r.snapshotId).map((p) => [p.stateKey, p]));
          o = { prev: prev.size ? prev : undefined, seen: new Map(), touched: now };
          open.set(k, o);
        }
        o.seen.set(r.stateKey, r);
        o.touched = now;
        if (r.kind === 'sca' && o.prev) {
          // The collector's record wins over the agent's: it is what alerts were raised on. A check new to
          // the host has no previous result (any result the agent claims for it is dropped).
          const before = o.prev.get(r.stateKey)?.fields['sca.check.result'];
          if (typeof before === 'string') r.fields['sca.check.previous_result'] = before;
          else delete r.fields['sca.check.previous_result'];
        }
      }
    },
    derive(agentId, closed, removed, at) {
      const out: FindingRecord[] = [];
      for (const c of closed) {
        const k = keyOf(agentId, c.kind, c.snapshotId);
        const o = open.get(k);
        open.delete(k);
        if (!o?.prev || !TRACKED.has(c.kind)) continue;
        const make = (item: FindingRecord, what: 'added' | 'removed'): FindingRecord => ({
          id: changeId(c.snapshotId, item.stateKey, what), agentId, hostName: item.hostName, seq: 0, observedAt: what === 'added' ? item.observedAt : at,
          receivedAt: at, check: 'collector', kind: 'change', family: 'event', stateKey: '', snapshotId: '',
          fields: { ...item.fields, 'event.action': `${c.kind}-${what}`, 'event.type': what === 'added' ? 'creation' : 'deletion', 'change.kind': c.kind, 'change.state_key': item.stateKey },
        });
        for (const [key, item] of o.seen) if (!o.prev.has(key)) out.push(make(item, 'added'));
        for (const r of removed) {
          if (r.agentId !== agentId || r.kind !== c.kind) continue;
          const item = o.prev.get(r.stateKey);
          if (item) out.push(make(item, 'removed'));
        }
      }
      return out;
    },
  };
}
