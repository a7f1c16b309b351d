/**
 * The hot-path batch decoder against the oracle it replaces: protobufjs reflection decoding of the same
 * bytes (`decode(T.AgentMessage, …)`), on batches built the way agents build them (outbox-encoded
 * findings assembled by `encodeBatchMessage`) and on random ones; anything it does not take must come
 * back `undefined` so that reflection judges it.
 */
import { describe, expect, it } from 'vitest';
import type { Finding, FieldValue } from '../../common/finding.js';
import { prng } from '../../common/prng.js';
import { toWire } from '../../proto/convert.js';
import { T, decode, encode, encodeBatchMessage } from '../../proto/index.js';
import { decodeBatchMessage } from './batch-decode.js';

const encodeFinding = (f: Finding): Buffer => encode(T.Finding, toWire(f) as unknown as Record<string, unknown>);
/** Minimal varint (values below 2^28). */
const varint7 = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint7(n >>> 7)]);
const batchOf = (fs: Finding[]): Buffer => encodeBatchMessage(fs[0]?.seq ?? 0, fs.at(-1)?.seq ?? 0, fs.map(encodeFinding));

function fim(i: number): Finding {
  return {
    id: `4f1c0a52-9b7e-4d2a-8c1f-${String(i).padStart(12, '0')}`, seq: 1 + i, observedAt: '2026-11-28T02:45:47.123Z', check: 'fim', kind: 'fim',
    stateKey: '', snapshotId: '', snapshotTotal: 0,
    fields: {
      'file.path': `/var/lib/app/cache/f${i}.dat`, 'file.size': 1000 + i, 'file.uid': 0, 'event.action': 'modified',
      'fim.changes': ['content', 'mode'], 'file.hash.sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    },
  };
}

describe('decodeBatchMessage', () => {
  it('decodes an agent batch exactly as reflection does', () => {
    const fs = Array.from({ length: 50 }, (_, i) => fim(i));
    fs[49] = { ...fs[49]!, kind: 'package', stateKey: 'libc6:amd64', snapshotId: 'snap-1', snapshotTotal: 50, fields: { 'package.name': 'libc6', 'package.installed': true } };
    const buf = batchOf(fs);
    const fast = decodeBatchMessage(buf);
    expect(fast).toBeDefined();
    expect(fast).toEqual(decode(T.AgentMessage, buf));
    expect((fast as { batch: { findings: unknown[] } }).batch.findings).toHaveLength(50);
  });

  it('agrees with reflection on random batches: unicode, negative and large numbers, empty values', () => {
    const rnd = prng(20261128);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const strings = ['', 'a', 'Canh Gác', 'đang kiểm tra', '日本語', '🙂 emoji', 'x'.repeat(300), 'C:\\Windows\\System32\\drivers\\etc\\hosts'];
    const value = (): FieldValue => {
      switch (Math.floor(rnd() * 6)) {
        case 0: return pick(strings);
        case 1: return Math.floor((rnd() - 0.5) * 2 ** 53);
        case 2: return (rnd() - 0.5) * 1e300;
        case 3: return rnd() < 0.5;
        case 4: return Array.from({ length: Math.floor(rnd() * 4) }, () => pick(strings));
        default: return pick([0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
      }
    };
    for (let round = 0; round < 40; round++) {
      const fs: Finding[] = Array.from({ length: 1 + Math.floor(rnd() * 20) }, (_, i) => ({
        id: `id-${round}-${i}-${pick(strings)}`, seq: pick([1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER - i]),
        observedAt: new Date(pick([0, -86_400_000 * 400, 1_764_000_000_000 + i])).toISOString(),
        check: pick(strings), kind: pick(['fim', 'package', 'process', '']), stateKey: pick(strings), snapshotId: pick(strings),
        snapshotTotal: pick([0, 1, 4294967295]),
        fields: Object.fromEntries(Array.from({ length: Math.floor(rnd() * 8) }, (_, k) => [`f.${k}.${pick(['a', 'ă', 'b'])}`, value()])),
      }));
      const buf = batchOf(fs);
      const fast = decodeBatchMessage(buf);
      expect(fast, `round ${round}`).toBeDefined();
      expect(fast, `round ${round}`).toEqual(decode(T.AgentMessage, buf));
    }
  });

  it('gives back the right string when many short strings share the cache slots', () => {
    // 20,000 distinct short values and names over a 4,096-slot cache: collisions must never mix them up.
    const fs = Array.from({ length: 1000 }, (_, i) => ({
      ...fim(i), fields: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`n${(i * 20 + k) % 997}.x`, `v${i * 20 + k}`])),
    }));
    const buf = batchOf(fs);
    expect(decodeBatchMessage(buf)).toEqual(decode(T.AgentMessage, buf));
    expect(decodeBatchMessage(buf)).toEqual(decode(T.AgentMessage, buf));
    // Strings of one length whose hashes are equal ("Aa" and "BB" collide in a 31-multiplier hash).
    const colliding = ['Aa', 'BB', 'AaAa', 'AaBB', 'BBAa', 'BBBB'];
    const c = batchOf([{ ...fim(1), fields: Object.fromEntries(colliding.map((v, i) => [`x.${i}`, v])) }]);
    const decoded = decodeBatchMessage(c) as { batch: { findings: { fields: Record<string, { s: string }> }[] } };
    expect(colliding.map((_, i) => decoded.batch.findings[0]!.fields[`x.${i}`]!.s)).toEqual(colliding);
  });

  it('skips unknown fields as reflection does', () => {
    const f = encodeFinding(fim(1));
    // field 15, varint 300; field 16, length-delimited "zz" — appended to the finding.
    const withUnknown = Buffer.concat([f, Buffer.from([0x78, 0xac, 0x02, 0x82, 0x01, 0x02, 0x7a, 0x7a])]);
    const buf = encodeBatchMessage(2, 2, [withUnknown]);
    expect(decodeBatchMessage(buf)).toEqual(decode(T.AgentMessage, buf));
  });

  it('leaves other messages, and anything malformed, to reflection', () => {
    const hello = encode(T.AgentMessage, { hello: { agentId: 'a', agentVersion: '1', configVersion: 0, lastSeq: 0, firstUnackedSeq: 0 } });
    const heartbeat = encode(T.AgentMessage, { heartbeat: { sentAtMs: 1, outboxDepth: 0, outboxBytes: 0 } });
    expect(decodeBatchMessage(hello)).toBeUndefined();
    expect(decodeBatchMessage(heartbeat)).toBeUndefined();
    const good = batchOf([fim(1), fim(2)]);
    // Cut anywhere: never a partial batch.
    for (let n = 0; n < good.length; n++) expect(decodeBatchMessage(good.subarray(0, n)), `cut at ${n}`).toBeUndefined();
    // A batch followed by a hello: reflection's oneof rules apply, not ours.
    expect(decodeBatchMessage(Buffer.concat([good, hello]))).toBeUndefined();
    // Two members of one FieldValue oneof (hand-made edge case: s = "x" and i = 1 in one value of field a.b).
    const fv = Buffer.from([0x0a, 0x01, 0x78, 0x10, 0x02]);
    const entry = Buffer.concat([Buffer.from([0x0a, 0x03]), Buffer.from('a.b'), Buffer.from([0x12, fv.length]), fv]);
    const twoMembers = encodeBatchMessage(1, 1, [Buffer.concat([encodeFinding(fim(1)), Buffer.from([0x4a, entry.length]), entry])]);
    expect(() => decode(T.AgentMessage, twoMembers)).not.toThrow();
    expect(decodeBatchMessage(twoMembers)).toBeUndefined();
    // Invalid UTF-8 in a string: reflection refuses it, so must we (hand-made edge case: 0xff in the id).
    const bad = Buffer.from(good);
    const at = bad.indexOf(Buffer.from('4f1c0a52'));
    bad[at] = 0xff;
    expect(decodeBatchMessage(bad)).toBeUndefined();
    expect(() => decode(T.AgentMessage, bad)).toThrow();
  });

  it('declines repeated embedded messages, which reflection merges (found by the fuzz test)', () => {
    // Hand-made edge cases: one value of field a.b holding two lists ["x"] and ["y"]; one entry holding two values.
    const list = (x: string): Buffer => Buffer.from([0x2a, x.length + 2, 0x0a, x.length, ...Buffer.from(x)]);
    const entry = (values: Buffer[]): Buffer => {
      const e = Buffer.concat([Buffer.from([0x0a, 0x03]), Buffer.from('a.b'), ...values.map((v) => Buffer.concat([Buffer.from([0x12, v.length]), v]))]);
      return Buffer.concat([Buffer.from([0x4a, e.length]), e]);
    };
    const withEntry = (e: Buffer): Buffer => encodeBatchMessage(1, 1, [Buffer.concat([encodeFinding(fim(1)), e])]);
    for (const buf of [withEntry(entry([Buffer.concat([list('x'), list('y')])])), withEntry(entry([list('x'), list('y')]))]) {
      const merged = decode(T.AgentMessage, buf) as { batch: { findings: { fields: Record<string, unknown> }[] } };
      expect(merged.batch.findings[0]!.fields['a.b']).toEqual({ list: { values: ['x', 'y'] }, v: 'list' });
      expect(decodeBatchMessage(buf)).toBeUndefined();
    }
    // One list is the common case and stays on the fast path.
    const one = withEntry(entry([list('x')]));
    expect(decodeBatchMessage(one)).toEqual(decode(T.AgentMessage, one));
  });

  it('declines what reflection refuses though it could be read: field number 0, overlong tags and lengths (found by the fuzz test)', () => {
    const f = encodeFinding(fim(1));
    // Hand-made edge cases: an unknown field with number 0 (tag 0x02, length 0) appended to a finding;
    // the finding's tag (0x1a) written in 6 bytes; the finding's length written in 6 bytes.
    const fieldZero = encodeBatchMessage(2, 2, [Buffer.concat([f, Buffer.from([0x02, 0x00])])]);
    const inner = (tag: number[], len: number[]): Buffer => Buffer.concat([Buffer.from([0x08, 0x02, 0x10, 0x02, ...tag, ...len]), f]);
    const wrap = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0x12]), Buffer.from(varint7(b.length)), b]);
    const longTag = wrap(inner([0x9a, 0x80, 0x80, 0x80, 0x80, 0x00], varint7(f.length)));
    const longLength = wrap(inner([0x1a], [...varint7(f.length).map((b) => b | 0x80), 0x80, 0x80, 0x80, 0x80, 0x00].slice(0, 6)));
    expect(decodeBatchMessage(wrap(inner([0x1a], varint7(f.length))))).toEqual(decode(T.AgentMessage, wrap(inner([0x1a], varint7(f.length)))));
    for (const [name, buf] of [['field 0', fieldZero], ['6-byte tag', longTag], ['6-byte length', longLength]] as const) {
      expect(() => decode(T.AgentMessage, buf), name).toThrow();
      expect(decodeBatchMessage(buf), name).toBeUndefined();
    }
  });
});
