/**
 * The pipeline against the real SQLite store (and its commit thread) where the main thread's bookkeeping
 * could part from what was committed: an agent's two streams at once, and a commit that fails between the
 * batch that closed a snapshot and the change events derived from it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../common/logger.js';
import type { FindingRecord } from '../../common/finding.js';
import { toWire, type WireFinding } from '../../proto/convert.js';
import { T, decode } from '../../proto/index.js';
import { StoreCodes, StoreError } from '../store/errors.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { AlertUpsert, Store } from '../store/types.js';
import { buildPipeline } from './ingest.js';

let root: string;
beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'canhgac-ingest-')); });
afterAll(() => rmSync(root, { recursive: true, force: true }));

let seq = 0;
const wire = (f: Parameters<typeof toWire>[0]): WireFinding => decode<WireFinding>(T.Finding, T.Finding.encode(T.Finding.fromObject(toWire(f) as never)).finish());
const fim = (path: string): WireFinding => wire({
  id: randomUUID(), seq: ++seq, observedAt: new Date().toISOString(), check: 'fim', kind: 'fim', stateKey: '', snapshotId: '', snapshotTotal: 0,
  fields: { 'file.path': path, 'event.action': 'modified' },
});
function listeners(ports: number[]): WireFinding[] {
  const snapshotId = randomUUID();
  return ports.map((port, i) => wire({
    id: randomUUID(), seq: ++seq, observedAt: new Date().toISOString(), check: 'listeners', kind: 'listener',
    stateKey: `tcp:0.0.0.0:${port}`, snapshotId, snapshotTotal: i === ports.length - 1 ? ports.length : 0,
    fields: { 'server.port': port, 'server.ip': '0.0.0.0', 'network.transport': 'tcp' },
  }));
}
/** One alert per finding, folded by path or port: what a rule on these findings would give. */
const evaluate = (r: FindingRecord): AlertUpsert[] => [{
  dedupKey: `${r.agentId}:${String(r.fields['file.path'] ?? r.fields['event.action'])}`, rule: { id: 'r', title: 'R', version: '1' }, severity: 'high',
  agentId: r.agentId, hostName: r.hostName, findingIds: [r.id], seenAt: r.observedAt, count: 1, tags: { mitre: [], compliance: {} }, summary: 's',
}];

async function storeWithAgent(id: string): Promise<SqliteStore> {
  const s = new SqliteStore({ dataDir: join(root, id) });
  await s.init();
  const now = new Date().toISOString();
  await s.upsertAgent({ id, hostName: `h-${id}`, certFingerprint: 'ff', os: 'linux', version: 't', group: 'g', enrolledAt: now, lastSeen: now, lastSeq: 0, status: 'active' });
  return s;
}

describe('ingest pipeline: main-thread bookkeeping against what was committed', () => {
  it("an agent's batch arriving on two streams at once is stored and alerted once; the second sees the first", async () => {
    const store = await storeWithAgent('a-two-streams');
    try {
      const p = buildPipeline({ store, evaluate, log: logger('test') });
      const agent = { id: 'a-two-streams', hostName: 'h' };
      const batch = { lastSeq: seq + 3, findings: [fim('/etc/a'), fim('/etc/b'), fim('/etc/c')] };
      const [one, two] = await Promise.all([p.ingest(agent, batch), p.ingest(agent, structuredClone(batch))]);
      expect([one.stored, one.duplicates, one.alerts]).toEqual([3, 0, 3]);
      expect([two.stored, two.duplicates, two.alerts]).toEqual([0, 3, 0]);
      expect((await store.listAlerts({})).items.map((a) => a.count)).toEqual([1, 1, 1]);
      // Ingests of one agent run in the order they were called, a failed one included.
      const order: string[] = [];
      const ghost = { id: 'not-registered', hostName: 'x' };
      await Promise.allSettled([
        p.ingest(agent, { lastSeq: seq + 1, findings: [fim('/etc/d')] }).then(() => order.push('d')),
        p.ingest(ghost, { lastSeq: 1, findings: [fim('/etc/x')] }).catch(() => order.push('ghost failed')),
        p.ingest(agent, { lastSeq: seq + 2, findings: [fim('/etc/e')] }).then(() => order.push('e')),
      ]);
      expect(order.indexOf('d')).toBeLessThan(order.indexOf('e'));
      expect(order).toContain('ghost failed');
    } finally {
      await store.close();
    }
  });

  it('change events derived from a closed snapshot are not lost when their own commit fails; they are stored before the next batch', async () => {
    const store = await storeWithAgent('a-derived');
    // Real fault: right after the commit that closes the second snapshot, another connection takes the
    // write lock, so the derived change events' commit fails (SQLITE_BUSY after the 5 s busy timeout).
    let lockNext = false;
    let lock: Database.Database | undefined;
    const commit: Store['commit'] = async (c) => {
      const r = await store.commit(c);
      if (lockNext && c.closedSnapshots.length) {
        lockNext = false;
        lock = new Database(store.file);
        lock.exec('BEGIN IMMEDIATE');
      }
      return r;
    };
    const faulty = new Proxy(store, {
      get: (t, k) => (k === 'commit' ? commit : typeof Reflect.get(t, k) === 'function' ? (Reflect.get(t, k) as (...a: unknown[]) => unknown).bind(t) : Reflect.get(t, k)),
    }) as Store;
    try {
      const p = buildPipeline({ store: faulty, evaluate: () => [], log: logger('test') });
      const agent = { id: 'a-derived', hostName: 'h' };
      await p.ingest(agent, { lastSeq: seq, findings: listeners([22, 80]) });
      lockNext = true;
      const second = listeners([22, 443]);
      await expect(p.ingest(agent, { lastSeq: seq, findings: second })).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE });
      lock!.exec('ROLLBACK');
      lock!.close();
      expect((await store.listFindings({ kind: 'change', limit: 100 })).total).toBe(0);
      // The agent resends the batch (it was not acked): every finding is known, nothing closes again.
      await p.ingest(agent, { lastSeq: seq, findings: second });
      const events = (await store.listFindings({ kind: 'change', limit: 100 })).items;
      expect(events.map((e) => `${String(e.fields['event.action'])} ${String(e.fields['server.port'])}`).sort()).toEqual(['listener-added 443', 'listener-removed 80']);
      // And only once.
      await p.ingest(agent, { lastSeq: seq + 1, findings: [fim('/tmp/x')] });
      expect((await store.listFindings({ kind: 'change', limit: 100 })).total).toBe(2);
    } finally {
      if (lock?.inTransaction) lock.exec('ROLLBACK');
      lock?.close();
      await store.close();
    }
  }, 30_000);
});

describe('ingest pipeline: numbers an agent may send that SQLite cannot hold', () => {
  it('a finding or batch with a sequence number beyond 2^53 is refused or clamped, never a batch the store refuses forever', async () => {
    const store = await storeWithAgent('a-huge-seq');
    try {
      const p = buildPipeline({ store, evaluate: () => [], log: logger('test') });
      const agent = { id: 'a-huge-seq', hostName: 'h' };
      // What the decoders give for a uint64 of 2^64-1 (hand-made edge case: a broken or hostile agent).
      const huge = 18446744073709551615;
      const bad = { ...fim('/etc/huge'), seq: huge };
      const r = await p.ingest(agent, { lastSeq: 5, findings: [fim('/etc/fine'), bad] });
      expect(r).toMatchObject({ stored: 2, rejected: 1 });
      const health = (await store.listFindings({ kind: 'health', limit: 10 })).items;
      expect(health.map((h) => h.fields['event.action'])).toEqual(['finding-rejected']);
      const r2 = await p.ingest(agent, { lastSeq: huge, findings: [fim('/etc/after')] });
      expect(r2.stored).toBe(1);
      expect(Number.isSafeInteger(r2.upToSeq)).toBe(true);
      expect(Number.isSafeInteger((await store.getAgent(agent.id))!.lastSeq)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('ingest pipeline: a batch the store refuses as invalid', () => {
  it('is committed finding by finding; the one still refused becomes a finding-rejected record and the batch is acked', async () => {
    const real = await storeWithAgent('a-poison');
    // The real store, made to refuse one marked finding as a stand-in for a bug where validation lets
    // through what the store cannot hold (no such input is known; the point is that it cannot wedge an agent).
    const store: Store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'commit') {
          return async (c: Parameters<Store['commit']>[0]) => {
            if (c.findings.some((f) => f.fields['file.path'] === '/etc/poison')) {
              throw new StoreError(StoreCodes.INVALID_INPUT, 'field file.path holds a value the schema refuses (test)');
            }
            return target.commit(c);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    try {
      const p = buildPipeline({ store, evaluate, log: logger('test') });
      const agent = { id: 'a-poison', hostName: 'h' };
      const batch = [fim('/etc/ok-1'), fim('/etc/poison'), fim('/etc/ok-2')];
      const last = Math.max(...batch.map((f) => Number(f.seq)));
      const r = await p.ingest(agent, { lastSeq: last, findings: batch });
      expect(r).toMatchObject({ upToSeq: last, rejected: 1 });
      const fims = (await real.listFindings({ kind: 'fim', limit: 10 })).items.map((f) => f.fields['file.path']).sort();
      expect(fims).toEqual(['/etc/ok-1', '/etc/ok-2']);
      const health = (await real.listFindings({ kind: 'health', limit: 10 })).items;
      expect(health).toHaveLength(1);
      expect(health[0]!.fields).toMatchObject({ 'event.action': 'finding-rejected', 'canhgac.rejected.id': batch[1]!.id });
      expect(String(health[0]!.fields['error.message'])).toContain('the store refused it');
      expect((await real.getAgent(agent.id))!.lastSeq).toBe(last);
      // Alerts of the findings that were stored: one each (evaluate gives one per path).
      expect((await real.listAlerts({ limit: 10 })).items.length).toBeGreaterThanOrEqual(2);
      // The agent resends the batch (its ack was lost): nothing new, nothing refused again.
      const again = await p.ingest(agent, { lastSeq: last, findings: batch });
      expect(again.upToSeq).toBe(last);
    } finally {
      await real.close();
    }
  });

  it('other store failures (unavailable) are not treated as bad input: the batch is not acked', async () => {
    const real = await storeWithAgent('a-unavailable');
    const store: Store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'commit') return async () => { throw new StoreError(StoreCodes.UNAVAILABLE, 'database is locked (test)'); };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    try {
      const p = buildPipeline({ store, evaluate, log: logger('test') });
      await expect(p.ingest({ id: 'a-unavailable', hostName: 'h' }, { lastSeq: seq + 1, findings: [fim('/etc/x')] })).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE });
      expect((await real.getAgent('a-unavailable'))!.lastSeq).toBe(0);
    } finally {
      await real.close();
    }
  });
});
