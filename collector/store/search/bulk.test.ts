import { describe, expect, it } from 'vitest';
import { StoreCodes, StoreError } from '../errors.js';
import type { EngineRequest, EngineResponse } from './adapter.js';
import { BulkWriter, type BulkOp } from './bulk.js';
import type { Call } from './call.js';

interface Sent { ops: { action: string; id: string }[]; bytes: number }

/** A fake engine: records each _bulk and answers every item with `status(id, attempt)`. */
function fakeEngine(status: (id: string, attempt: number) => number = () => 201): { call: Call; sent: Sent[] } {
  const sent: Sent[] = [];
  const attempts = new Map<string, number>();
  const call: Call = async (r: EngineRequest): Promise<EngineResponse> => {
    const lines = r.ndjson!.trimEnd().split('\n');
    const ops: { action: string; id: string }[] = [];
    for (let i = 0; i < lines.length; i++) {
      const head = JSON.parse(lines[i]!) as Record<string, { _id: string }>;
      const action = Object.keys(head)[0]!;
      ops.push({ action, id: head[action]!._id });
      if (action !== 'delete') i++;
    }
    sent.push({ ops, bytes: Buffer.byteLength(r.ndjson!) });
    const items = ops.map((o) => {
      const n = (attempts.get(o.id) ?? 0) + 1;
      attempts.set(o.id, n);
      const s = status(o.id, n);
      return { [o.action]: { _index: 'i', _id: o.id, status: s, ...(s >= 400 ? { error: { type: 'x', reason: `status ${s}` } } : {}) } };
    });
    return { status: 200, body: { errors: items.some((x) => Object.values(x)[0]!.status >= 300), items } };
  };
  return { call, sent };
}

const ops = (n: number, prefix = 'd'): BulkOp[] =>
  Array.from({ length: n }, (_, i) => ({ action: 'create' as const, index: 'i', id: `${prefix}${i}`, doc: { n: i, pad: 'x'.repeat(100) } }));

const opts = { maxDocs: 1000, maxBytes: 1 << 20, flushMs: 10, concurrency: 1, retryMs: 2000 };

describe('bulk writer', () => {
  it('batches by count', async () => {
    const { call, sent } = fakeEngine();
    const w = new BulkWriter(call, { ...opts, maxDocs: 3 });
    const res = await w.submit(ops(7));
    expect(res.map((r) => r.status)).toEqual(Array(7).fill(201));
    expect(sent.map((s) => s.ops.length)).toEqual([3, 3, 1]);
  });

  it('batches by bytes', async () => {
    const { call, sent } = fakeEngine();
    const w = new BulkWriter(call, { ...opts, maxBytes: 500 });
    await w.submit(ops(10));
    expect(sent.length).toBeGreaterThan(2);
    for (const s of sent) expect(s.bytes).toBeLessThanOrEqual(500);
    expect(sent.flatMap((s) => s.ops.map((o) => o.id))).toEqual(ops(10).map((o) => o.id));
  });

  it('merges concurrent submits into one request within flush_ms', async () => {
    const { call, sent } = fakeEngine();
    const w = new BulkWriter(call, { ...opts, flushMs: 30 });
    const [a, b] = await Promise.all([w.submit(ops(2, 'a')), w.submit(ops(3, 'b'))]);
    expect(a.map((r) => r.op.id)).toEqual(['a0', 'a1']);
    expect(b.map((r) => r.op.id)).toEqual(['b0', 'b1', 'b2']);
    expect(sent).toHaveLength(1);
  });

  it('retries items answered 429 or 5xx, alone, until they go through', async () => {
    const { call, sent } = fakeEngine((id, n) => (id === 'd1' && n < 3 ? 429 : id === 'd2' && n < 2 ? 503 : 201));
    const w = new BulkWriter(call, opts);
    const res = await w.submit(ops(4));
    expect(res.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(sent[0]!.ops).toHaveLength(4);
    expect(sent.slice(1).flatMap((s) => s.ops.map((o) => o.id)).sort()).toEqual(['d1', 'd1', 'd2']);
  });

  it('hands back items refused for good (4xx) with the reason, without failing the others', async () => {
    const { call } = fakeEngine((id) => (id === 'd1' ? 400 : id === 'd2' ? 409 : 201));
    const w = new BulkWriter(call, opts);
    const res = await w.submit(ops(3));
    expect(res.map((r) => r.status)).toEqual([201, 400, 409]);
    expect(res[1]!.item.error).toMatchObject({ reason: 'status 400' });
  });

  it('rejects with STORE_UNAVAILABLE when an item keeps failing past the retry budget', async () => {
    const { call } = fakeEngine((id) => (id === 'd0' ? 503 : 201));
    const w = new BulkWriter(call, { ...opts, retryMs: 300 });
    await expect(w.submit(ops(2))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('rejects the submits of a request that could not be sent, and works again afterwards', async () => {
    let down = true;
    const engine = fakeEngine();
    const call: Call = async (r, o) => {
      if (down) throw new StoreError(StoreCodes.UNAVAILABLE, 'elasticsearch is unavailable: connect ECONNREFUSED');
      return engine.call(r, o);
    };
    const w = new BulkWriter(call, opts);
    await expect(w.submit(ops(2))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    down = false;
    expect((await w.submit(ops(2))).map((r) => r.status)).toEqual([201, 201]);
    await w.drain();
  });
});
