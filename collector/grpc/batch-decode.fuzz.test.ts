/**
 * Differential fuzzing of the hot-path batch decoder against protobufjs reflection (the oracle it must
 * never contradict). Seeded mutations of valid agent batches — truncation, bit flips, wrong wire types,
 * huge and negative length prefixes, overlong and overflowing varints, nested garbage, invalid UTF-8 —
 * and for every input: the decoder never throws; when it accepts, reflection accepts too and gives the
 * same object; when it declines (`undefined`), reflection's verdict is the one the server uses.
 * Bounded: a fixed number of inputs and a wall-clock cap well under 10 s.
 */
import { describe, expect, it } from 'vitest';
import type { Finding, FieldValue } from '../../common/finding.js';
import { prng } from '../../common/prng.js';
import { toWire } from '../../proto/convert.js';
import { T, decode, encode, encodeBatchMessage } from '../../proto/index.js';
import { decodeBatchMessage } from './batch-decode.js';

/** Another seed or a longer run: CANHGAC_FUZZ_SEED=… CANHGAC_FUZZ_INPUTS=… (the suite runs the fixed one). */
const SEED = Number(process.env.CANHGAC_FUZZ_SEED ?? 0x5eed_2811);
const INPUTS = Number(process.env.CANHGAC_FUZZ_INPUTS ?? 30_000);
const BUDGET_MS = process.env.CANHGAC_FUZZ_INPUTS ? Infinity : 8_000;

const rnd = prng(SEED);
const int = (n: number): number => Math.floor(rnd() * n);
const pick = <X>(xs: readonly X[]): X => xs[int(xs.length)]!;

const STRINGS = ['', 'a', 'fim', 'package', 'Canh Gác', 'đang kiểm tra', '日本語', '🙂', 'x'.repeat(40), '/etc/passwd', 'libc6:amd64'];
function value(): FieldValue {
  switch (int(5)) {
    case 0: return pick(STRINGS);
    case 1: return pick([0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, int(1e6)]);
    case 2: return (rnd() - 0.5) * 1e12;
    case 3: return rnd() < 0.5;
    default: return Array.from({ length: int(3) }, () => pick(STRINGS));
  }
}
function finding(i: number): Finding {
  return {
    id: `f-${i}-${pick(STRINGS)}`, seq: pick([1 + i, 2 ** 32 + i, Number.MAX_SAFE_INTEGER]), observedAt: new Date(1_764_000_000_000 + i).toISOString(),
    check: pick(STRINGS), kind: pick(['fim', 'package', 'listener']), stateKey: pick(STRINGS), snapshotId: pick(STRINGS), snapshotTotal: pick([0, 1, 7]),
    fields: Object.fromEntries(Array.from({ length: int(5) }, (_, k) => [`f.${k}.${pick(['a', 'ă'])}`, value()])),
  };
}
const encodeFinding = (f: Finding): Buffer => encode(T.Finding, toWire(f) as unknown as Record<string, unknown>);
const delimited = (field: number, body: Buffer): Buffer => Buffer.concat([Buffer.from(varint(BigInt((field << 3) | 2))), Buffer.from(varint(BigInt(body.length))), body]);
/**
 * A well-framed `fields` map entry that no agent writes but the wire allows: a value with several oneof
 * members or the same member repeated (a repeated embedded message merges), an entry with two values.
 */
function oddEntry(): Buffer {
  // Often one member kind throughout, so repeats of the same member (which must merge) are common.
  const only = int(2) ? int(5) : -1;
  const member = (): Buffer => {
    switch (only >= 0 ? only : int(5)) {
      case 0: return delimited(1, Buffer.from(pick(STRINGS)));
      case 1: return Buffer.from([(2 << 3) | 0, ...varint(BigInt(int(1000)))]);
      case 2: { const b = Buffer.alloc(9); b[0] = (3 << 3) | 1; b.writeDoubleLE(rnd() * 100, 1); return b; }
      case 3: return Buffer.from([(4 << 3) | 0, int(2)]);
      default: return delimited(5, Buffer.concat(Array.from({ length: 1 + int(2) }, () => delimited(1, Buffer.from(pick(STRINGS))))));
    }
  };
  const value = (): Buffer => delimited(2, Buffer.concat(Array.from({ length: 1 + int(3) }, member)));
  return delimited(9, Buffer.concat([delimited(1, Buffer.from(`odd.${int(3)}`)), ...Array.from({ length: 1 + int(2) }, value)]));
}
function validBatch(): Buffer {
  const fs = Array.from({ length: 1 + int(4) }, (_, i) => finding(i));
  const encoded = fs.map((f) => (int(3) ? encodeFinding(f) : Buffer.concat([encodeFinding(f), ...Array.from({ length: 1 + int(2) }, oddEntry)])));
  return encodeBatchMessage(fs[0]!.seq, fs.at(-1)!.seq, encoded);
}

/** A varint's bytes (non-canonical forms on request). */
function varint(n: bigint, overlong = 0): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n || overlong > 0) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  for (let i = 0; i < overlong; i++) out.push(i === overlong - 1 ? 0 : 0x80);
  return out;
}

const splice = (b: Buffer, at: number, remove: number, insert: readonly number[] | Buffer): Buffer =>
  Buffer.concat([b.subarray(0, at), Buffer.from(insert), b.subarray(Math.min(b.length, at + remove))]);

/** One seeded mutation of `b`; several may be stacked. */
function mutate(b: Buffer): Buffer {
  const at = int(b.length + 1);
  switch (int(11)) {
    case 0: return b.subarray(0, at); // truncation
    case 1: { // bit flips
      const c = Buffer.from(b);
      for (let k = 1 + int(3); k > 0 && c.length; k--) c[int(c.length)]! ^= 1 << int(8);
      return c;
    }
    case 2: { // a byte that was a tag gets another wire type (0..7)
      const c = Buffer.from(b);
      if (c.length) { const i = int(c.length); c[i] = (c[i]! & ~7) | int(8); }
      return c;
    }
    case 3: // huge or negative length prefix / varint value inserted
      return splice(b, at, int(3), varint(pick([2n ** 31n - 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n, -1n, -(2n ** 31n), BigInt(b.length), BigInt(b.length - at)])));
    case 4: // overlong varint (padding continuation bytes), and 11-byte varints
      return splice(b, at, 1, int(2) ? varint(BigInt(b[at] ?? 0), 1 + int(9)) : Array.from({ length: 11 }, (_, i) => (i < 10 ? 0xff : 0x01)));
    case 5: { // nested garbage: a length-delimited field of random bytes with a random number
      const junk = Array.from({ length: int(24) }, () => int(256));
      return splice(b, at, 0, [...varint(BigInt(((1 + int(20)) << 3) | 2)), ...varint(BigInt(junk.length)), ...junk]);
    }
    case 6: { // invalid UTF-8 in a string's bytes
      const c = Buffer.from(b);
      if (c.length) c[int(c.length)] = pick([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xf4]);
      return c;
    }
    case 7: // random bytes inserted or removed
      return int(2) ? splice(b, at, 0, Array.from({ length: 1 + int(4) }, () => int(256))) : splice(b, at, 1 + int(4), []);
    case 8: // a piece repeated (duplicate fields, fields of one message landing in another)
      { const from = int(b.length + 1); return splice(b, at, 0, b.subarray(from, from + int(32))); }
    case 9: // a known field number with each wire type and a value
      return splice(b, at, 0, [...varint(BigInt(((1 + int(9)) << 3) | int(6))), ...varint(BigInt(int(300)))]);
    default: // pure noise of a plausible size
      return Buffer.from(Array.from({ length: int(64) }, () => int(256)));
  }
}

type Verdict = { ok: true; value: unknown } | { ok: false; error: string };
function reflection(buf: Buffer): Verdict {
  try {
    return { ok: true, value: decode(T.AgentMessage, buf) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

describe('decodeBatchMessage (differential fuzz against reflection)', () => {
  it(`never contradicts reflection on ${INPUTS} seeded mutations (seed ${SEED})`, () => {
    const started = Date.now();
    const seeds = Array.from({ length: 200 }, validBatch);
    let n = 0;
    let accepted = 0;
    let acceptedMutated = 0;
    let declined = 0;
    let refusedByBoth = 0;
    for (; n < INPUTS && Date.now() - started < BUDGET_MS; n++) {
      const original = pick(seeds);
      let buf = original;
      // One in five as generated (the odd but well-framed entries must agree too), the rest mutated 1–3 times.
      for (let k = int(5) ? 1 + int(3) : 0; k > 0; k--) buf = mutate(buf);
      let fast: Record<string, unknown> | undefined;
      try {
        fast = decodeBatchMessage(buf);
      } catch (e) {
        expect.fail(`input ${n} (${buf.toString('hex')}): the decoder threw ${(e as Error).message}`);
      }
      const oracle = reflection(buf);
      if (fast === undefined) {
        declined++;
        if (!oracle.ok) refusedByBoth++;
        continue;
      }
      accepted++;
      if (!buf.equals(original)) acceptedMutated++;
      if (!oracle.ok) expect.fail(`input ${n} (${buf.toString('hex')}): decoder accepted what reflection refuses (${oracle.error})`);
      expect(fast, `input ${n} (${buf.toString('hex')})`).toEqual(oracle.value);
    }
    // The run must have exercised both paths, on mutated inputs, and not just hit the time cap early.
    expect(n).toBeGreaterThan(5_000);
    expect(acceptedMutated).toBeGreaterThan(100);
    expect(declined).toBeGreaterThan(1_000);
    expect(refusedByBoth).toBeGreaterThan(100);
    expect(accepted + declined).toBe(n);
  }, process.env.CANHGAC_FUZZ_INPUTS ? 600_000 : 15_000);

  it('never allocates from a length prefix: a 4 GiB claim in a tiny message is declined at once', () => {
    for (const claim of [2n ** 32n - 1n, 2n ** 31n, 2n ** 63n, -1n]) {
      const buf = Buffer.from([0x12, ...varint(claim), 0x08, 0x01]);
      const before = process.memoryUsage().arrayBuffers;
      const t = process.hrtime.bigint();
      expect(decodeBatchMessage(buf)).toBeUndefined();
      expect(Number(process.hrtime.bigint() - t) / 1e6).toBeLessThan(50);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
      expect(reflection(buf).ok).toBe(false);
    }
  });
});
