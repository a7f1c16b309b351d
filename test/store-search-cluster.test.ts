/**
 * A three-node Elasticsearch cluster loses the node holding the primary of the findings index in the
 * middle of ingest: ingest continues (the replica is promoted, the client fails over to the other
 * nodes) and every finding is indexed exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FindingRecord } from '../common/finding.js';
import { openSearchStore, type SearchStore } from '../collector/store/search/index.js';
import { TEST_PORTS, skipReason, startEngine, stopEngine } from './setup/engines.js';
import { agent, batch, expectIndexedOnce, ingest, type IngestStats } from './setup/ingest.js';

const skip = skipReason(inject('searchEngines'));
const PORT = TEST_PORTS.cluster;
const PREFIX = 'cluster';
const BATCHES = 50;
const PER_BATCH = 200;

async function json(url: string, path: string): Promise<unknown> {
  const res = await fetch(`${url}${path}`);
  expect(res.status).toBe(200);
  return res.json();
}

describe.skipIf(!!skip)(`three-node elasticsearch loses a node mid-ingest${skip ? ` — SKIPPED: ${skip}` : ''}`, () => {
  let urls: string[] = [];
  let store: SearchStore | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'canhgac-cluster-'));

  beforeAll(async () => {
    urls = await startEngine('elasticsearch', { port: PORT, nodes: 3, fresh: true });
    store = await openSearchStore({ type: 'elasticsearch', nodes: urls, index_prefix: PREFIX, request_timeout_ms: 10_000, retention: { interval_hours: 0 } }, { dataDir });
  });

  afterAll(async () => {
    await store?.close();
    await stopEngine('elasticsearch', { port: PORT });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ingest continues when the node with the primary shard dies; nothing is lost or doubled', { timeout: 240_000 }, async () => {
    const s = store!;
    const a = agent();
    await s.upsertAgent(a);
    const all: FindingRecord[] = [];
    const stats: IngestStats = { attempts: 0, unavailable: 0 };
    for (let b = 0; b < 10; b++) {
      const findings = batch(a, b * PER_BATCH + 1, PER_BATCH);
      all.push(...findings);
      await ingest(s, a, findings, stats);
    }
    // Replicas allocated: every shard has a copy on a second node.
    const health = (await json(urls[0]!, '/_cluster/health?wait_for_status=green&timeout=60s')) as { status: string; number_of_nodes: number };
    expect(health).toMatchObject({ status: 'green', number_of_nodes: 3 });
    const shards = (await json(urls[0]!, `/_cat/shards/${PREFIX}-findings-*?format=json&h=index,prirep,node`)) as { prirep: string; node: string }[];
    const primaryNode = shards.find((x) => x.prirep === 'p')!.node; // es-1 … es-3
    const victim = Number(primaryNode.replace('es-', ''));
    expect([1, 2, 3]).toContain(victim);

    const before = stats.attempts;
    for (let b = 10; b < BATCHES; b++) {
      const findings = batch(a, b * PER_BATCH + 1, PER_BATCH);
      all.push(...findings);
      if (b === 15) await stopEngine('elasticsearch', { port: PORT, node: victim, kill: true });
      await ingest(s, a, findings, stats);
    }
    // Every batch after the kill went through on its first attempt: the store rode out the failover.
    expect(stats.unavailable).toBe(0);
    expect(stats.attempts - before).toBe(BATCHES - 10);
    const survivor = urls.find((_u, i) => i + 1 !== victim)!;
    const after = (await json(survivor, '/_cluster/health')) as { number_of_nodes: number; status: string };
    expect(after.number_of_nodes).toBe(2);
    await expectIndexedOnce(survivor, PREFIX, all);
  });
});
