import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KIND_FAMILY, type FindingRecord } from '../../../common/finding.js';
import { storeContract } from '../contract.js';
import { StoreCodes } from '../errors.js';
import type { AgentRecord, AlertUpsert, Severity } from '../types.js';
import { prepareCommit } from './commit.js';
import { openDatabase } from './open.js';
import { SCHEMA_VERSION } from './schema.js';
import { DB_FILE, SqliteStore } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'canhgac-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const freshDir = (): string => join(root, `d${++n}`);

storeContract('sqlite', async () => {
  const s = new SqliteStore({ dataDir: freshDir() });
  await s.init();
  return s;
});

const agent = (id: string): AgentRecord => ({
  id, hostName: `host-${id}`, certFingerprint: 'ff', os: 'linux', version: '0.1.0', group: 'g',
  enrolledAt: '2025-01-01T00:00:00.000Z', lastSeen: '2025-01-01T00:00:00.000Z', lastSeq: 0, status: 'active',
});

const finding = (a: AgentRecord, id: string, over: Partial<FindingRecord> = {}): FindingRecord => ({
  id, agentId: a.id, hostName: a.hostName, seq: 1, observedAt: '2025-01-01T00:01:00.000Z', receivedAt: '2025-01-01T00:01:00.000Z',
  check: 't', kind: 'package', family: KIND_FAMILY.package, stateKey: id, snapshotId: '', fields: { 'package.name': id }, ...over,
});

const alert = (a: AgentRecord, over: Partial<AlertUpsert> = {}): AlertUpsert => ({
  dedupKey: 'k', rule: { id: 'r', title: 'R', version: '1' }, severity: 'high', agentId: a.id, hostName: a.hostName,
  findingIds: [], seenAt: '2025-01-01T00:01:00.000Z', count: 1, tags: { mitre: [], compliance: {} }, summary: 's', ...over,
});

describe('sqlite store', () => {
  const open: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const openStore = async (dataDir = freshDir(), synchronous?: 'FULL' | 'NORMAL'): Promise<SqliteStore> => {
    const s = new SqliteStore({ dataDir, ...(synchronous ? { synchronous } : {}) });
    await s.init();
    open.push(s);
    return s;
  };

  it('keeps its file at <dataDir>/canhgac.db with mode 0600, WAL files too', async () => {
    const dir = freshDir();
    const old = process.umask(0o022);
    try {
      const s = await openStore(dir);
      await s.upsertAgent(agent('a1'));
      expect(s.file).toBe(join(dir, DB_FILE));
      for (const f of [s.file, `${s.file}-wal`]) expect(statSync(f).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('runs with WAL, synchronous=FULL and foreign keys on, at the latest schema version', async () => {
    const s = await openStore();
    expect(s.describe()).toMatchObject({ journalMode: 'wal', synchronous: 'FULL', foreignKeys: true, schemaVersion: SCHEMA_VERSION });
  });

  it('refuses to UPDATE or DELETE audit rows, even from another connection', async () => {
    const s = await openStore();
    await s.appendAudit({ at: '2025-01-01T00:00:00Z', actor: 'admin', action: 'x', target: 't', from: '', to: 'y', reason: 'r' });
    const raw = new Database(s.file);
    try {
      expect(() => raw.prepare("UPDATE audit SET actor = 'mallory'").run()).toThrow(/append-only/);
      expect(() => raw.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
      expect(raw.prepare('SELECT actor FROM audit').pluck().all()).toEqual(['admin']);
    } finally {
      raw.close();
    }
  });

  it('a commit that fails midway leaves nothing behind', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    const bad = alert(a, { dedupKey: 'k2', severity: 'catastrophic' as Severity });
    await expect(s.commit({
      agentId: a.id, findings: [finding(a, 'p1'), finding(a, 'p2')], closedSnapshots: [], alerts: [alert(a), bad], upToSeq: 9,
      lastSeen: '2025-01-02T00:00:00Z',
    })).rejects.toMatchObject({ code: StoreCodes.INVALID_INPUT });
    expect((await s.knownFindingIds(['p1', 'p2'])).size).toBe(0);
    expect((await s.listFindings({ kind: 'package' })).total).toBe(0);
    expect((await s.listAlerts({})).total).toBe(0);
    expect(await s.getAgent(a.id)).toMatchObject({ lastSeq: 0, lastSeen: a.lastSeen });
  });

  it('a group commit rolls back only the commit that failed, in its savepoint', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    // The commit transaction driven directly, so the four are certainly one group.
    const db = openDatabase(s.file, 'FULL');
    try {
      const group = prepareCommit(db);
      const at = '2025-01-02T00:00:00Z';
      const outcomes = group([
        { agentId: a.id, findings: [finding(a, 'g1')], closedSnapshots: [], alerts: [], upToSeq: 1, lastSeen: at },
        { agentId: 'ghost', findings: [], closedSnapshots: [], alerts: [], upToSeq: 1, lastSeen: at },
        { agentId: a.id, findings: [finding(a, 'g2')], closedSnapshots: [], alerts: [alert(a, { severity: 'catastrophic' as Severity })], upToSeq: 2, lastSeen: at },
        { agentId: a.id, findings: [finding(a, 'g3')], closedSnapshots: [], alerts: [alert(a)], upToSeq: 3, lastSeen: at },
      ]);
      expect(outcomes.map((o) => (o.ok ? 'ok' : (o.error as { code?: string }).code ?? 'error'))).toEqual(['ok', StoreCodes.NOT_FOUND, 'SQLITE_CONSTRAINT_CHECK', 'ok']);
      expect(db.inTransaction).toBe(false);
    } finally {
      db.close();
    }
    expect([...(await s.knownFindingIds(['g1', 'g2', 'g3']))].sort()).toEqual(['g1', 'g3']);
    expect((await s.listAlerts({})).total).toBe(1);
    expect(await s.getAgent(a.id)).toMatchObject({ lastSeq: 3 });
  });

  it('commits sent together: each resolves or fails on its own, and what resolved is in the file', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    const at = '2025-01-02T00:00:00Z';
    const results = await Promise.allSettled([
      ...Array.from({ length: 8 }, (_, i) => s.commit({ agentId: a.id, findings: [finding(a, `c${i}`)], closedSnapshots: [], alerts: [], upToSeq: i + 1, lastSeen: at })),
      s.commit({ agentId: 'ghost', findings: [], closedSnapshots: [], alerts: [], upToSeq: 1, lastSeen: at }),
    ]);
    expect(results.map((r) => r.status)).toEqual([...Array(8).fill('fulfilled'), 'rejected']);
    expect((results[8] as PromiseRejectedResult).reason).toMatchObject({ code: StoreCodes.NOT_FOUND });
    // Another connection sees every resolved commit at once.
    const raw = new Database(s.file, { readonly: true });
    try {
      expect(raw.prepare("SELECT count(*) FROM findings WHERE id LIKE 'c%'").pluck().get()).toBe(8);
      expect(raw.prepare('SELECT last_seq FROM agents WHERE id = ?').pluck().get(a.id)).toBe(8);
    } finally {
      raw.close();
    }
  });

  it('refuses a commit that cannot cross to the commit thread, and keeps working', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    const at = '2025-01-02T00:00:00Z';
    // Hand-made bad input (a function where a field value goes): what a buggy caller could pass.
    const odd = finding(a, 'odd', { fields: { 'x.y': (() => 1) as unknown as string } });
    await expect(s.commit({ agentId: a.id, findings: [odd], closedSnapshots: [], alerts: [], upToSeq: 1, lastSeen: at }))
      .rejects.toMatchObject({ code: StoreCodes.INVALID_INPUT });
    await s.commit({ agentId: a.id, findings: [finding(a, 'fine')], closedSnapshots: [], alerts: [], upToSeq: 2, lastSeen: at });
    expect([...(await s.knownFindingIds(['odd', 'fine']))]).toEqual(['fine']);
  });

  it('close lets the commits already handed over finish', async () => {
    const dir = freshDir();
    const s = new SqliteStore({ dataDir: dir });
    await s.init();
    const a = agent('a1');
    await s.upsertAgent(a);
    const pending = s.commit({ agentId: a.id, findings: [finding(a, 'late')], closedSnapshots: [], alerts: [], upToSeq: 1, lastSeen: '2025-01-02T00:00:00Z' });
    await s.close();
    await expect(pending).resolves.toMatchObject({ alertsCreated: 0 });
    const again = await openStore(dir);
    expect((await again.knownFindingIds(['late'])).size).toBe(1);
  });

  it('compares times as instants whatever their offset, and stores them as UTC', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    // 09:00+07:00 is 02:00Z: earlier than 03:00Z although it sorts later as text
    const later = finding(a, 'f-later', { stateKey: 'x', observedAt: '2025-01-01T03:00:00Z', seq: 1 });
    const earlier = finding(a, 'f-earlier', { stateKey: 'x', observedAt: '2025-01-01T09:00:00+07:00', seq: 2 });
    await s.commit({ agentId: a.id, findings: [later, earlier], closedSnapshots: [], alerts: [], upToSeq: 2, lastSeen: '2025-01-01T03:00:00Z' });
    const page = await s.listFindings({ kind: 'package', agentId: a.id });
    expect(page.items.map((f) => f.id)).toEqual(['f-later']);
    const history = await s.listFindings({ kind: 'package', current: false, sort: { field: 'observedAt', dir: 'asc' } });
    expect(history.items.map((f) => f.observedAt)).toEqual(['2025-01-01T02:00:00.000Z', '2025-01-01T03:00:00.000Z']);
    await expect(s.commit({
      agentId: a.id, findings: [finding(a, 'f-bad', { observedAt: 'yesterday' })], closedSnapshots: [], alerts: [], upToSeq: 3, lastSeen: '2025-01-01T03:00:00Z',
    })).rejects.toMatchObject({ code: StoreCodes.INVALID_INPUT });
  });

  it('refuses a field name that is not a flat ECS name', async () => {
    const s = await openStore();
    await expect(s.listFindings({ kind: 'fim', where: { 'x") OR 1=1 --': 'a' } })).rejects.toMatchObject({ code: StoreCodes.INVALID_INPUT });
  });

  it('keeps data and schema across reopening', async () => {
    const dir = freshDir();
    const s1 = new SqliteStore({ dataDir: dir });
    await s1.init();
    await s1.upsertAgent(agent('a1'));
    await s1.close();
    const s2 = await openStore(dir);
    expect(await s2.getAgent('a1')).toEqual(agent('a1'));
    const raw = new Database(s2.file, { readonly: true });
    expect(raw.prepare('SELECT version FROM schema_version').pluck().all()).toEqual([SCHEMA_VERSION]);
    raw.close();
  });

  it('says which file is damaged when the database cannot be read', async () => {
    const dir = freshDir();
    const s = new SqliteStore({ dataDir: dir });
    await s.init();
    await s.close();
    writeFileSync(s.file, Buffer.alloc(8192, 0x41));
    rmSync(`${s.file}-wal`, { force: true });
    rmSync(`${s.file}-shm`, { force: true });
    const broken = new SqliteStore({ dataDir: dir });
    const err = await broken.init().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: StoreCodes.CORRUPT, where: s.file });
    expect((err as Error).message).toContain(s.file);
  });

  it('refuses a foreign SQLite database and one from a newer collector', async () => {
    const foreign = freshDir();
    const s = new SqliteStore({ dataDir: foreign });
    await s.init();
    await s.close();
    const raw = new Database(s.file);
    raw.exec('DROP TABLE schema_version');
    raw.close();
    await expect(new SqliteStore({ dataDir: foreign }).init()).rejects.toMatchObject({ code: StoreCodes.CORRUPT });

    const newer = freshDir();
    const s2 = new SqliteStore({ dataDir: newer });
    await s2.init();
    await s2.close();
    const raw2 = new Database(s2.file);
    raw2.prepare("INSERT INTO schema_version VALUES (?, 'from the future', '2030-01-01T00:00:00Z')").run(SCHEMA_VERSION + 1);
    raw2.close();
    await expect(new SqliteStore({ dataDir: newer }).init()).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE, hint: expect.stringContaining('newer Canh Gác') });
  });

  it('is unavailable, not crashing, when used before init or after close', async () => {
    const s = new SqliteStore({ dataDir: freshDir() });
    await expect(s.listAgents()).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE });
    await s.init();
    await s.close();
    await expect(s.getAgent('x')).rejects.toMatchObject({ code: StoreCodes.UNAVAILABLE });
  });

  it('prunes in chunks larger than one transaction', async () => {
    const s = await openStore();
    const a = agent('a1');
    await s.upsertAgent(a);
    const fs = Array.from({ length: 12_000 }, (_, i) => finding(a, `e${i}`, { kind: 'fim', family: 'event', stateKey: '', observedAt: '2001-01-01T00:00:00Z' }));
    await s.commit({ agentId: a.id, findings: fs, closedSnapshots: [], alerts: [], upToSeq: 1, lastSeen: '2025-01-01T00:00:00Z' });
    expect(await s.prune({ findingsBefore: '2002-01-01T00:00:00Z', alertsBefore: '2002-01-01T00:00:00Z' })).toEqual({ findings: 12_000, alerts: 0 });
    expect((await s.listFindings({ kind: 'fim' })).total).toBe(0);
  });
});
