/**
 * How the embedded store's commit thread fails (DESIGN §5: ack only what is durable; bad conditions never
 * crash or hang the collector). Every case here is provoked for real: a real worker thread, a real SQLite
 * file, a real second process's lock, a real out-of-memory worker, a real file-size limit.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KIND_FAMILY, type FindingRecord } from '../../../common/finding.js';
import { StoreCodes } from '../errors.js';
import type { AgentRecord, IngestCommit } from '../types.js';
import { startCommitThread } from './commit-thread.js';
import { DB_FILE, SqliteStore } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'canhgac-commit-thread-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`);

const agent = (id: string): AgentRecord => ({
  id, hostName: `host-${id}`, certFingerprint: 'ff', os: 'linux', version: '0.1.0', group: 'g',
  enrolledAt: '2025-01-01T00:00:00.000Z', lastSeen: '2025-01-01T00:00:00.000Z', lastSeq: 0, status: 'active',
});
const finding = (a: AgentRecord, id: string, fields: FindingRecord['fields'] = { 'package.name': id }): FindingRecord => ({
  id, agentId: a.id, hostName: a.hostName, seq: 1, observedAt: '2025-01-01T00:01:00.000Z', receivedAt: '2025-01-01T00:01:00.000Z',
  check: 't', kind: 'package', family: KIND_FAMILY.package, stateKey: id, snapshotId: '', fields,
});
const commitOf = (a: AgentRecord, ids: string[], upToSeq = 1): IngestCommit => ({
  agentId: a.id, findings: ids.map((id) => finding(a, id)), closedSnapshots: [], alerts: [], upToSeq, lastSeen: '2025-01-02T00:00:00.000Z',
});

describe('sqlite commit thread: failure modes', () => {
  const open: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const openStore = async (dataDir = freshDir()): Promise<SqliteStore> => {
    const s = new SqliteStore({ dataDir });
    await s.init();
    open.push(s);
    return s;
  };

  it('a database locked by another process: the commit fails with STORE_UNAVAILABLE after the busy timeout, the next one succeeds', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    await s.commit(commitOf(a, ['warm']));
    const other = new Database(s.file);
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    try {
      await expect(s.commit(commitOf(a, ['blocked'], 2))).rejects.toMatchObject({
        code: StoreCodes.UNAVAILABLE, message: expect.stringContaining('locked'), hint: expect.stringContaining('second collector'),
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await s.commit(commitOf(a, ['after'], 3));
    expect([...(await s.knownFindingIds(['warm', 'blocked', 'after']))].sort()).toEqual(['after', 'warm']);
    expect(await s.getAgent(a.id)).toMatchObject({ lastSeq: 3 });
  }, 15_000);

  it('a worker that cannot open the database: commits fail with STORE_UNAVAILABLE naming the file; once it is back, a new worker commits', async () => {
    const dir = freshDir();
    const s = await openStore(dir);
    const a = agent('a1');
    await s.upsertAgent(a);
    await s.commit(commitOf(a, ['before']));
    // Close the first worker (it holds the file open), then put a directory where the database file was.
    await s.close();
    open.splice(0);
    const s2 = await openStore(dir);
    const file = join(dir, DB_FILE);
    renameSync(file, `${file}.aside`);
    mkdirSync(file);
    try {
      await expect(s2.commit(commitOf(a, ['lost'], 2))).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE, message: expect.stringContaining(file) });
      // Still refused, not hanging, on the next try (a new worker each time).
      await expect(s2.commit(commitOf(a, ['lost2'], 3))).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE });
    } finally {
      rmdirSync(file);
      renameSync(`${file}.aside`, file);
    }
    await s2.commit(commitOf(a, ['after'], 4));
    expect([...(await s2.knownFindingIds(['before', 'lost', 'lost2', 'after']))].sort()).toEqual(['after', 'before']);
  }, 15_000);

  it('a worker that runs out of memory: its pending commits fail with STORE_UNAVAILABLE, nothing half-written, and a new worker serves', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    // A real V8 heap limit on the worker, and a commit far larger than it.
    const thread = startCommitThread(s.file, 'FULL', { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 });
    const big = 'x'.repeat(4096);
    const huge: IngestCommit = { ...commitOf(a, []), findings: Array.from({ length: 20_000 }, (_, i) => finding(a, `oom-${i}`, { 'package.name': `${big}${i}` })) };
    const small = thread.commit(commitOf(a, ['small-before'], 1));
    const doomed = thread.commit(huge);
    const queued = thread.commit(commitOf(a, ['queued'], 3));
    await expect(doomed).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE, message: expect.stringMatching(/commit thread failed .*memory/) });
    await expect(queued).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE });
    await small.catch(() => undefined);
    expect(thread.alive).toBe(false);
    await thread.close();
    expect((await s.knownFindingIds(['oom-0', 'oom-19999'])).size).toBe(0);
    // The store's own thread (no limit) is unaffected and serves.
    await s.commit(commitOf(a, ['after'], 4));
    expect((await s.knownFindingIds(['after'])).size).toBe(1);
  }, 30_000);

  it('a worker that runs out of memory inside a transaction: what it did is rolled back and its lock released', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    // 100,000 current package items, then a snapshot close on a worker with a small heap: the DELETE runs,
    // and collecting the 100,000 removed keys runs the worker out of memory with the transaction open.
    const N = 100_000;
    for (let i = 0; i < N; i += 10_000) {
      await s.commit({ ...commitOf(a, [], 1), findings: Array.from({ length: 10_000 }, (_, k) => ({ ...finding(a, `pkg-${i + k}-with-a-longer-state-key`), snapshotId: 'old' })) });
    }
    const thread = startCommitThread(s.file, 'FULL', { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 });
    // The worker runs under that limit (a small commit goes through): what runs it out of memory is the close.
    await thread.commit(commitOf(a, ['tiny'], 1));
    const closing: IngestCommit = { ...commitOf(a, ['new-snapshot-item'], 2), closedSnapshots: [{ kind: 'package', snapshotId: 'new' }] };
    closing.findings[0] = { ...closing.findings[0]!, snapshotId: 'new', observedAt: '2025-01-01T00:02:00.000Z' };
    await expect(thread.commit(closing)).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE, message: expect.stringMatching(/commit thread failed .*memory/) });
    await thread.close();
    // Nothing of it stayed, and the file is writable at once (no lock left behind by the dead connection).
    expect((await s.countFindings('kind', { agentId: a.id })).package).toBe(N + 1);
    expect((await s.knownFindingIds(['new-snapshot-item'])).size).toBe(0);
    const t = Date.now();
    await s.commit(commitOf(a, ['after'], 3));
    expect(Date.now() - t).toBeLessThan(4000);
    expect(await s.getAgent(a.id)).toMatchObject({ lastSeq: 3 });
  }, 60_000);

  it('a malformed commit (a caller bug: no findings list) fails alone; the commits sent with it, of other agents, are not taken down', async () => {
    const s = await openStore();
    const a = agent('a1');
    const b = agent('b1');
    await s.upsertAgent(a);
    await s.upsertAgent(b);
    await s.commit(commitOf(a, ['warm']));
    // Hand-made bad input: what a JavaScript caller, or a bug, could pass.
    const broken = { ...commitOf(b, []), findings: undefined } as unknown as IngestCommit;
    const results = await Promise.allSettled([s.commit(commitOf(a, ['x1'], 2)), s.commit(broken), s.commit(commitOf(a, ['x2'], 3))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: StoreCodes.INVALID_INPUT });
    expect([...(await s.knownFindingIds(['x1', 'x2']))].sort()).toEqual(['x1', 'x2']);
  });

  it('a file-size limit hit mid-commit (as on a full disk): the commit fails with STORE_UNAVAILABLE, the worker stays, smaller commits go on', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    await s.commit(commitOf(a, ['first']));
    // A real RLIMIT_FSIZE on this test process (its worker threads included): writes past 4 MB fail with
    // EFBIG, as they fail with ENOSPC on a full disk (Node ignores SIGXFSZ). Soft limit only, restored after.
    const limit = (v: string): void => { execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${v}:`]); };
    const big = 'p'.repeat(4000);
    limit(String(4 * 1024 * 1024));
    let failure: unknown;
    try {
      // ≈ 8 MB of findings against the 4 MB limit.
      failure = await s.commit({ ...commitOf(a, [], 2), findings: Array.from({ length: 2000 }, (_, i) => finding(a, `big-${i}`, { 'package.name': `${big}${i}` })) })
        .then(() => undefined, (e: unknown) => e);
      // Still under the limit: a small commit goes through on the same worker.
      await s.commit(commitOf(a, ['after'], 3));
    } finally {
      limit('unlimited');
    }
    expect(failure).toMatchObject({ code: StoreCodes.UNAVAILABLE, message: expect.stringMatching(/disk full|cannot be read or written/), hint: expect.stringContaining('space') });
    expect((await s.knownFindingIds(Array.from({ length: 2000 }, (_, i) => `big-${i}`))).size).toBe(0);
    expect([...(await s.knownFindingIds(['first', 'after']))].sort()).toEqual(['after', 'first']);
    expect(await s.getAgent(a.id)).toMatchObject({ lastSeq: 3 });
  }, 60_000);
});

describe('sqlite commit thread: group commit and what the main thread keeps', () => {
  const open: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const openStore = async (): Promise<SqliteStore> => {
    const s = new SqliteStore({ dataDir: freshDir() });
    await s.init();
    open.push(s);
    return s;
  };
  const alertOn = (a: AgentRecord, findingIds: string[]) => ({
    dedupKey: `k-${a.id}`, rule: { id: 'r', title: 'R', version: '1' }, severity: 'high' as const, agentId: a.id, hostName: a.hostName,
    findingIds, seenAt: '2025-01-01T00:01:00.000Z', count: 1, tags: { mitre: [], compliance: {} }, summary: 's',
  });

  it('the same batch committed twice at once (an agent resending on a new stream while the first is written) folds its alert once', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    const batch: IngestCommit = { ...commitOf(a, ['r1', 'r2'], 2), alerts: [alertOn(a, ['r1', 'r2'])] };
    // Both passed the pipeline's "already stored?" check before either was written: both carry the alert.
    const [first, second] = await Promise.all([s.commit(batch), s.commit(structuredClone(batch))]);
    expect(first).toMatchObject({ alertsCreated: 1, alertsFolded: 0 });
    expect(second).toMatchObject({ alertsCreated: 0, alertsFolded: 0 });
    const alerts = await s.listAlerts({});
    expect(alerts.items.map((x) => [x.count, x.findingIds])).toEqual([[1, ['r1', 'r2']]]);
    // Sequentially too (the first acked, the ack lost, the batch resent).
    await s.commit(structuredClone(batch));
    expect((await s.listAlerts({})).items.map((x) => x.count)).toEqual([1]);
    // A new finding folds as before; an alert citing only findings of earlier batches (correlation) applies.
    await s.commit({ ...commitOf(a, ['r3'], 3), alerts: [alertOn(a, ['r3'])] });
    await s.commit({ ...commitOf(a, [], 3), alerts: [alertOn(a, ['r1'])] });
    expect((await s.listAlerts({})).items.map((x) => [x.count, x.findingIds])).toEqual([[3, ['r1', 'r2', 'r3']]]);
  });

  it('two batches of one agent in one group commit in the order they arrived', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    // Same state key, same observation time and seq: the one committed last does not replace the first
    // (ties keep the stored item), so the stored finding says which went first; the alert lists in order.
    const one: IngestCommit = { ...commitOf(a, [], 1), findings: [{ ...finding(a, 'o1'), stateKey: 'same' }], alerts: [alertOn(a, ['o1'])] };
    const two: IngestCommit = { ...commitOf(a, [], 2), findings: [{ ...finding(a, 'o2'), stateKey: 'same' }], alerts: [alertOn(a, ['o2'])] };
    await Promise.all([s.commit(one), s.commit(two)]);
    const current = await s.listFindings({ kind: 'package', agentId: a.id, current: true });
    expect(current.items.map((f) => f.id)).toEqual(['o1']);
    expect((await s.listAlerts({})).items.map((x) => x.findingIds)).toEqual([['o1', 'o2']]);
    expect(await s.getAgent(a.id)).toMatchObject({ lastSeq: 2 });
  });
});
