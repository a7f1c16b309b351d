/** Helpers of the fault and cluster tests: ingest like the collector does, and count what is indexed. */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { FindingRecord } from '../../common/finding.js';
import { isStoreError } from '../../collector/store/errors.js';
import type { AgentRecord, Store } from '../../collector/store/types.js';

export function agent(id = `agent-${randomUUID()}`): AgentRecord {
  const now = new Date().toISOString();
  return {
    id, hostName: `host-${id.slice(-8)}`, certFingerprint: 'ab'.repeat(32), os: 'linux', version: '0.1.0', group: 'default',
    enrolledAt: now, lastSeen: now, lastSeq: 0, status: 'active',
  };
}

/** One batch of FIM events (seq from..from+n-1), observed now. */
export function batch(a: AgentRecord, from: number, n: number): FindingRecord[] {
  const now = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => ({
    id: `${a.id}-${from + i}`, agentId: a.id, hostName: a.hostName, seq: from + i, observedAt: now, receivedAt: now,
    check: 'fim', kind: 'fim' as const, family: 'event' as const, stateKey: '', snapshotId: '',
    fields: { 'event.action': 'modified', 'file.path': `/etc/f${from + i}`, 'file.size': from + i, 'file.hash.sha256': 'ab'.repeat(32) },
  }));
}

export interface IngestStats { attempts: number; unavailable: number }

/**
 * What the pipeline does per agent batch: drop known ids, commit the rest; on STORE_UNAVAILABLE the
 * batch is not acked, so the agent sends it again — here: retry until it goes through.
 */
export async function ingest(store: Store, a: AgentRecord, findings: FindingRecord[], stats: IngestStats, giveUpMs = 120_000): Promise<void> {
  const deadline = Date.now() + giveUpMs;
  for (;;) {
    stats.attempts++;
    try {
      const known = await store.knownFindingIds(findings.map((f) => f.id));
      const fresh = findings.filter((f) => !known.has(f.id));
      await store.commit({
        agentId: a.id, findings: fresh, closedSnapshots: [], alerts: [],
        upToSeq: Math.max(0, ...findings.map((f) => f.seq)), lastSeen: new Date().toISOString(),
      });
      return;
    } catch (e) {
      if (!isStoreError(e, 'STORE_UNAVAILABLE') || Date.now() > deadline) throw e;
      stats.unavailable++;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Every `_id` in the findings of a prefix, with how many times each occurs (straight from the engine). */
export async function indexedIds(url: string, prefix: string): Promise<Map<string, number>> {
  await fetch(`${url}/${prefix}-findings/_refresh`, { method: 'POST' });
  const out = new Map<string, number>();
  let after: unknown[] | undefined;
  for (;;) {
    const res = await fetch(`${url}/${prefix}-findings/_search`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ size: 5000, _source: false, sort: [{ 'event.id': 'asc' }, { _index: 'asc' }], ...(after ? { search_after: after } : {}) }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { hits: { hits: { _id: string; sort: unknown[] }[] } };
    for (const h of body.hits.hits) out.set(h._id, (out.get(h._id) ?? 0) + 1);
    if (body.hits.hits.length < 5000) return out;
    after = body.hits.hits[body.hits.hits.length - 1]!.sort;
  }
}

/** Asserts that exactly these findings are indexed, each once. */
export async function expectIndexedOnce(url: string, prefix: string, findings: FindingRecord[]): Promise<void> {
  const ids = await indexedIds(url, prefix);
  const twice = [...ids].filter(([, n]) => n > 1).map(([id]) => id);
  expect(twice).toEqual([]);
  const missing = findings.filter((f) => !ids.has(f.id)).map((f) => f.id);
  expect(missing).toEqual([]);
  expect(ids.size).toBe(findings.length);
}
