/** Change events derived from state snapshots, through the real pipeline and the SQLite store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../common/logger.js';
import { toWire, type WireFinding } from '../../proto/convert.js';
import { T, decode } from '../../proto/index.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { buildPipeline } from './ingest.js';

let dir: string;
let store: Store;
let seq = 0;
const agent = { id: 'agent-changes-1', hostName: 'web01' };

function snapshot(ports: number[]) {
  const snapshotId = randomUUID();
  // Through the real codec, as the stream handler hands findings to the pipeline.
  const wire = (f: Parameters<typeof toWire>[0]): WireFinding => decode<WireFinding>(T.Finding, T.Finding.encode(T.Finding.fromObject(toWire(f) as never)).finish());
  return ports.map((port, i) => wire({
    id: randomUUID(), seq: ++seq, observedAt: new Date().toISOString(), check: 'listeners', kind: 'listener',
    stateKey: `tcp:0.0.0.0:${port}`, snapshotId, snapshotTotal: i === ports.length - 1 ? ports.length : 0,
    fields: { 'server.port': port, 'server.ip': '0.0.0.0', 'network.transport': 'tcp', 'exposure.bind_scope': 'all' },
  }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'changes-'));
  store = await openStore({ type: 'sqlite' }, dir);
  const now = new Date().toISOString();
  await store.upsertAgent({ id: agent.id, hostName: agent.hostName, certFingerprint: 'sha256:x', os: 'linux', version: 't', group: 'g', enrolledAt: now, lastSeen: now, lastSeq: 0, status: 'active' });
});
afterAll(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });

describe('change events from snapshots', () => {
  it('derives nothing from the first snapshot, then listener-added and listener-removed, split over batches', async () => {
    const p = buildPipeline({ store, evaluate: () => [], log: logger('test') });
    const first = snapshot([22, 80]);
    await p.ingest(agent, { lastSeq: seq, findings: first });
    expect((await store.listFindings({ kind: 'change', limit: 100 })).total).toBe(0);

    const second = snapshot([22, 443, 6379]);
    await p.ingest(agent, { lastSeq: second[0]!.seq, findings: second.slice(0, 1) });
    await p.ingest(agent, { lastSeq: seq, findings: second.slice(1) });
    const events = (await store.listFindings({ kind: 'change', limit: 100 })).items;
    const got = events.map((e) => `${String(e.fields['event.action'])} ${String(e.fields['server.port'])}`).sort();
    expect(got).toEqual(['listener-added 443', 'listener-added 6379', 'listener-removed 80']);

    // A replay of the closing batch derives nothing new.
    await p.ingest(agent, { lastSeq: seq, findings: second.slice(1) });
    expect((await store.listFindings({ kind: 'change', limit: 100 })).total).toBe(3);
  });
});
