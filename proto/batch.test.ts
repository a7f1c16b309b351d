import { describe, expect, it } from 'vitest';
import { T, decode, encodeBatchMessage } from './index.js';
import { toWire } from './convert.js';

describe('encodeBatchMessage', () => {
  it('gives the same AgentMessage as encoding the batch object, and decodes back to it', () => {
    const findings = [1, 2, 3].map((i) => toWire({
      id: `id-0000000${i}`, seq: 40 + i, observedAt: '2026-11-28T00:00:00.000Z', check: 'fim', kind: 'fim', stateKey: '', snapshotId: '', snapshotTotal: 0,
      fields: { 'file.path': `/tmp/${i}`, 'file.size': 10 * i, 'fim.changes': ['content'], 'fim.expected': false },
    }));
    const bytes = findings.map((f) => T.Finding.encode(T.Finding.fromObject(f as never)).finish());
    const assembled = encodeBatchMessage(41, 43, bytes);
    const reference = Buffer.from(T.AgentMessage.encode(T.AgentMessage.fromObject({ batch: { firstSeq: 41, lastSeq: 43, findings } })).finish());
    expect(assembled.equals(reference)).toBe(true);
    const back = decode<{ body: string; batch: { firstSeq: number; lastSeq: number; findings: { id: string; seq: number }[] } }>(T.AgentMessage, assembled);
    expect(back.body).toBe('batch');
    expect(back.batch.firstSeq).toBe(41);
    expect(back.batch.findings.map((f) => [f.id, f.seq])).toEqual([['id-00000001', 41], ['id-00000002', 42], ['id-00000003', 43]]);
  });
});
