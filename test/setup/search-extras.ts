/**
 * What the search-engine stores promise beyond the shared store contract: the index layout (templates,
 * monthly indices behind read aliases, whole-month retention) and dead letters. Run against each engine.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FindingRecord } from '../../common/finding.js';
import { openSearchStore, type SearchStore } from '../../collector/store/search/index.js';
import { agent } from './ingest.js';

async function get(url: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export function searchStoreExtras(engine: 'elasticsearch' | 'opensearch', url: () => string): void {
  describe(`${engine} store: index layout and dead letters`, () => {
    const prefix = `x-${randomUUID().slice(0, 8)}`;
    const dataDir = mkdtempSync(join(tmpdir(), `canhgac-${engine}-x-`));
    let store: SearchStore | undefined;
    const s = (): SearchStore => store!;

    beforeAll(async () => {
      store = await openSearchStore({ type: engine, nodes: [url()], index_prefix: prefix }, { dataDir });
    });
    afterAll(async () => {
      await store?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const event = (a: ReturnType<typeof agent>, observedAt: string, fields: FindingRecord['fields'] = {}): FindingRecord => ({
      id: `f-${randomUUID()}`, agentId: a.id, hostName: a.hostName, seq: 1, observedAt, receivedAt: observedAt, check: 'fim',
      kind: 'fim', family: 'event', stateKey: '', snapshotId: '', fields: { 'event.action': 'created', 'file.path': '/etc/x', ...fields },
    });

    it('creates composable templates with explicit ECS mappings, and the small indices, at start', async () => {
      const t = await get(url(), `/_index_template/${prefix}-findings`);
      expect(t.status).toBe(200);
      const tpl = (t.body.index_templates as { index_template: { composed_of: string[]; index_patterns: string[] } }[])[0]!.index_template;
      expect(tpl.index_patterns).toEqual([`${prefix}-findings-*`]);
      expect(tpl.composed_of).toEqual([`${prefix}-ecs-findings`]);
      const mapping = await get(url(), `/${prefix}-state/_mapping/field/server.port,host.ip,@timestamp`);
      expect(JSON.stringify(mapping.body)).toContain('"type":"long"');
      expect(JSON.stringify(mapping.body)).toContain('"type":"ip"');
      for (const index of ['state', 'agents', 'tokens', 'audit', 'meta']) {
        expect((await get(url(), `/${prefix}-${index}`)).status).toBe(200);
      }
    });

    it('writes each finding to the month of its time, reads all months through the alias, and drops whole months', async () => {
      const a = agent();
      await s().upsertAgent(a);
      const march = event(a, '2024-03-31T23:30:00.000Z');
      const april = event(a, '2024-04-01T06:00:00+07:00'); // 2024-03-31T23:00Z: still March
      const may = event(a, '2024-05-02T00:00:00.000Z');
      await s().commit({ agentId: a.id, findings: [march, april, may], closedSnapshots: [], alerts: [], upToSeq: 1, lastSeen: may.observedAt });
      const aliases = await get(url(), `/_alias/${prefix}-findings`);
      expect(Object.keys(aliases.body).sort()).toEqual([`${prefix}-findings-2024.03`, `${prefix}-findings-2024.05`]);
      expect((await s().listFindings({ kind: 'fim', agentId: a.id })).total).toBe(3);
      expect(await s().prune({ findingsBefore: '2024-04-15T00:00:00.000Z', alertsBefore: '2000-01-01T00:00:00.000Z' }))
        .toEqual({ findings: 2, alerts: 0 });
      expect((await get(url(), `/${prefix}-findings-2024.03`)).status).toBe(404);
      expect((await s().listFindings({ kind: 'fim', agentId: a.id })).items.map((f) => f.id)).toEqual([may.id]);
    });

    it('sends a document the engine cannot map to the dead-letter file, with the reason; the rest of the batch is indexed', async () => {
      const a = agent();
      await s().upsertAgent(a);
      const good = event(a, '2025-02-01T00:00:00.000Z');
      // server.port is a long: an object under it cannot be mapped.
      const bad = event(a, '2025-02-01T00:00:01.000Z', { 'server.port.number': 22 });
      const r = await s().commit({ agentId: a.id, findings: [good, bad], closedSnapshots: [], alerts: [], upToSeq: 2, lastSeen: good.observedAt });
      expect(r.deadLettered.map((d) => d.id)).toEqual([bad.id]);
      expect(r.deadLettered[0]!.reason).toMatch(/server\.port/);
      const dir = join(dataDir, 'dead-letter');
      expect(existsSync(dir)).toBe(true);
      const lines = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ id: bad.id, status: 400, document: expect.objectContaining({ server: { port: { number: 22 } } }) }));
      expect((await s().listFindings({ kind: 'fim', agentId: a.id })).items.map((f) => f.id)).toEqual([good.id]);
      expect((await s().getAgent(a.id))!.lastSeq).toBe(2);
    });

    it('answers STORE_UNAVAILABLE when the cluster cannot be reached, and once the store is closed', async () => {
      await expect(openSearchStore({ type: engine, nodes: ['http://127.0.0.1:1'], index_prefix: prefix, bulk: { retry_ms: 300 } }, { dataDir }))
        .rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      const closed = await openSearchStore({ type: engine, nodes: [url()], index_prefix: prefix }, { dataDir });
      await closed.close();
      await expect(closed.commit({ agentId: 'x', findings: [], closedSnapshots: [], alerts: [], upToSeq: 0, lastSeen: '2025-01-01T00:00:00Z' }))
        .rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });
  });
}
