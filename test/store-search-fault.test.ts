/**
 * Elasticsearch stops in the middle of ingest and comes back: commits fail with STORE_UNAVAILABLE while
 * it is down (the collector then withholds the ack and the agent resends), and once it is back every
 * finding that was committed is indexed exactly once.
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
const PORT = TEST_PORTS.fault;
const PREFIX = 'fault';
const BATCHES = 60;
const PER_BATCH = 200;

describe.skipIf(!!skip)(`elasticsearch stops mid-ingest${skip ? ` — SKIPPED: ${skip}` : ''}`, () => {
  let url = '';
  let store: SearchStore | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'canhgac-fault-'));

  beforeAll(async () => {
    [url] = (await startEngine('elasticsearch', { port: PORT, heap: '512m', fresh: true })) as [string];
    store = await openSearchStore({
      type: 'elasticsearch', nodes: [url], index_prefix: PREFIX,
      // Give up quickly while the engine is down: the "collector" below retries the batch.
      bulk: { retry_ms: 1500, flush_ms: 20 }, request_timeout_ms: 5000, retention: { interval_hours: 0 },
    }, { dataDir });
  });

  afterAll(async () => {
    await store?.close();
    await stopEngine('elasticsearch', { port: PORT });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('commits fail with STORE_UNAVAILABLE while it is down; afterwards every finding is indexed exactly once', { timeout: 240_000 }, async () => {
    const s = store!;
    const a = agent();
    await s.upsertAgent(a);
    const all: FindingRecord[] = [];
    const stats: IngestStats = { attempts: 0, unavailable: 0 };
    let outage: Promise<void> | undefined;
    let downAt = 0;
    let upAt = 0;
    for (let b = 0; b < BATCHES; b++) {
      const findings = batch(a, b * PER_BATCH + 1, PER_BATCH);
      all.push(...findings);
      if (b === 15) {
        // Kill (SIGKILL: no clean shutdown) while batches keep coming; start it again a few seconds later.
        outage = (async () => {
          await stopEngine('elasticsearch', { port: PORT, kill: true });
          downAt = Date.now();
          await new Promise((r) => setTimeout(r, 3000));
          await startEngine('elasticsearch', { port: PORT, heap: '512m' });
          upAt = Date.now();
        })();
      }
      await ingest(s, a, findings, stats);
    }
    await outage;
    expect(downAt).toBeGreaterThan(0);
    expect(upAt).toBeGreaterThan(downAt);
    // The outage was really hit by the ingest, and everything went through in the end.
    expect(stats.unavailable).toBeGreaterThan(0);
    await expectIndexedOnce(url, PREFIX, all);
    expect((await s.getAgent(a.id))!.lastSeq).toBe(BATCHES * PER_BATCH);
  });
});
