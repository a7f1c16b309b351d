/**
 * The collector's hot path: decoding AgentMessage{batch} straight into the plain objects the pipeline
 * reads, without protobufjs reflection's intermediate message objects and 64-bit `Long`s (measured:
 * decode was the largest item of the collector's CPU profile after SQLite, with a large share of its
 * garbage).
 *
 * It gives the same result as `decode(T.AgentMessage, buf)` for every well-formed batch (the test holds
 * it to that on agent-built batches and on random ones). Anything else — other message bodies, a
 * batch followed by more fields, a wire type that does not fit its field, truncation, invalid UTF-8,
 * two members of one `FieldValue` oneof, a repeated embedded message (which merges) — is handed back (`undefined`) to the reflection decoder, which
 * stays the judge of malformed input.
 */
import { isUtf8 } from 'node:buffer';
import type { WireFieldValue, WireFinding } from '../../proto/convert.js';

class Malformed extends Error {}

const TWO_32 = 4294967296;
/** Strings up to this many bytes go through the cache; a slot holds the last one that hashed there. */
const SHORT = 32;
const CACHE_SLOTS = 4096;
const cacheStrings: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
const cacheHashes = new Int32Array(CACHE_SLOTS);

class Cursor {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start;
  }

  /** A varint as two 32-bit halves (lo in `this.lo`, hi returned). */
  lo = 0;
  varint64(): number {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (; shift < 28; shift += 7) {
      if (this.pos >= this.end) throw new Malformed();
      const c = b[this.pos++]!;
      lo |= (c & 0x7f) << shift;
      if (c < 0x80) { this.lo = lo >>> 0; return 0; }
    }
    // byte 5: 4 bits to lo, 3 to hi
    if (this.pos >= this.end) throw new Malformed();
    let c = b[this.pos++]!;
    lo |= (c & 0x0f) << 28;
    hi = (c & 0x7f) >> 4;
    if (c < 0x80) { this.lo = lo >>> 0; return hi >>> 0; }
    for (shift = 3; shift < 32; shift += 7) {
      if (this.pos >= this.end) throw new Malformed();
      c = b[this.pos++]!;
      hi |= (c & 0x7f) << shift;
      if (c < 0x80) { this.lo = lo >>> 0; return hi >>> 0; }
    }
    throw new Malformed();
  }

  uint32(): number {
    this.varint64();
    return this.lo;
  }

  uint64(): number {
    const hi = this.varint64();
    return hi * TWO_32 + this.lo;
  }

  int64(): number {
    const hi = this.varint64();
    return (hi | 0) * TWO_32 + this.lo;
  }

  sint64(): number {
    const hi = this.varint64();
    const lo = this.lo;
    const mask = -(lo & 1);
    const l = (((lo >>> 1) | (hi << 31)) ^ mask) >>> 0;
    const h = ((hi >>> 1) ^ mask) | 0;
    return h * TWO_32 + l;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new Malformed();
    const d = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return d;
  }

  /**
   * A tag or a length prefix: a varint of at most 5 bytes whose value fits in `max5` bits of the fifth
   * byte (reflection refuses longer or larger encodings: "invalid tag encoding", "invalid length encoding").
   */
  varint32(max5: number): number {
    const b = this.buf;
    let v = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= this.end) throw new Malformed();
      const c = b[this.pos++]!;
      v |= (c & 0x7f) << shift;
      if (c < 0x80) return v >>> 0;
    }
    if (this.pos >= this.end) throw new Malformed();
    const c = b[this.pos++]!;
    if (c > max5) throw new Malformed();
    return (v | (c << 28)) >>> 0;
  }

  /** A field's tag (field number and wire type). */
  tag(): number {
    return this.varint32(0x0f);
  }

  /** End of a length-delimited field that starts here. */
  delimited(): number {
    const n = this.varint32(0x07);
    const end = this.pos + n;
    if (end > this.end) throw new Malformed();
    return end;
  }

  string(): string {
    const end = this.delimited();
    const b = this.buf;
    const start = this.pos;
    this.pos = end;
    const n = end - start;
    if (n <= SHORT) {
      // Short ASCII strings (field names, users, modes, kinds…) repeat all the time: taken from a small
      // cache when the bytes are the same, so they are neither rebuilt nor collected again.
      let h = n;
      let ascii = true;
      for (let i = start; i < end; i++) {
        const c = b[i]!;
        if (c >= 0x80) { ascii = false; break; }
        h = (Math.imul(h, 31) + c) | 0;
      }
      if (ascii) {
        const slot = h & (CACHE_SLOTS - 1);
        const hit = cacheStrings[slot];
        if (hit !== undefined && cacheHashes[slot] === h && hit.length === n) {
          let same = true;
          for (let i = 0; i < n; i++) if (hit.charCodeAt(i) !== b[start + i]) { same = false; break; }
          if (same) return hit;
        }
        const s = b.toString('latin1', start, end);
        cacheStrings[slot] = s;
        cacheHashes[slot] = h;
        return s;
      }
    }
    if (!isUtf8(b.subarray(start, end))) throw new Malformed();
    return b.toString('utf8', start, end);
  }

  /** Skips an unknown field; field number 0 is illegal (reflection refuses it), so is a group. */
  skip(tag: number): void {
    if (tag >>> 3 === 0) throw new Malformed();
    switch (tag & 7) {
      case 0: this.varint64(); break;
      case 1: this.pos += 8; break;
      case 2: this.pos = this.delimited(); break;
      case 5: this.pos += 4; break;
      default: throw new Malformed(); // groups: let reflection judge
    }
    if (this.pos > this.end) throw new Malformed();
  }
}

function stringList(c: Cursor, end: number): string[] {
  const values: string[] = [];
  while (c.pos < end) {
    if (c.tag() !== ((1 << 3) | 2)) throw new Malformed();
    values.push(c.string());
  }
  if (c.pos !== end) throw new Malformed();
  return values;
}

const FIELD_VALUE_MEMBERS: readonly (string | undefined)[] = [undefined, 's', 'i', 'd', 'b', 'list'];

function fieldValue(c: Cursor, end: number): WireFieldValue {
  let out: WireFieldValue = {};
  while (c.pos < end) {
    const tag = c.tag();
    // Two different members of the oneof in one value: reflection keeps both, so let it decide.
    if (out.v !== undefined && out.v !== FIELD_VALUE_MEMBERS[tag >>> 3]) throw new Malformed();
    switch (tag) {
      case (1 << 3) | 2: out = { s: c.string(), v: 's' }; break;
      case (2 << 3) | 0: out = { i: c.sint64(), v: 'i' }; break;
      case (3 << 3) | 1: out = { d: c.double(), v: 'd' }; break;
      case (4 << 3) | 0: c.varint64(); out = { b: c.lo !== 0, v: 'b' }; break;
      case (5 << 3) | 2: {
        // A second list in one value merges with the first (an embedded message repeated): reflection's job.
        if (out.v === 'list') throw new Malformed();
        const e = c.delimited();
        out = { list: { values: stringList(c, e) }, v: 'list' };
        break;
      }
      default: throw new Malformed();
    }
  }
  if (c.pos !== end) throw new Malformed();
  return out;
}

function finding(c: Cursor, end: number): WireFinding {
  const f: WireFinding = { id: '', seq: 0, observedAtMs: 0, check: '', kind: '', stateKey: '', snapshotId: '', snapshotTotal: 0, fields: {} };
  while (c.pos < end) {
    const tag = c.tag();
    switch (tag) {
      case (1 << 3) | 2: f.id = c.string(); break;
      case (2 << 3) | 0: f.seq = c.uint64(); break;
      case (3 << 3) | 0: f.observedAtMs = c.int64(); break;
      case (4 << 3) | 2: f.check = c.string(); break;
      case (5 << 3) | 2: f.kind = c.string(); break;
      case (6 << 3) | 2: f.stateKey = c.string(); break;
      case (7 << 3) | 2: f.snapshotId = c.string(); break;
      case (8 << 3) | 0: f.snapshotTotal = c.uint32(); break;
      case (9 << 3) | 2: {
        const e = c.delimited();
        let key = '';
        let value: WireFieldValue | undefined;
        while (c.pos < e) {
          const t = c.tag();
          if (t === ((1 << 3) | 2)) key = c.string();
          else if (t === ((2 << 3) | 2)) {
            // A second value in one entry is merged into the first by reflection: let it decide.
            if (value !== undefined) throw new Malformed();
            const ve = c.delimited();
            value = fieldValue(c, ve);
          }
          else throw new Malformed();
        }
        if (c.pos !== e || value === undefined || key === '__proto__') throw new Malformed();
        f.fields[key] = value;
        break;
      }
      default:
        if ((tag >>> 3) >= 1 && (tag >>> 3) <= 9) throw new Malformed();
        c.skip(tag);
    }
  }
  if (c.pos !== end) throw new Malformed();
  return f;
}

/**
 * `{ body: 'batch', batch: { firstSeq, lastSeq, findings } }` when `buf` is exactly one well-formed
 * AgentMessage{batch}; `undefined` for anything else (decode it with reflection).
 */
export function decodeBatchMessage(buf: Buffer): Record<string, unknown> | undefined {
  try {
    const c = new Cursor(buf, 0, buf.length);
    if (c.tag() !== ((2 << 3) | 2)) return undefined;
    const end = c.delimited();
    if (end !== buf.length) return undefined;
    const batch = { firstSeq: 0, lastSeq: 0, findings: [] as WireFinding[] };
    while (c.pos < end) {
      const tag = c.tag();
      if (tag === ((1 << 3) | 0)) batch.firstSeq = c.uint64();
      else if (tag === ((2 << 3) | 0)) batch.lastSeq = c.uint64();
      else if (tag === ((3 << 3) | 2)) { const e = c.delimited(); batch.findings.push(finding(c, e)); }
      else if ((tag >>> 3) >= 1 && (tag >>> 3) <= 3) return undefined;
      else c.skip(tag);
    }
    if (c.pos !== end) return undefined;
    return { batch, body: 'batch' };
  } catch (e) {
    if (e instanceof Malformed) return undefined;
    throw e;
  }
}
