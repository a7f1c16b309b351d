/** Retention on the real embedded store: old events go, current state and recent data stay. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './store/index.js';
import { pruneOnce } from './retention.js';
import type { FindingRecord } from '../common/finding.js';

const dir = mkdtempSync(join(tmpdir(), 'retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('retention of the embedded store', () => {
  it('deletes events older than findings_days and keeps newer ones and the current state', async () => {
    const store = await openStore({ type: 'sqlite' }, dir);
    const day = 86_400_000;
    const now = Date.now();
    const at = (d: number): string => new Date(now - d * day).toISOString();
    await store.upsertAgent({ id: 'a1', hostName: 'h1', certFingerprint: 'sha256:0', os: '', version: '', group: 'g', enrolledAt: at(300), lastSeen: at(0), lastSeq: 0, status: 'active' });
    const rec = (id: string, d: number, kind: 'fim' | 'package'): FindingRecord => ({
      id, agentId: 'a1', hostName: 'h1', seq: 1, observedAt: at(d), receivedAt: at(d), check: 'x', kind,
      family: kind === 'fim' ? 'event' : 'state', stateKey: kind === 'package' ? 'openssl:amd64' : '', snapshotId: '',
      fields: kind === 'fim' ? { 'file.path': `/etc/${id}` } : { 'package.name': 'openssl', 'package.version': '3.0.15' },
    });
    await store.commit({ agentId: 'a1', findings: [rec('old-event', 200, 'fim'), rec('new-event', 10, 'fim'), rec('old-state', 200, 'package')], closedSnapshots: [], alerts: [], upToSeq: 1, lastSeen: at(0) });
    const r = await pruneOnce(store, { alertsDays: 400, findingsDays: 120, intervalHours: 6 }, now);
    expect(r.findings).toBe(1);
    const events = (await store.listFindings({ kind: 'fim', limit: 10 })).items.map((f) => f.id);
    expect(events).toEqual(['new-event']);
    expect((await store.listFindings({ kind: 'package', limit: 10 })).items.map((f) => f.id)).toEqual(['old-state']);
    await store.close();
  });
});
