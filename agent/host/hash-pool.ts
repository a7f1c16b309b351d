/**
 * Looking at many files at once for file integrity monitoring: lstat, open (never following a
 * link, never blocking on a FIFO, not touching atime), fstat and SHA-256, in worker threads, one per
 * core by default. The main thread only hands out paths in batches and takes back one binary
 * buffer per batch, so it stays free for timers, sockets and real-time events while a baseline is
 * built, and allocates almost nothing per file.
 *
 * Memory is bounded: each worker reads through one 1 MiB buffer (streaming; a file is never held
 * whole), callers bound how many looks they leave waiting (the FIM walker: a few thousand), and the
 * workers are stopped after `idleMs` without work, so an agent at rest carries no threads.
 *
 * The worker's code is a string evaluated by `new Worker(…, { eval: true })`: it then runs the same
 * from the TypeScript sources (tests) and from the compiled `dist/` (the agent), with no loader.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FileFacts } from './files.js';

/** What one look at a path found. */
export type LookOutcome =
  /** The path, as lstat/fstat saw it; `sha256` for regular files up to the limit that were read. */
  /** `names`: a directory's entries, separated by NUL ('' when empty). */
  | { kind: 'found'; facts: HashedFacts; reused: boolean; names?: string; listError?: string }
  /** Gone (or a parent is no longer a directory). */
  | { kind: 'gone' }
  /** Could not be looked at: the errno code (EACCES, EIO…). */
  | { kind: 'failed'; code: string };

/** Facts of what was looked at, with the SHA-256 of a regular file that was read. */
export type HashedFacts = FileFacts & { sha256?: string };

export interface LookRequest {
  path: string;
  /** Read and hash it if it is a regular file (false: metadata only). */
  hash: boolean;
  /** List it if it is a directory (the names come back in `names`). */
  list: boolean;
  /**
   * `statKey` of what the baseline holds: when lstat still gives the same key the file is not read
   * again (`reused: true`, no sha256 — the caller keeps the old one).
   */
  reuse?: string;
  maxHashBytes: number;
}

export interface HashPool {
  readonly threads: number;
  /** One look, decoded into objects (for a few paths). */
  look(req: LookRequest): Promise<LookOutcome>;
  /** One look, answered in place as a binary record (for walks: no object per path). */
  lookRaw(req: LookRequest, done: (r: RawLook) => void): void;
  /** Stops the workers; looks still waiting fail with code ECANCELED. */
  close(): Promise<void>;
}

export interface HashPoolOptions {
  /** Worker threads; 0 = one per core (`os.availableParallelism()`). */
  threads?: number;
  /** Paths per message to a worker. */
  batch?: number;
  /** Stop idle workers after this long. */
  idleMs?: number;
}

/** Same size, mtime, ctime, inode and device: the content is taken to be unchanged. */
export function statKey(f: Pick<FileFacts, 'size' | 'mtimeNs' | 'ctimeNs' | 'ino' | 'dev'>): string {
  return `${f.size}:${f.mtimeNs}:${f.ctimeNs}:${f.ino}:${f.dev}`;
}

/**
 * The answer to each look is a fixed-size binary record in one buffer per batch, moved (not
 * copied) back to the calling thread; only symlink targets, directory listings and error codes
 * travel as strings. Layout (little-endian; bytes 0–79 are the FIM baseline record of
 * agent/checks/fim/entry-store.ts, so walkers copy them as they are):
 *
 *   0 type u8 (0 file, 1 dir, 2 symlink, 3 other) | 1 flags u8 (1: sha256 present) | 2 mode u16 |
 *   4 uid u32 | 8 gid u32 | 12 (unused) | 16 size f64 | 24 mtime ns i64 | 32 ctime ns i64 |
 *   40 inode u64 | 48 sha256 (32) | 80 device u64 | 88 status u8 (0 gone, 1 found, 2 failed) |
 *   89 extra u8 (1 reused: unchanged stat, not read; 2 names present; 4 listing failed)
 */
export const RECORD_BYTES = 96;
export const REC = { type: 0, flags: 1, mode: 2, uid: 4, gid: 8, size: 16, mtime: 24, ctime: 32, ino: 40, sha: 48, dev: 80, status: 88, extra: 89 } as const;
export const STATUS = { gone: 0, found: 1, failed: 2 } as const;
export const EXTRA = { reused: 1, names: 2, listError: 4 } as const;
const TYPE_NAMES = ['file', 'dir', 'symlink', 'other'] as const;

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const C = fs.constants;
const BASE = C.O_RDONLY | (C.O_NOFOLLOW || 0) | (C.O_NONBLOCK || 0);
const NOATIME = C.O_NOATIME || 0;
let noatime = NOATIME !== 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const chunk = Buffer.allocUnsafe(1024 * 1024);
const GONE = new Set(['ENOENT', 'ENOTDIR']);
const R = ${RECORD_BYTES};

function typeCode(st) {
  if (st.isFile()) return 0;
  if (st.isDirectory()) return 1;
  if (st.isSymbolicLink()) return 2;
  return 3;
}
function put(out, o, st) {
  out[o] = typeCode(st);
  out.writeUInt16LE(Number(st.mode & 0o7777n), o + 2);
  out.writeUInt32LE(Number(st.uid), o + 4);
  out.writeUInt32LE(Number(st.gid), o + 8);
  out.writeDoubleLE(Number(st.size), o + 16);
  out.writeBigInt64LE(st.mtimeNs, o + 24);
  out.writeBigInt64LE(st.ctimeNs, o + 32);
  out.writeBigUInt64LE(st.ino, o + 40);
  out.writeBigUInt64LE(st.dev, o + 80);
}
function openForRead(p) {
  if (noatime) {
    try { return fs.openSync(p, BASE | NOATIME); } catch (e) {
      // O_NOATIME is refused for files the agent does not own unless it has CAP_FOWNER.
      if (e.code !== 'EPERM') throw e;
      if (!isRoot) noatime = false;
    }
  }
  return fs.openSync(p, BASE);
}
// Fills record o; returns the string that goes with it (symlink target, names, error code) or undefined.
function look(out, o, path, hash, list, reuse, max) {
  try {
    const st = fs.lstatSync(path, { bigint: true, throwIfNoEntry: false });
    if (!st) { out[o + 88] = 0; return undefined; }
    out[o + 88] = 1;
    put(out, o, st);
    const type = out[o];
    if (type === 2) return fs.readlinkSync(path);
    if (type === 1) {
      if (!list) return undefined;
      // One string, names separated by NUL (which no name can hold): a directory of 18,000 names
      // is one allocation for the caller instead of 18,000 strings.
      try { const names = fs.readdirSync(path).join('\0'); out[o + 89] |= 2; return names; } catch (e) {
        if (GONE.has(e.code)) { out[o + 88] = 0; return undefined; }
        out[o + 89] |= 4;
        return String(e.code || 'EIO');
      }
    }
    if (type !== 0 || !hash) return undefined;
    if (reuse !== null && st.size + ':' + st.mtimeNs + ':' + st.ctimeNs + ':' + st.ino + ':' + st.dev === reuse) { out[o + 89] |= 1; return undefined; }
    if (Number(st.size) > max) return undefined;
    let fd;
    try { fd = openForRead(path); } catch (e) {
      if (GONE.has(e.code)) { out[o + 88] = 0; return undefined; }
      // It became a symlink since the lstat: report it as one, never read through it.
      if (e.code === 'ELOOP' || e.code === 'EMLINK') return look(out, o, path, false, false, null, 0);
      throw e;
    }
    try {
      const g = fs.fstatSync(fd, { bigint: true });
      put(out, o, g);
      if (out[o] !== 0 || Number(g.size) > max) return undefined;
      const h = createHash('sha256');
      const size = Number(g.size);
      let total = 0;
      // Up to the size fstat gave: what is appended meanwhile is the next change.
      while (total < size) {
        const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - total), null);
        if (n === 0) break;
        total += n;
        h.update(n === chunk.length ? chunk : chunk.subarray(0, n));
      }
      h.digest().copy(out, o + 48);
      out[o + 1] = 1;
      return undefined;
    } finally { fs.closeSync(fd); }
  } catch (e) {
    if (GONE.has(e && e.code)) { out[o + 88] = 0; return undefined; }
    out[o + 88] = 2;
    return String((e && e.code) || 'EIO');
  }
}
parentPort.on('message', (m) => {
  const n = m.jobs.length;
  const out = Buffer.alloc(n * R);
  const strs = new Array(n);
  for (let i = 0; i < n; i++) {
    const j = m.jobs[i];
    strs[i] = look(out, i * R, j[0], j[1], j[2], j[3], j[4]);
  }
  parentPort.postMessage({ id: m.id, buf: out.buffer, strs }, [out.buffer]);
});
`;

type Job = [path: string, hash: boolean, list: boolean, reuse: string | null, max: number];

/** A look's answer in place: the record at `off` in `buf` (valid only during the callback) and its string. */
export interface RawLook {
  buf: Buffer;
  off: number;
  /** Symlink target, NUL-separated directory names, or the error code. */
  str: string | undefined;
}

type Waiter = (r: RawLook) => void;
interface Batch { id: number; jobs: Job[]; waiters: Waiter[] }
interface Slot { worker: Worker; inFlight: Map<number, Batch>; dead: boolean }

/** Batches in flight per worker: one being hashed, one waiting, so a worker never idles between. */
const IN_FLIGHT_PER_WORKER = 2;

// Every device number in a tree is the same handful: keep one string for each.
const devNames = new Map<number, string>();
/** The device number of a record, as the decimal string FIM keeps. */
export function deviceOf(buf: Buffer, off: number): string {
  const lo = buf.readUInt32LE(off + REC.dev);
  const hi = buf.readUInt32LE(off + REC.dev + 4);
  if (hi !== 0) return buf.readBigUInt64LE(off + REC.dev).toString();
  let s = devNames.get(lo);
  if (s === undefined) {
    s = String(lo);
    if (devNames.size < 1024) devNames.set(lo, s);
  }
  return s;
}

/** Decodes a raw look into objects (for callers that look at a few paths). */
export function toOutcome({ buf, off, str }: RawLook): LookOutcome {
  const status = buf[off + REC.status];
  if (status === STATUS.gone) return { kind: 'gone' };
  if (status === STATUS.failed) return { kind: 'failed', code: str ?? 'EIO' };
  const facts: HashedFacts = {
    type: TYPE_NAMES[buf[off + REC.type]!]!,
    size: buf.readDoubleLE(off + REC.size),
    mode: buf.readUInt16LE(off + REC.mode),
    uid: buf.readUInt32LE(off + REC.uid),
    gid: buf.readUInt32LE(off + REC.gid),
    mtimeNs: buf.readBigInt64LE(off + REC.mtime).toString(),
    ctimeNs: buf.readBigInt64LE(off + REC.ctime).toString(),
    ino: buf.readBigUInt64LE(off + REC.ino).toString(),
    dev: deviceOf(buf, off),
  };
  if (buf[off + REC.flags]! & 1) facts.sha256 = buf.toString('hex', off + REC.sha, off + REC.sha + 32);
  if (facts.type === 'symlink' && str !== undefined) facts.target = str;
  const extra = buf[off + REC.extra]!;
  const o: LookOutcome = { kind: 'found', facts, reused: (extra & EXTRA.reused) !== 0 };
  if (extra & EXTRA.names) o.names = str ?? '';
  if (extra & EXTRA.listError) o.listError = str ?? 'EIO';
  return o;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

export function createHashPool(opts: HashPoolOptions = {}): HashPool {
  const threads = opts.threads && opts.threads > 0 ? opts.threads : defaultThreads();
  const batchSize = opts.batch ?? 16;
  const idleMs = opts.idleMs ?? 5_000;
  const slots: Slot[] = [];
  const queue: Batch[] = [];
  let open: Batch | undefined;
  let flushQueued = false;
  let outstanding = 0;
  let nextId = 1;
  let closed = false;
  let idleTimer: NodeJS.Timeout | undefined;

  function fail(batch: Batch, code: string): void {
    outstanding -= batch.waiters.length;
    const buf = Buffer.alloc(RECORD_BYTES);
    buf[REC.status] = STATUS.failed;
    for (const w of batch.waiters) w({ buf, off: 0, str: code });
  }

  function spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      name: 'canhgac-fim-hash',
      // Small heaps: a worker holds one batch of paths and one read buffer.
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, inFlight: new Map(), dead: false };
    worker.on('message', (m: { id: number; buf: ArrayBuffer; strs: (string | undefined)[] }) => {
      const batch = slot.inFlight.get(m.id);
      if (!batch) return;
      slot.inFlight.delete(m.id);
      outstanding -= batch.waiters.length;
      const buf = Buffer.from(m.buf);
      for (let i = 0; i < batch.waiters.length; i++) batch.waiters[i]!({ buf, off: i * RECORD_BYTES, str: m.strs[i] });
      pump();
    });
    const die = (): void => {
      if (slot.dead) return;
      slot.dead = true;
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
      for (const b of slot.inFlight.values()) fail(b, closed ? 'ECANCELED' : 'EWORKER');
      slot.inFlight.clear();
      if (!closed) pump();
    };
    worker.on('error', die);
    worker.on('exit', die);
    worker.unref();
    slots.push(slot);
    return slot;
  }

  function setRef(): void {
    // Keep the process alive only while there is work (an agent run with --once must not hang).
    for (const s of slots) {
      if (s.inFlight.size > 0) s.worker.ref();
      else s.worker.unref();
    }
  }

  function pump(): void {
    while (queue.length > 0 && !closed) {
      while (slots.length < threads) spawn();
      let best: Slot | undefined;
      for (const s of slots) if (s.inFlight.size < IN_FLIGHT_PER_WORKER && (!best || s.inFlight.size < best.inFlight.size)) best = s;
      if (!best) break;
      const batch = queue.shift()!;
      best.inFlight.set(batch.id, batch);
      best.worker.postMessage({ id: batch.id, jobs: batch.jobs });
    }
    setRef();
    armIdle();
  }

  function armIdle(): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
    if (outstanding > 0 || slots.length === 0) return;
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      if (outstanding > 0) return;
      for (const s of slots.splice(0)) {
        s.dead = true;
        void s.worker.terminate();
      }
    }, idleMs);
    idleTimer.unref();
  }

  function enqueue(req: LookRequest, done: Waiter): void {
    if (closed) {
      const buf = Buffer.alloc(RECORD_BYTES);
      buf[REC.status] = STATUS.failed;
      done({ buf, off: 0, str: 'ECANCELED' });
      return;
    }
    if (!open) open = { id: nextId++, jobs: [], waiters: [] };
    open.jobs.push([req.path, req.hash, req.list, req.reuse ?? null, req.maxHashBytes]);
    open.waiters.push(done);
    outstanding++;
    if (idleTimer) { clearTimeout(idleTimer); idleTimer = undefined; }
    if (open.jobs.length >= batchSize) seal();
    else if (!flushQueued) {
      // A partial batch goes out once the caller yields, so single looks are not held back.
      flushQueued = true;
      setImmediate(() => { flushQueued = false; seal(); });
    }
  }

  function seal(): void {
    if (!open) return;
    queue.push(open);
    open = undefined;
    pump();
  }

  return {
    threads,
    look(req) {
      return new Promise<LookOutcome>((resolve) => enqueue(req, (r) => resolve(toOutcome(r))));
    },
    lookRaw(req, done) {
      enqueue(req, done);
    },
    async close() {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      if (open) { queue.push(open); open = undefined; }
      for (const b of queue.splice(0)) fail(b, 'ECANCELED');
      const all = slots.splice(0);
      await Promise.all(all.map(async (s) => {
        for (const b of s.inFlight.values()) fail(b, 'ECANCELED');
        s.inFlight.clear();
        s.dead = true;
        await s.worker.terminate();
      }));
    },
  };
}
