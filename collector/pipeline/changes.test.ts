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
import { resolve } from 'node:path';
import { loadRules } from '../rules.js';

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

describe('SCA results: the previous result is the collector\'s', () => {
  const wire = (f: Parameters<typeof toWire>[0]): WireFinding => decode<WireFinding>(T.Finding, T.Finding.encode(T.Finding.fromObject(toWire(f) as never)).finish());
  const sca = (agentId: string, results: Record<string, string>, previous?: Record<string, string>) => {
    const snapshotId = randomUUID();
    const ids = Object.keys(results);
    return ids.map((id, i) => wire({
      id: randomUUID(), seq: ++seq, observedAt: new Date().toISOString(), check: 'sca', kind: 'sca',
      stateKey: `cg_debian/${id}`, snapshotId, snapshotTotal: i === ids.length - 1 ? ids.length : 0,
      fields: {
        'sca.policy.id': 'cg_debian', 'sca.check.id': id, 'sca.check.title': id, 'sca.check.result': results[id]!,
        ...(previous?.[id] ? { 'sca.check.previous_result': previous[id] } : {}),
      },
    }));
  };

  it('a check that keeps failing raises one alert even when the agent forgot its previous run; pass→fail raises one', async () => {
    const a = { id: 'agent-sca-1', hostName: 'pc-07' };
    const now = new Date().toISOString();
    await store.upsertAgent({ id: a.id, hostName: a.hostName, certFingerprint: 'sha256:y', os: 'linux', version: 't', group: 'g', enrolledAt: now, lastSeen: now, lastSeq: 0, status: 'active' });
    const rules = loadRules(resolve(import.meta.dirname, '../../rules/detection'));
    const p = buildPipeline({ store, evaluate: (r) => rules.evaluate(r), log: logger('test') });
    const failedAlerts = async () => (await store.listAlerts({ limit: 100 })).items.filter((x) => x.agentId === a.id && x.rule.id === '6f0d4b8e-2a61-4c1b-9d2e-8b3a7c5e1f40');
    const stored = async (check: string) => (await store.listFindings({ kind: 'sca', agentId: a.id, limit: 100 })).items.find((f) => f.stateKey === `cg_debian/${check}`)!;

    // First run: one check fails (no previous anywhere) → one alert.
    let b = sca(a.id, { 'deb-ssh-root-login': 'fail', 'deb-aslr': 'pass' });
    await p.ingest(a, { lastSeq: seq, findings: b });
    expect(await failedAlerts()).toHaveLength(1);
    const first = (await failedAlerts())[0]!;

    // Second run: the agent lost its state (no previous_result), the check still fails → the collector fills
    // in "fail" from its own record, no new alert and no repeat on the open one.
    b = sca(a.id, { 'deb-ssh-root-login': 'fail', 'deb-aslr': 'pass' });
    await p.ingest(a, { lastSeq: seq, findings: b });
    expect((await stored('deb-ssh-root-login')).fields['sca.check.previous_result']).toBe('fail');
    expect(await failedAlerts()).toHaveLength(1);
    expect((await failedAlerts())[0]!.count).toBe(first.count);

    // Third run: the agent claims the passing check "was failing" (wrong), and it now fails: the collector
    // says it was passing, so pass→fail raises an alert for it.
    b = sca(a.id, { 'deb-ssh-root-login': 'fail', 'deb-aslr': 'fail' }, { 'deb-aslr': 'fail' });
    await p.ingest(a, { lastSeq: seq, findings: b });
    expect((await stored('deb-aslr')).fields['sca.check.previous_result']).toBe('pass');
    expect(await failedAlerts()).toHaveLength(2);
  });
});

