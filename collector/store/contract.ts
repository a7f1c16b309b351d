/**
 * The store contract (DESIGN §3.4, docs/store.md): what every Store implementation must do, as vitest
 * tests. Each implementation calls `storeContract(name, open)` from its own test file.
 *
 * The suite uses only the Store interface and error codes. It makes fresh ids for every test and never
 * assumes more about the store than that `open()` returns a fresh, empty, initialised one (it is called
 * once per block below, and the store is closed afterwards). Near-real-time stores pass `refresh`, which
 * is called before every read.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIND_FAMILY, type FindingKind, type FindingRecord } from '../../common/finding.js';
import { StoreCodes, type StoreCode } from './errors.js';
import type { AgentRecord, Alert, AlertStatus, AlertUpsert, IngestCommit, Severity, Store, TokenRecord } from './types.js';

export interface ContractOptions {
  /** Makes everything written so far visible to searches (search engines are near-real-time). */
  refresh?: (s: Store) => Promise<void>;
}

/** Minutes after 2025-01-01T00:00Z, canonical ISO. */
const at = (minutes: number): string => new Date(Date.UTC(2025, 0, 1) + minutes * 60_000).toISOString();
/** Days after 2001-01-01T00:00Z: the "old" times of the retention tests. */
const oldDay = (days: number): string => new Date(Date.UTC(2001, 0, 1) + days * 86_400_000).toISOString();
const uid = (prefix: string): string => `${prefix}-${randomUUID()}`;

async function expectCode(p: Promise<unknown>, code: StoreCode): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
}

function agentRecord(over: Partial<AgentRecord> = {}): AgentRecord {
  const id = over.id ?? uid('agent');
  return {
    id, hostName: `host-${id.slice(-12)}`, certFingerprint: 'ab'.repeat(32), os: 'linux', version: '0.1.0', group: 'default',
    enrolledAt: at(0), lastSeen: at(0), lastSeq: 0, status: 'active', ...over,
  };
}

function finding(a: AgentRecord, kind: FindingKind, over: Partial<FindingRecord> = {}): FindingRecord {
  return {
    id: uid('finding'), agentId: a.id, hostName: a.hostName, seq: 1, observedAt: at(1), receivedAt: at(1), check: 'contract',
    kind, family: KIND_FAMILY[kind], stateKey: '', snapshotId: '', fields: {}, ...over,
  };
}

/** A package state finding keyed by name. */
function pkg(a: AgentRecord, name: string, over: Partial<FindingRecord> = {}): FindingRecord {
  return finding(a, 'package', { stateKey: name, fields: { 'package.name': name, 'package.version': '1.0' }, ...over });
}

function upsert(a: AgentRecord, dedupKey: string, over: Partial<AlertUpsert> = {}): AlertUpsert {
  return {
    dedupKey, rule: { id: 'rule-contract', title: 'Contract rule', version: '1' }, severity: 'medium', agentId: a.id,
    hostName: a.hostName, findingIds: [uid('finding')], seenAt: at(1), count: 1,
    tags: { mitre: ['T1190'], compliance: { nist_800_53: ['SI-2'] } }, summary: `alert ${dedupKey}`, ...over,
  };
}

function commitOf(a: AgentRecord, over: Partial<IngestCommit> = {}): IngestCommit {
  return { agentId: a.id, findings: [], closedSnapshots: [], alerts: [], upToSeq: 0, lastSeen: at(1), ...over };
}

function token(over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: uid('token'), hash: randomUUID().replace(/-/g, '').repeat(2), group: 'default', createdAt: at(0), expiresAt: at(60),
    usesLeft: 1, createdBy: 'admin', ...over,
  };
}

const keys = (items: { stateKey: string }[]): string[] => items.map((i) => i.stateKey).sort();

/**
 * Registers the contract for one implementation. `open` returns a fresh, empty, initialised store.
 */
export function storeContract(name: string, open: () => Promise<Store>, opts: ContractOptions = {}): void {
  /** One store per block, opened before and closed after it. */
  const useStore = (): { store: () => Store; refresh: () => Promise<void>; newAgent: (o?: Partial<AgentRecord>) => Promise<AgentRecord> } => {
    let s: Store | undefined;
    beforeAll(async () => { s = await open(); });
    afterAll(async () => { await s?.close(); });
    const store = (): Store => {
      if (!s) throw new Error('store not opened');
      return s;
    };
    return {
      store,
      refresh: async () => { await opts.refresh?.(store()); },
      newAgent: async (o = {}) => {
        const a = agentRecord(o);
        await store().upsertAgent(a);
        return a;
      },
    };
  };

  describe(`store contract: ${name}`, () => {
    const { store, refresh, newAgent } = useStore();

    /** Creates one alert through the ingest path and returns it. */
    const raise = async (a: Awaited<ReturnType<typeof newAgent>>, over: Partial<AlertUpsert> = {}): Promise<Alert> => {
      const key = over.dedupKey ?? uid('key');
      await store().commit(commitOf(a, { alerts: [upsert(a, key, over)] }));
      await refresh();
      const page = await store().listAlerts({ agentId: a.id, limit: 10_000 });
      const found = page.items.filter((x) => x.dedupKey === key && x.status === 'open');
      expect(found).toHaveLength(1);
      return found[0]!;
    };

    const setStatus = async (alert: Alert, to: AlertStatus, actor = 'analyst@example.vn'): Promise<Alert> =>
      store().changeAlertStatus(alert.id, { to, actor, reason: `to ${to}`, expectedVersion: alert.version, at: at(500) });

    describe('findings', () => {
      it('stores a finding once however often it is committed', async () => {
        const a = await newAgent();
        const fs = [finding(a, 'fim', { seq: 1 }), finding(a, 'fim', { seq: 2 })];
        await store().commit(commitOf(a, { findings: fs, upToSeq: 2 }));
        await store().commit(commitOf(a, { findings: fs, upToSeq: 2 }));
        await refresh();
        const page = await store().listFindings({ kind: 'fim', agentId: a.id });
        expect(page.total).toBe(2);
        expect(page.items.map((f) => f.id).sort()).toEqual(fs.map((f) => f.id).sort());
        const known = await store().knownFindingIds([fs[0]!.id, uid('never'), fs[1]!.id]);
        expect([...known].sort()).toEqual(fs.map((f) => f.id).sort());
      });

      it('knownFindingIds answers for long id lists and for none', async () => {
        const a = await newAgent();
        const fs = Array.from({ length: 50 }, (_, i) => finding(a, 'health', { seq: i + 1 }));
        await store().commit(commitOf(a, { findings: fs, upToSeq: 50 }));
        await refresh();
        const unknown = Array.from({ length: 2450 }, () => uid('never'));
        const ids = [...unknown.slice(0, 1200), ...fs.map((f) => f.id), ...unknown.slice(1200)];
        const known = await store().knownFindingIds(ids);
        expect(known.size).toBe(50);
        for (const f of fs) expect(known.has(f.id)).toBe(true);
        expect((await store().knownFindingIds([])).size).toBe(0);
      });

      it('gives back every field and envelope value it was given', async () => {
        const a = await newAgent();
        const ev = finding(a, 'fim', {
          seq: 7, check: 'fim', observedAt: at(3), receivedAt: at(4),
          fields: { 'file.path': '/etc/passwd', 'file.size': 1234, 'fim.expected': false, 'event.action': 'modified', 'file.tags': ['a', 'b'] },
        });
        const st = pkg(a, 'openssl:amd64', { seq: 8, observedAt: at(3), receivedAt: at(4), snapshotId: 'snap-1', fields: { 'package.name': 'openssl', 'update.security': true } });
        await store().commit(commitOf(a, { findings: [ev, st], upToSeq: 8 }));
        await refresh();
        expect((await store().listFindings({ kind: 'fim', agentId: a.id })).items).toEqual([ev]);
        expect((await store().listFindings({ kind: 'package', agentId: a.id })).items).toEqual([st]);
      });

      it('refuses a commit for an unknown agent and stores nothing', async () => {
        const a = agentRecord();
        const f = finding(a, 'fim');
        await expectCode(store().commit(commitOf(a, { findings: [f], alerts: [upsert(a, uid('key'))], upToSeq: 1 })), StoreCodes.NOT_FOUND);
        await refresh();
        expect((await store().knownFindingIds([f.id])).size).toBe(0);
        expect((await store().listAlerts({ agentId: a.id })).total).toBe(0);
        expect(await store().getAgent(a.id)).toBeUndefined();
      });
    });

    describe('current state', () => {
      it('a newer observation replaces the current state; an older one arriving late does not', async () => {
        const a = await newAgent();
        const v1 = pkg(a, 'nginx', { seq: 1, observedAt: at(10), fields: { 'package.name': 'nginx', 'package.version': '1.0' } });
        const v2 = pkg(a, 'nginx', { seq: 2, observedAt: at(20), fields: { 'package.name': 'nginx', 'package.version': '2.0' } });
        const late = pkg(a, 'nginx', { seq: 3, observedAt: at(15), fields: { 'package.name': 'nginx', 'package.version': '1.5' } });
        await store().commit(commitOf(a, { findings: [v1] }));
        await store().commit(commitOf(a, { findings: [v2] }));
        await store().commit(commitOf(a, { findings: [late] }));
        await refresh();
        const page = await store().listFindings({ kind: 'package', agentId: a.id });
        expect(page.total).toBe(1);
        expect(page.items[0]!.id).toBe(v2.id);
        expect(page.items[0]!.fields['package.version']).toBe('2.0');
      });

      it('on equal observation times the higher sequence number wins', async () => {
        const a = await newAgent();
        const hi = pkg(a, 'curl', { seq: 9, observedAt: at(10), fields: { 'package.name': 'curl', 'package.version': '9' } });
        const lo = pkg(a, 'curl', { seq: 4, observedAt: at(10), fields: { 'package.name': 'curl', 'package.version': '4' } });
        await store().commit(commitOf(a, { findings: [hi, lo] }));
        await refresh();
        expect((await store().listFindings({ kind: 'package', agentId: a.id })).items.map((f) => f.id)).toEqual([hi.id]);
      });

      it('keeps the current state per host', async () => {
        const a = await newAgent();
        const b = await newAgent();
        const fa = pkg(a, 'openssh-server', { observedAt: at(30), fields: { 'package.name': 'openssh-server', 'package.version': 'a' } });
        const fb = pkg(b, 'openssh-server', { observedAt: at(10), fields: { 'package.name': 'openssh-server', 'package.version': 'b' } });
        await store().commit(commitOf(a, { findings: [fa] }));
        await store().commit(commitOf(b, { findings: [fb] }));
        await refresh();
        expect((await store().listFindings({ kind: 'package', agentId: a.id })).items.map((f) => f.id)).toEqual([fa.id]);
        expect((await store().listFindings({ kind: 'package', agentId: b.id })).items.map((f) => f.id)).toEqual([fb.id]);
        expect((await store().listFindings({ kind: 'package', hostName: b.hostName })).items.map((f) => f.id)).toEqual([fb.id]);
      });

      it('current: false lists the history of a state kind', async () => {
        const a = await newAgent();
        const fs = [10, 20, 30].map((m, i) => pkg(a, 'bash', { seq: i + 1, observedAt: at(m) }));
        await store().commit(commitOf(a, { findings: fs }));
        await refresh();
        expect((await store().listFindings({ kind: 'package', agentId: a.id })).total).toBe(1);
        const history = await store().listFindings({ kind: 'package', agentId: a.id, current: false, sort: { field: 'observedAt', dir: 'asc' } });
        expect(history.total).toBe(3);
        expect(history.items.map((f) => f.id)).toEqual(fs.map((f) => f.id));
      });

      it('closing a snapshot removes the items missing from it, reports them, and touches nothing else', async () => {
        const a = await newAgent();
        const b = await newAgent();
        const s1 = ['a', 'b', 'c'].map((n, i) => pkg(a, n, { seq: i + 1, observedAt: at(10), snapshotId: 'S1' }));
        const other = pkg(b, 'c', { observedAt: at(10), snapshotId: 'S1' });
        const listener = finding(a, 'listener', { stateKey: 'tcp/0.0.0.0/22', observedAt: at(10), fields: { 'server.port': 22 } });
        await store().commit(commitOf(a, { findings: [...s1, listener], closedSnapshots: [{ kind: 'package', snapshotId: 'S1' }] }));
        await store().commit(commitOf(b, { findings: [other], closedSnapshots: [{ kind: 'package', snapshotId: 'S1' }] }));
        const s2 = ['a', 'b'].map((n, i) => pkg(a, n, { seq: 10 + i, observedAt: at(20), snapshotId: 'S2' }));
        const result = await store().commit(commitOf(a, { findings: s2, closedSnapshots: [{ kind: 'package', snapshotId: 'S2' }] }));
        expect(result.removed).toEqual([{ agentId: a.id, kind: 'package', stateKey: 'c' }]);
        await refresh();
        expect(keys((await store().listFindings({ kind: 'package', agentId: a.id })).items)).toEqual(['a', 'b']);
        expect(keys((await store().listFindings({ kind: 'listener', agentId: a.id })).items)).toEqual(['tcp/0.0.0.0/22']);
        expect(keys((await store().listFindings({ kind: 'package', agentId: b.id })).items)).toEqual(['c']);
      });

      it('a snapshot spread over several batches keeps the items of its earlier batches', async () => {
        const a = await newAgent();
        await store().commit(commitOf(a, {
          findings: ['x', 'y', 'z'].map((n) => pkg(a, n, { observedAt: at(10), snapshotId: 'S1' })),
          closedSnapshots: [{ kind: 'package', snapshotId: 'S1' }],
        }));
        await store().commit(commitOf(a, { findings: [pkg(a, 'x', { observedAt: at(20), snapshotId: 'S2' })] }));
        const last = await store().commit(commitOf(a, {
          findings: [pkg(a, 'y', { observedAt: at(20), snapshotId: 'S2' })], closedSnapshots: [{ kind: 'package', snapshotId: 'S2' }],
        }));
        expect(last.removed.map((r) => r.stateKey)).toEqual(['z']);
        await refresh();
        expect(keys((await store().listFindings({ kind: 'package', agentId: a.id })).items)).toEqual(['x', 'y']);
      });

      it('an item observed after a snapshot began survives its close (late or replayed close)', async () => {
        const a = await newAgent();
        await store().commit(commitOf(a, {
          findings: ['p', 'q'].map((n) => pkg(a, n, { observedAt: at(10), snapshotId: 'S1' })),
          closedSnapshots: [{ kind: 'package', snapshotId: 'S1' }],
        }));
        // a change seen between snapshots, then the next full snapshot
        await store().commit(commitOf(a, { findings: [pkg(a, 'r', { observedAt: at(15) })] }));
        await store().commit(commitOf(a, {
          findings: ['p', 'r', 's'].map((n) => pkg(a, n, { observedAt: at(20), snapshotId: 'S2' })),
          closedSnapshots: [{ kind: 'package', snapshotId: 'S2' }],
        }));
        // the close of S1 arrives again (a replayed batch): S2's items are newer than S1 and stay
        const replay = await store().commit(commitOf(a, { closedSnapshots: [{ kind: 'package', snapshotId: 'S1' }] }));
        expect(replay.removed).toEqual([]);
        await refresh();
        expect(keys((await store().listFindings({ kind: 'package', agentId: a.id })).items)).toEqual(['p', 'r', 's']);
      });
    });

    describe('alerts fold by dedup key', () => {
      it('repeats fold into one alert: count adds up, lastSeen moves, firstSeen stays', async () => {
        const a = await newAgent();
        const key = uid('key');
        const r1 = await store().commit(commitOf(a, { alerts: [upsert(a, key, { seenAt: at(10), findingIds: ['f1'] })] }));
        expect(r1).toMatchObject({ alertsCreated: 1, alertsFolded: 0 });
        await refresh();
        const first = (await store().listAlerts({ agentId: a.id })).items[0]!;
        expect(first).toMatchObject({ dedupKey: key, status: 'open', count: 1, firstSeen: at(10), lastSeen: at(10), findingIds: ['f1'] });
        const r2 = await store().commit(commitOf(a, { alerts: [upsert(a, key, { seenAt: at(30), count: 2, findingIds: ['f2'] })] }));
        const r3 = await store().commit(commitOf(a, { alerts: [upsert(a, key, { seenAt: at(20), findingIds: ['f3'] })] }));
        expect(r2).toMatchObject({ alertsCreated: 0, alertsFolded: 1 });
        expect(r3).toMatchObject({ alertsCreated: 0, alertsFolded: 1 });
        await refresh();
        const page = await store().listAlerts({ agentId: a.id });
        expect(page.total).toBe(1);
        const folded = page.items[0]!;
        expect(folded).toMatchObject({
          id: first.id, count: 4, firstSeen: at(10), lastSeen: at(30), findingIds: ['f1', 'f2', 'f3'],
          rule: first.rule, severity: 'medium', tags: first.tags, summary: first.summary,
        });
        expect(folded.version).toBeGreaterThan(first.version);
        expect(await store().getAlert(first.id)).toEqual(folded);
      });

      it('folds repeats within one commit, and keeps different keys apart', async () => {
        const a = await newAgent();
        const k1 = uid('key');
        const k2 = uid('key');
        const r = await store().commit(commitOf(a, { alerts: [upsert(a, k1), upsert(a, k2), upsert(a, k1, { seenAt: at(2) })] }));
        expect(r).toMatchObject({ alertsCreated: 2, alertsFolded: 1 });
        await refresh();
        const page = await store().listAlerts({ agentId: a.id });
        expect(page.total).toBe(2);
        expect(page.items.find((x) => x.dedupKey === k1)!.count).toBe(2);
        expect(page.items.find((x) => x.dedupKey === k2)!.count).toBe(1);
      });

      it('keeps at most 100 finding ids on an alert, the oldest', async () => {
        const a = await newAgent();
        const key = uid('key');
        const ids = Array.from({ length: 130 }, (_, i) => `f${String(i).padStart(3, '0')}`);
        await store().commit(commitOf(a, { alerts: [upsert(a, key, { findingIds: ids.slice(0, 60), count: 60 })] }));
        await store().commit(commitOf(a, { alerts: [upsert(a, key, { findingIds: ids.slice(60), count: 70 })] }));
        await refresh();
        const alert = (await store().listAlerts({ agentId: a.id })).items[0]!;
        expect(alert.count).toBe(130);
        expect(alert.findingIds).toEqual(ids.slice(0, 100));
      });

      it("a closed alert's key opens a new alert; the closed one stays as it was", async () => {
        const a = await newAgent();
        for (const closing of ['resolved', 'false_positive'] as const) {
          const key = uid('key');
          const first = await raise(a, { dedupKey: key, seenAt: at(10), count: 3 });
          const closed = await setStatus(first, closing);
          const r = await store().commit(commitOf(a, { alerts: [upsert(a, key, { seenAt: at(40) })] }));
          expect(r).toMatchObject({ alertsCreated: 1, alertsFolded: 0 });
          await refresh();
          const all = (await store().listAlerts({ agentId: a.id, limit: 10_000 })).items.filter((x) => x.dedupKey === key);
          expect(all).toHaveLength(2);
          const fresh = all.find((x) => x.id !== first.id)!;
          expect(fresh).toMatchObject({ status: 'open', count: 1, firstSeen: at(40), lastSeen: at(40) });
          expect(await store().getAlert(first.id)).toEqual(closed);
        }
      });

      it('an alert with accepted risk keeps folding repeats', async () => {
        const a = await newAgent();
        const key = uid('key');
        const accepted = await setStatus(await raise(a, { dedupKey: key }), 'risk_accepted');
        const r = await store().commit(commitOf(a, { alerts: [upsert(a, key, { seenAt: at(90) })] }));
        expect(r).toMatchObject({ alertsCreated: 0, alertsFolded: 1 });
        await refresh();
        expect(await store().getAlert(accepted.id)).toMatchObject({ status: 'risk_accepted', count: 2, lastSeen: at(90) });
      });
    });

    describe('alert status', () => {
      it('changes the status, bumps the version and writes who, when, from, to and why to the audit trail', async () => {
        const a = await newAgent();
        const alert = await raise(a);
        const changed = await store().changeAlertStatus(alert.id, {
          to: 'acknowledged', actor: 'lan@ubnd.example.vn', reason: 'đang kiểm tra', expectedVersion: alert.version, at: at(100),
        });
        expect(changed).toMatchObject({ id: alert.id, status: 'acknowledged', count: alert.count });
        expect(changed.version).toBeGreaterThan(alert.version);
        await refresh();
        expect(await store().getAlert(alert.id)).toEqual(changed);
        const audit = await store().listAudit({ target: `alert:${alert.id}` });
        expect(audit).toHaveLength(1);
        expect(audit[0]).toMatchObject({
          at: at(100), actor: 'lan@ubnd.example.vn', action: 'alert.status', target: `alert:${alert.id}`,
          from: 'open', to: 'acknowledged', reason: 'đang kiểm tra',
        });
        expect(audit[0]!.id).toEqual(expect.any(String));
      });

      it('refuses a stale expectedVersion with STORE_CONFLICT and changes nothing', async () => {
        const a = await newAgent();
        const alert = await raise(a);
        const now = await setStatus(alert, 'in_progress');
        await expectCode(
          store().changeAlertStatus(alert.id, { to: 'resolved', actor: 'x', reason: 'stale', expectedVersion: alert.version }),
          StoreCodes.CONFLICT,
        );
        await refresh();
        expect(await store().getAlert(alert.id)).toEqual(now);
        expect((await store().listAudit({ target: `alert:${alert.id}` })).map((e) => e.to)).toEqual(['in_progress']);
      });

      it('follows the lifecycle and refuses transitions outside it', async () => {
        const a = await newAgent();
        let alert = await raise(a);
        const refuse = async (to: AlertStatus): Promise<void> => {
          await expectCode(
            store().changeAlertStatus(alert.id, { to, actor: 'x', reason: 'no', expectedVersion: alert.version }),
            StoreCodes.INVALID_TRANSITION,
          );
        };
        await refuse('open');
        alert = await setStatus(alert, 'acknowledged');
        await refuse('acknowledged');
        await refuse('open');
        alert = await setStatus(alert, 'in_progress');
        await refuse('acknowledged');
        alert = await setStatus(alert, 'resolved');
        await refuse('in_progress');
        await refuse('risk_accepted');
        alert = await setStatus(alert, 'open');
        alert = await setStatus(alert, 'risk_accepted');
        await refuse('resolved');
        alert = await setStatus(alert, 'open');
        expect(alert.status).toBe('open');
        await refresh();
        const trail = await store().listAudit({ target: `alert:${alert.id}` });
        expect(trail.map((e) => `${e.from}>${e.to}`).sort()).toEqual(
          ['acknowledged>in_progress', 'in_progress>resolved', 'open>acknowledged', 'open>risk_accepted', 'resolved>open', 'risk_accepted>open'],
        );
      });

      it('an unknown alert is not found', async () => {
        const id = uid('alert');
        expect(await store().getAlert(id)).toBeUndefined();
        await expectCode(store().changeAlertStatus(id, { to: 'acknowledged', actor: 'x', reason: 'y', expectedVersion: 1 }), StoreCodes.NOT_FOUND);
      });

      it('keeps an append-only audit trail, newest first, by target, limited', async () => {
        const target = uid('user');
        const written = [];
        for (const m of [1, 3, 2]) {
          written.push(await store().appendAudit({ at: at(m), actor: 'admin', action: 'user.create', target, from: '', to: 'analyst', reason: `r${m}` }));
        }
        expect(new Set(written.map((e) => e.id)).size).toBe(3);
        await refresh();
        const all = await store().listAudit({ target });
        expect(all.map((e) => e.reason)).toEqual(['r3', 'r2', 'r1']);
        expect(all[0]).toEqual(written[1]);
        expect((await store().listAudit({ target, limit: 2 })).map((e) => e.reason)).toEqual(['r3', 'r2']);
        expect((await store().listAudit({ limit: 10_000 })).filter((e) => e.target === target)).toHaveLength(3);
      });
    });

    describe('agents', () => {
      it('upserts, gets and lists agents', async () => {
        const a = await newAgent({ hostName: 'PC-KETOAN-01', os: 'windows' });
        expect(await store().getAgent(a.id)).toEqual(a);
        const changed = { ...a, hostName: 'PC-KETOAN-02', version: '0.2.0', status: 'revoked' as const };
        await store().upsertAgent(changed);
        expect(await store().getAgent(a.id)).toEqual(changed);
        const b = await newAgent();
        await refresh();
        const listed = (await store().listAgents()).filter((x) => x.id === a.id || x.id === b.id);
        expect(listed).toHaveLength(2);
        expect(listed).toContainEqual(changed);
        expect(listed).toContainEqual(b);
        expect(await store().getAgent(uid('agent'))).toBeUndefined();
      });

      it('touchAgent moves lastSeen forward, never back; an unknown agent is not found', async () => {
        const a = await newAgent({ lastSeen: at(10) });
        await store().touchAgent(a.id, at(20));
        expect((await store().getAgent(a.id))!.lastSeen).toBe(at(20));
        await store().touchAgent(a.id, at(15));
        expect((await store().getAgent(a.id))!.lastSeen).toBe(at(20));
        await expectCode(store().touchAgent(uid('agent'), at(20)), StoreCodes.NOT_FOUND);
      });

      it("lastSeq only increases, whether by commit or by upsert", async () => {
        const a = await newAgent();
        await store().commit(commitOf(a, { upToSeq: 10, lastSeen: at(50) }));
        expect(await store().getAgent(a.id)).toMatchObject({ lastSeq: 10, lastSeen: at(50) });
        await store().commit(commitOf(a, { upToSeq: 5, lastSeen: at(40) }));
        expect(await store().getAgent(a.id)).toMatchObject({ lastSeq: 10, lastSeen: at(50) });
        await store().upsertAgent({ ...a, lastSeq: 3, lastSeen: at(0) });
        expect(await store().getAgent(a.id)).toMatchObject({ lastSeq: 10, lastSeen: at(50) });
        await store().commit(commitOf(a, { upToSeq: 12, lastSeen: at(60) }));
        expect(await store().getAgent(a.id)).toMatchObject({ lastSeq: 12, lastSeen: at(60) });
      });
    });

    describe('enrollment tokens', () => {
      it('consuming uses a token up one use at a time; unlimited tokens stay unlimited', async () => {
        const two = token({ usesLeft: 2 });
        const unlimited = token({ usesLeft: null });
        await store().createToken(two);
        await store().createToken(unlimited);
        expect(await store().consumeToken(two.hash, at(10))).toEqual({ ...two, usesLeft: 1 });
        expect(await store().consumeToken(two.hash, at(11))).toEqual({ ...two, usesLeft: 0 });
        await expectCode(store().consumeToken(two.hash, at(12)), StoreCodes.TOKEN_USED_UP);
        for (let i = 0; i < 3; i++) expect(await store().consumeToken(unlimited.hash, at(10))).toEqual(unlimited);
        await refresh();
        const listed = (await store().listTokens()).filter((t) => t.id === two.id || t.id === unlimited.id);
        expect(listed).toHaveLength(2);
        expect(listed).toContainEqual({ ...two, usesLeft: 0 });
        expect(listed).toContainEqual(unlimited);
      });

      it('refuses unknown and expired tokens with their codes', async () => {
        const t = token({ usesLeft: 5, expiresAt: at(60) });
        await store().createToken(t);
        await expectCode(store().consumeToken('0'.repeat(64), at(10)), StoreCodes.TOKEN_UNKNOWN);
        await expectCode(store().consumeToken(t.hash, at(60)), StoreCodes.TOKEN_EXPIRED);
        await expectCode(store().consumeToken(t.hash, at(61)), StoreCodes.TOKEN_EXPIRED);
        expect((await store().consumeToken(t.hash, at(59))).usesLeft).toBe(4);
      });

      it('a single-use token consumed by two callers at once: exactly one succeeds', async () => {
        const t = token({ usesLeft: 1 });
        await store().createToken(t);
        const results = await Promise.allSettled([store().consumeToken(t.hash, at(5)), store().consumeToken(t.hash, at(5))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(failed).toHaveLength(1);
        expect(failed[0]!.reason).toMatchObject({ code: StoreCodes.TOKEN_USED_UP });
      });

      it('refuses a second token with the same id or hash', async () => {
        const t = token();
        await store().createToken(t);
        await expectCode(store().createToken({ ...t, hash: 'f'.repeat(64) }), StoreCodes.CONFLICT);
        await expectCode(store().createToken({ ...t, id: uid('token') }), StoreCodes.CONFLICT);
      });
    });

    describe('queries', () => {
      /** Six alerts on two hosts of a fresh agent pair. */
      const seed = async (): Promise<{ a: AgentRecord; b: AgentRecord; rule: string; alerts: Alert[] }> => {
        const a = await newAgent();
        const b = await newAgent();
        const rule = uid('rule');
        const specs: [AgentRecord, Severity, number, number][] = [
          // agent, severity, seenAt minute, count
          [a, 'critical', 10, 1], [a, 'low', 20, 5], [a, 'high', 30, 2], [b, 'medium', 40, 3], [b, 'critical', 50, 4], [b, 'informational', 60, 6],
        ];
        for (const [agent, severity, m, count] of specs) {
          await store().commit(commitOf(agent, { alerts: [upsert(agent, uid('key'), { severity, seenAt: at(m), count, rule: { id: rule, title: 'Q', version: '1' } })] }));
        }
        await refresh();
        const alerts = (await store().listAlerts({ ruleId: rule, limit: 100 })).items;
        expect(alerts).toHaveLength(6);
        return { a, b, rule, alerts };
      };

      it('filters alerts by severity, status, host, agent and rule', async () => {
        const { a, b, rule, alerts } = await seed();
        await setStatus(alerts.find((x) => x.severity === 'low')!, 'acknowledged');
        await setStatus(alerts.find((x) => x.severity === 'informational')!, 'false_positive');
        await refresh();
        const sev = (s: Alert[]): string[] => s.map((x) => x.severity).sort();
        expect(sev((await store().listAlerts({ ruleId: rule, severity: ['critical'] })).items)).toEqual(['critical', 'critical']);
        expect(sev((await store().listAlerts({ ruleId: rule, severity: ['critical', 'high'], agentId: a.id })).items)).toEqual(['critical', 'high']);
        expect(sev((await store().listAlerts({ ruleId: rule, status: ['acknowledged', 'false_positive'] })).items)).toEqual(['informational', 'low']);
        expect(sev((await store().listAlerts({ ruleId: rule, status: ['open'], hostName: b.hostName })).items)).toEqual(['critical', 'medium']);
        expect((await store().listAlerts({ ruleId: uid('rule') })).total).toBe(0);
      });

      it('sorts alerts by lastSeen (default), firstSeen, severity and count, both ways', async () => {
        const { rule } = await seed();
        const order = async (sort?: Parameters<Store['listAlerts']>[0]['sort']): Promise<number[]> =>
          (await store().listAlerts({ ruleId: rule, ...(sort ? { sort } : {}) })).items.map((x) => x.count);
        expect(await order()).toEqual([6, 4, 3, 2, 5, 1]);
        expect(await order({ field: 'lastSeen', dir: 'asc' })).toEqual([1, 5, 2, 3, 4, 6]);
        expect(await order({ field: 'firstSeen', dir: 'desc' })).toEqual([6, 4, 3, 2, 5, 1]);
        expect(await order({ field: 'count', dir: 'desc' })).toEqual([6, 5, 4, 3, 2, 1]);
        expect(await order({ field: 'count', dir: 'asc' })).toEqual([1, 2, 3, 4, 5, 6]);
        const bySeverity = (await store().listAlerts({ ruleId: rule, sort: { field: 'severity', dir: 'desc' } })).items.map((x) => x.severity);
        expect(bySeverity).toEqual(['critical', 'critical', 'high', 'medium', 'low', 'informational']);
        const bySeverityAsc = (await store().listAlerts({ ruleId: rule, sort: { field: 'severity', dir: 'asc' } })).items.map((x) => x.severity);
        expect(bySeverityAsc).toEqual(['informational', 'low', 'medium', 'high', 'critical', 'critical']);
      });

      it('pages alerts with limit and offset and reports the total', async () => {
        const { rule } = await seed();
        const q = { ruleId: rule, sort: { field: 'count' as const, dir: 'asc' as const } };
        const p1 = await store().listAlerts({ ...q, limit: 4 });
        const p2 = await store().listAlerts({ ...q, limit: 4, offset: 4 });
        const p3 = await store().listAlerts({ ...q, limit: 4, offset: 8 });
        expect([p1.total, p2.total, p3.total]).toEqual([6, 6, 6]);
        expect(p1.items.map((x) => x.count)).toEqual([1, 2, 3, 4]);
        expect(p2.items.map((x) => x.count)).toEqual([5, 6]);
        expect(p3.items).toEqual([]);
      });

      it('counts alerts by severity, status and host', async () => {
        const { a, b, rule, alerts } = await seed();
        await setStatus(alerts.find((x) => x.severity === 'high')!, 'in_progress');
        await refresh();
        expect(await store().countAlerts('severity', { ruleId: rule })).toEqual({ critical: 2, high: 1, medium: 1, low: 1, informational: 1 });
        expect(await store().countAlerts('status', { ruleId: rule })).toEqual({ open: 5, in_progress: 1 });
        expect(await store().countAlerts('host', { ruleId: rule })).toEqual({ [a.hostName]: 3, [b.hostName]: 3 });
        expect(await store().countAlerts('severity', { ruleId: rule, hostName: a.hostName, status: ['open'] })).toEqual({ critical: 1, low: 1 });
      });

      it('lists findings filtered by field values, time and host, sorted and paged', async () => {
        const a = await newAgent();
        const actions = ['created', 'modified', 'deleted', 'modified', 'modified'];
        const fs = actions.map((action, i) => finding(a, 'fim', {
          seq: i + 1, observedAt: at(10 * (i + 1)),
          fields: { 'event.action': action, 'file.path': `/etc/f${i}`, 'fim.expected': i === 4, 'file.size': 100 + i, 'file.tags': ['t', `t${i}`] },
        }));
        await store().commit(commitOf(a, { findings: fs, upToSeq: 5 }));
        await refresh();
        const ids = (p: { items: FindingRecord[] }): string[] => p.items.map((f) => f.id);
        const all = await store().listFindings({ kind: 'fim', agentId: a.id });
        expect(ids(all)).toEqual([...fs].reverse().map((f) => f.id));
        const modified = await store().listFindings({ kind: 'fim', agentId: a.id, where: { 'event.action': 'modified' }, sort: { field: 'observedAt', dir: 'asc' } });
        expect(ids(modified)).toEqual([fs[1]!.id, fs[3]!.id, fs[4]!.id]);
        expect(ids(await store().listFindings({ kind: 'fim', agentId: a.id, where: { 'event.action': 'modified', 'fim.expected': true } }))).toEqual([fs[4]!.id]);
        expect(ids(await store().listFindings({ kind: 'fim', agentId: a.id, where: { 'file.size': 102 } }))).toEqual([fs[2]!.id]);
        expect(ids(await store().listFindings({ kind: 'fim', agentId: a.id, where: { 'file.tags': 't3' } }))).toEqual([fs[3]!.id]);
        const since = await store().listFindings({ kind: 'fim', hostName: a.hostName, since: at(30), sort: { field: 'observedAt', dir: 'asc' } });
        expect(ids(since)).toEqual(fs.slice(2).map((f) => f.id));
        const paged = await store().listFindings({ kind: 'fim', agentId: a.id, sort: { field: 'observedAt', dir: 'asc' }, limit: 2, offset: 2 });
        expect(paged.total).toBe(5);
        expect(ids(paged)).toEqual([fs[2]!.id, fs[3]!.id]);
        expect((await store().listFindings({ kind: 'fim', agentId: a.id, where: { 'event.action': 'renamed' } })).total).toBe(0);
      });

      it('countFindings counts current state and events, per kind and per agent', async () => {
        const a = await newAgent();
        const b = await newAgent();
        await store().commit(commitOf(a, {
          findings: [pkg(a, 'x', { observedAt: at(1) }), pkg(a, 'x', { observedAt: at(2) }), pkg(a, 'y'), finding(a, 'fim'), finding(a, 'fim'), finding(a, 'gap')],
        }));
        await store().commit(commitOf(b, { findings: [pkg(b, 'x'), finding(b, 'fim')] }));
        await refresh();
        expect(await store().countFindings('kind', { agentId: a.id })).toEqual({ package: 2, fim: 2, gap: 1 });
        expect(await store().countFindings('agent', { agentId: a.id })).toEqual({ [a.id]: 5 });
        const byAgent = await store().countFindings('agent');
        expect(byAgent[a.id]).toBe(5);
        expect(byAgent[b.id]).toBe(2);
        const byKind = await store().countFindings('kind');
        expect(byKind.package).toBe((await store().listFindings({ kind: 'package' })).total);
        expect(byKind.fim).toBe((await store().listFindings({ kind: 'fim' })).total);
      });
    });
  });

  describe(`store contract: ${name} — retention`, () => {
    const { store, refresh, newAgent } = useStore();

    it('prunes old events and superseded state, keeps current state however old', async () => {
      const a = await newAgent({ enrolledAt: oldDay(0), lastSeen: oldDay(0) });
      const oldEvent = finding(a, 'fim', { observedAt: oldDay(1), receivedAt: oldDay(1) });
      const newEvent = finding(a, 'fim', { observedAt: oldDay(100), receivedAt: oldDay(100) });
      const superseded = pkg(a, 'zlib', { observedAt: oldDay(1), receivedAt: oldDay(1) });
      const current = pkg(a, 'zlib', { observedAt: oldDay(2), receivedAt: oldDay(2) });
      const oldButCurrent = pkg(a, 'libc6', { observedAt: oldDay(1), receivedAt: oldDay(1) });
      await store().commit(commitOf(a, { findings: [oldEvent, newEvent, superseded, current, oldButCurrent] }));
      await refresh();
      const pruned = await store().prune({ findingsBefore: oldDay(50), alertsBefore: oldDay(0) });
      expect(pruned.findings).toBe(2);
      await refresh();
      const known = await store().knownFindingIds([oldEvent.id, newEvent.id, superseded.id, current.id, oldButCurrent.id]);
      expect([...known].sort()).toEqual([newEvent.id, current.id, oldButCurrent.id].sort());
      expect(keys((await store().listFindings({ kind: 'package', agentId: a.id })).items)).toEqual(['libc6', 'zlib']);
      expect((await store().listFindings({ kind: 'fim', agentId: a.id })).items.map((f) => f.id)).toEqual([newEvent.id]);
    });

    it('prunes old closed alerts, keeps open, accepted and recently closed ones, and never the audit trail', async () => {
      const a = await newAgent({ enrolledAt: oldDay(0), lastSeen: oldDay(0) });
      const make = async (lastSeenDay: number): Promise<Alert> => {
        const key = uid('key');
        await store().commit(commitOf(a, { alerts: [upsert(a, key, { seenAt: oldDay(lastSeenDay) })], lastSeen: oldDay(0) }));
        await refresh();
        return (await store().listAlerts({ agentId: a.id, limit: 10_000 })).items.find((x) => x.dedupKey === key)!;
      };
      const close = (x: Alert, to: AlertStatus): Promise<Alert> =>
        store().changeAlertStatus(x.id, { to, actor: 'analyst', reason: 'done', expectedVersion: x.version, at: oldDay(5) });
      const oldResolved = await close(await make(1), 'resolved');
      const oldFalsePositive = await close(await make(2), 'false_positive');
      const oldOpen = await make(1);
      const oldAccepted = await close(await make(1), 'risk_accepted');
      const recentResolved = await close(await make(100), 'resolved');
      const pruned = await store().prune({ findingsBefore: oldDay(0), alertsBefore: oldDay(50) });
      expect(pruned.alerts).toBe(2);
      await refresh();
      expect(await store().getAlert(oldResolved.id)).toBeUndefined();
      expect(await store().getAlert(oldFalsePositive.id)).toBeUndefined();
      for (const kept of [oldOpen, oldAccepted, recentResolved]) expect(await store().getAlert(kept.id)).toBeDefined();
      expect(await store().listAudit({ target: `alert:${oldResolved.id}` })).toHaveLength(1);
      expect((await store().listAlerts({ agentId: a.id })).total).toBe(3);
    });
  });
}
