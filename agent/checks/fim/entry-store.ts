/**
 * The baseline's entries, kept off the JavaScript heap: every path as UTF-8 bytes in one growing
 * buffer, every entry as one fixed-size binary record in another, and an open-addressing hash
 * table (typed arrays) from path to record. Nothing per path lives on the heap but the few
 * symlink targets.
 *
 * Why: a baseline of /usr/share + /usr/bin is 55,000 paths. As JavaScript objects and strings it
 * is ≈ 30 MB of heap, and because all of it survives, V8 grows its young generation to the maximum
 * (another ≈ 25 MB of RSS) while building it. Here it is ≈ 9 MB of buffers, and the main thread
 * keeps almost nothing alive across garbage collections.
 *
 * Map-like: get/set/has/delete/keys/entries/size, iteration in insertion order. `get` decodes a
 * fresh Entry each time (callers may keep or change it; the store is not affected). A deleted
 * path leaves its bytes behind until the store is rebuilt (every rescan builds a new one).
 *
 * Record (little-endian, 80 bytes): type u8 | flags u8 (1: sha256, 2: symlink target) | mode u16 |
 * uid u32 | gid u32 | device index u32 | size f64 | mtime ns i64 | ctime ns i64 | inode u64 | sha256 32.
 */
import type { Entry, TrackedType } from './entry.js';

const REC = 80;
const TYPES: readonly TrackedType[] = ['file', 'dir', 'symlink'];
const TYPE_CODE: Record<TrackedType, number> = { file: 0, dir: 1, symlink: 2 };
const HAS_SHA = 1;
const HAS_TARGET = 2;

/** What walkers need from a baseline: a look-up by path. */
export interface EntryLookup {
  get(path: string): Entry | undefined;
}

/** FNV-1a over the UTF-16 code units (the same for a JavaScript string and its stored copy). */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function grown(buf: Buffer, need: number): Buffer {
  if (need <= buf.length) return buf;
  // Doubling, but by at most 8 MB at a time: a big baseline does not reserve twice its size.
  const size = Math.max(need, buf.length + Math.min(Math.max(buf.length, 64 * 1024), 8 * 1024 * 1024));
  const next = Buffer.allocUnsafe(size);
  buf.copy(next);
  return next;
}

function grownU32(a: Uint32Array, need: number): Uint32Array {
  if (need <= a.length) return a;
  const next = new Uint32Array(Math.max(need, a.length * 2, 1024));
  next.set(a);
  return next;
}

export class EntryStore implements EntryLookup, Iterable<[string, Entry]> {
  private paths: Buffer = Buffer.allocUnsafe(0);
  private offs: Uint32Array = new Uint32Array(1024);
  private hashes: Uint32Array = new Uint32Array(1024);
  private recs: Buffer = Buffer.allocUnsafe(0);
  private gone: Uint8Array = new Uint8Array(1024);
  /** Open addressing, linear probing: record index + 1, 0 = empty. Kept at most half full. */
  private table: Uint32Array = new Uint32Array(2048);
  private readonly targets = new Map<number, string>();
  private readonly devs: string[] = [];
  private readonly devIndex = new Map<string, number>();
  private n = 0;
  private bytes = 0;
  private count = 0;

  static from(entries: Iterable<readonly [string, Entry]>): EntryStore {
    const s = new EntryStore();
    for (const [p, e] of entries) s.set(p, e);
    return s;
  }

  get size(): number {
    return this.count;
  }

  /** The record index of `path` (deleted or not), or -1. */
  private find(path: string, h = hashOf(path)): number {
    const mask = this.table.length - 1;
    let key: Buffer | undefined;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = this.table[slot]!;
      if (v === 0) return -1;
      const i = v - 1;
      if (this.hashes[i] !== h) continue;
      key ??= Buffer.from(path);
      if (this.paths.compare(key, 0, key.length, this.offs[i]!, this.offs[i + 1]!) === 0) return i;
    }
  }

  private insert(i: number, h: number): void {
    const mask = this.table.length - 1;
    let slot = h & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = i + 1;
  }

  private rehash(): void {
    this.table = new Uint32Array(this.table.length * 2);
    for (let i = 0; i < this.n; i++) this.insert(i, this.hashes[i]!);
  }

  has(path: string): boolean {
    const i = this.find(path);
    return i >= 0 && this.gone[i] === 0;
  }

  get(path: string): Entry | undefined {
    const i = this.find(path);
    return i < 0 || this.gone[i] !== 0 ? undefined : this.decode(i);
  }

  set(path: string, e: Entry): this {
    const i = this.slot(path);
    this.encode(i, e);
    return this;
  }

  /**
   * Stores a record as the hash pool's workers write it (agent/host/hash-pool.ts: its first 80
   * bytes are this store's layout), with its device and symlink target, and the SHA-256 to keep
   * when the worker reused the old one. No Entry object is made.
   */
  setRecord(path: string, src: Buffer, off: number, dev: string, target: string | undefined, sha?: Buffer): void {
    const i = this.slot(path);
    const o = i * REC;
    src.copy(this.recs, o, off, off + REC);
    this.recs.writeUInt32LE(this.dev(dev), o + 12);
    let flags = this.recs[o + 1]! & HAS_SHA;
    if (sha && sha.length === 32) {
      sha.copy(this.recs, o + 48);
      flags |= HAS_SHA;
    }
    if (target !== undefined) {
      this.targets.set(i, target);
      flags |= HAS_TARGET;
    } else this.targets.delete(i);
    this.recs[o + 1] = flags;
  }

  /** The stored SHA-256 of a path as bytes (a view: copy it before the store changes), if it has one. */
  shaOf(path: string): Buffer | undefined {
    const i = this.find(path);
    if (i < 0 || this.gone[i] !== 0 || !(this.recs[i * REC + 1]! & HAS_SHA)) return undefined;
    return this.recs.subarray(i * REC + 48, i * REC + 80);
  }

  /** The record index for `path`, appended if new (or revived if deleted). */
  private slot(path: string): number {
    const h = hashOf(path);
    let i = this.find(path, h);
    if (i < 0) {
      i = this.n++;
      const len = Buffer.byteLength(path);
      this.paths = grown(this.paths, this.bytes + len);
      this.paths.write(path, this.bytes);
      this.offs = grownU32(this.offs, this.n + 1);
      this.offs[i] = this.bytes;
      this.bytes += len;
      this.offs[i + 1] = this.bytes;
      this.hashes = grownU32(this.hashes, this.n);
      this.hashes[i] = h;
      if (this.gone.length < this.n) {
        const g = new Uint8Array(this.hashes.length);
        g.set(this.gone);
        this.gone = g;
      }
      this.recs = grown(this.recs, this.n * REC);
      if (this.n * 2 > this.table.length) this.rehash();
      else this.insert(i, h);
      this.count++;
    } else if (this.gone[i] !== 0) {
      this.gone[i] = 0;
      this.count++;
    }
    return i;
  }

  delete(path: string): boolean {
    const i = this.find(path);
    if (i < 0 || this.gone[i] !== 0) return false;
    this.gone[i] = 1;
    this.targets.delete(i);
    this.count--;
    return true;
  }

  *keys(): IterableIterator<string> {
    for (let i = 0; i < this.n; i++) if (this.gone[i] === 0) yield this.paths.toString('utf8', this.offs[i]!, this.offs[i + 1]!);
  }

  *entries(): IterableIterator<[string, Entry]> {
    for (let i = 0; i < this.n; i++) if (this.gone[i] === 0) yield [this.paths.toString('utf8', this.offs[i]!, this.offs[i + 1]!), this.decode(i)];
  }

  [Symbol.iterator](): IterableIterator<[string, Entry]> {
    return this.entries();
  }

  private dev(d: string): number {
    let i = this.devIndex.get(d);
    if (i === undefined) {
      i = this.devs.length;
      this.devs.push(d);
      this.devIndex.set(d, i);
    }
    return i;
  }

  private encode(i: number, e: Entry): void {
    const b = this.recs;
    const o = i * REC;
    b.writeUInt8(TYPE_CODE[e.type], o);
    b.writeUInt8((e.sha256 !== undefined ? HAS_SHA : 0) | (e.target !== undefined ? HAS_TARGET : 0), o + 1);
    b.writeUInt16LE(e.mode & 0xffff, o + 2);
    b.writeUInt32LE(e.uid >>> 0, o + 4);
    b.writeUInt32LE(e.gid >>> 0, o + 8);
    b.writeUInt32LE(this.dev(e.dev), o + 12);
    b.writeDoubleLE(e.size, o + 16);
    b.writeBigInt64LE(BigInt(e.mtimeNs), o + 24);
    b.writeBigInt64LE(BigInt(e.ctimeNs), o + 32);
    b.writeBigUInt64LE(BigInt(e.ino), o + 40);
    if (e.sha256 !== undefined) b.write(e.sha256, o + 48, 32, 'hex');
    else b.fill(0, o + 48, o + 80);
    if (e.target !== undefined) this.targets.set(i, e.target);
    else this.targets.delete(i);
  }

  private decode(i: number): Entry {
    const b = this.recs;
    const o = i * REC;
    const flags = b.readUInt8(o + 1);
    const e: Entry = {
      type: TYPES[b.readUInt8(o)]!,
      size: b.readDoubleLE(o + 16),
      mode: b.readUInt16LE(o + 2),
      uid: b.readUInt32LE(o + 4),
      gid: b.readUInt32LE(o + 8),
      mtimeNs: b.readBigInt64LE(o + 24).toString(),
      ctimeNs: b.readBigInt64LE(o + 32).toString(),
      ino: b.readBigUInt64LE(o + 40).toString(),
      dev: this.devs[b.readUInt32LE(o + 12)]!,
    };
    if (flags & HAS_SHA) e.sha256 = b.toString('hex', o + 48, o + 80);
    if (flags & HAS_TARGET) {
      const t = this.targets.get(i);
      if (t !== undefined) e.target = t;
    }
    return e;
  }
}
