import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEntry, openOutbox } from './outbox.js';
import { backoffDelay } from './stream.js';

const dirs: string[] = [];
function tmp(): string { const d = mkdtempSync(join(tmpdir(), 'outbox-')); dirs.push(d); return d; }
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const finding = (i: number) => ({
  id: `id-${String(i).padStart(8, '0')}`, observedAt: new Date().toISOString(), check: 'fim', kind: 'fim' as const,
  stateKey: '', snapshotId: '', snapshotTotal: 0, fields: { 'file.path': `/tmp/f${i}`, 'event.action': 'created' },
});

describe('outbox', () => {
  it('assigns increasing sequence numbers that survive a reopen, and deletes only on ack', () => {
    const path = join(tmp(), 'outbox.db');
    let ob = openOutbox(path, { maxEntries: 1000, maxBytes: 1 << 24 });
    expect(ob.enqueue([finding(1), finding(2), finding(3)])).toEqual([1, 2, 3]);
    ob.close();
    ob = openOutbox(path, { maxEntries: 1000, maxBytes: 1 << 24 });
    expect(ob.enqueue([finding(4)])).toEqual([4]);
    expect(ob.peek(0, 10, 1 << 20).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(ob.ack(2)).toBe(2);
    const rest = ob.peek(0, 10, 1 << 20);
    expect(rest.map((e) => e.seq)).toEqual([3, 4]);
    expect(decodeEntry(rest[0]!.bytes).fields['file.path']?.s).toBe('/tmp/f3');
    expect(ob.depth()).toMatchObject({ entries: 2, firstSeq: 3, lastSeq: 4 });
    ob.ack(4);
    expect(ob.depth().entries).toBe(0);
    expect(ob.enqueue([finding(5)])).toEqual([5]); // sequence numbers never repeat, even when empty
    ob.close();
  });

  it('when full, drops the oldest and queues a gap finding that says what was lost', () => {
    const ob = openOutbox(join(tmp(), 'o.db'), { maxEntries: 1000, maxBytes: 1 << 24 });
    for (let i = 0; i < 10; i++) ob.enqueue(Array.from({ length: 100 }, (_, j) => finding(i * 100 + j)));
    expect(ob.depth().entries).toBe(1000);
    ob.enqueue([finding(5000), finding(5001)]);
    const d = ob.depth();
    expect(d.entries).toBeLessThanOrEqual(1000);
    const all = ob.peek(0, 2000, 1 << 30).map((e) => ({ seq: e.seq, f: decodeEntry(e.bytes) }));
    const gap = all.find((e) => e.f.kind === 'gap');
    expect(gap).toBeDefined();
    expect(gap!.f.fields['gap.from_seq']?.i).toBe(1);
    const count = gap!.f.fields['gap.count']?.i ?? 0;
    expect(count).toBe(3);
    expect(gap!.f.fields['gap.to_seq']?.i).toBe(3);
    // What remains starts right after the gap and nothing else is missing.
    const seqs = all.map((e) => e.seq);
    expect(seqs[0]).toBe(4);
    expect(seqs[seqs.length - 1]).toBe(1003);
    ob.close();
  });

  it('peek respects the byte budget but always returns at least one entry', () => {
    const ob = openOutbox(join(tmp(), 'o.db'), { maxEntries: 1000, maxBytes: 1 << 24 });
    ob.enqueue([finding(1), finding(2), finding(3)]);
    expect(ob.peek(0, 10, 1).length).toBe(1);
    expect(ob.peek(1, 10, 1 << 20).map((e) => e.seq)).toEqual([2, 3]);
    ob.close();
  });
});

describe('reconnect backoff', () => {
  it('doubles per attempt up to the maximum, with jitter in [d/2, d]', () => {
    expect(backoffDelay(0, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffDelay(0, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffDelay(30, 1000, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelay(30, 1000, 60_000, () => 0)).toBe(30_000);
  });
});
