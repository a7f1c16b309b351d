/**
 * Looking at many files at once for file integrity monitoring: lstat, open (never following a
 * link, never blocking on a FIFO, not touching atime), fstat and SHA-256, in worker threads, one per
 * core by default. The main thread only hands out paths in batches and takes back small result
 * objects, so it stays free for timers, sockets and real-time events while a baseline is built.
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
  look(req: LookRequest): Promise<LookOutcome>;
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
const buf = Buffer.allocUnsafe(1024 * 1024);
const GONE = new Set(['ENOENT', 'ENOTDIR']);

function typeOf(st) {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}
function factsOf(st) {
  return {
    type: typeOf(st), size: Number(st.size), mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid),
    mtimeNs: st.mtimeNs.toString(), ctimeNs: st.ctimeNs.toString(), ino: st.ino.toString(), dev: st.dev.toString(),
  };
}
function keyOf(f) { return f.size + ':' + f.mtimeNs + ':' + f.ctimeNs + ':' + f.ino + ':' + f.dev; }
function lstatFacts(p) {
  const st = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
  if (!st) return 0;
  const f = factsOf(st);
  if (f.type === 'symlink') f.target = fs.readlinkSync(p);
  return f;
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
// 0: gone; { error }: could not look; else { f: facts (+ sha256), r: reused, n: names, x: listing error }.
function look(path, hash, list, reuse, max) {
  try {
    const f = lstatFacts(path);
    if (f === 0) return 0;
    if (f.type === 'dir') {
      if (!list) return { f };
      // One string, names separated by NUL (which no name can hold): a directory of 18,000 names
      // is one allocation for the caller instead of 18,000 strings.
      try { return { f, n: fs.readdirSync(path).join('\0') }; } catch (e) {
        if (GONE.has(e.code)) return 0;
        return { f, x: String(e.code || 'EIO') };
      }
    }
    if (f.type !== 'file' || !hash) return { f };
    if (reuse !== null && keyOf(f) === reuse) return { f, r: 1 };
    if (f.size > max) return { f };
    let fd;
    try { fd = openForRead(path); } catch (e) {
      if (GONE.has(e.code)) return 0;
      // It became a symlink since the lstat: report it as one, never read through it.
      if (e.code === 'ELOOP' || e.code === 'EMLINK') { const l = lstatFacts(path); return l === 0 ? 0 : { f: l }; }
      throw e;
    }
    try {
      const g = factsOf(fs.fstatSync(fd, { bigint: true }));
      if (g.type !== 'file' || g.size > max) return { f: g };
      const h = createHash('sha256');
      let total = 0;
      // Up to the size fstat gave: what is appended meanwhile is the next change.
      while (total < g.size) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, g.size - total), null);
        if (n === 0) break;
        total += n;
        h.update(n === buf.length ? buf : buf.subarray(0, n));
      }
      g.sha256 = h.digest('hex');
      return { f: g };
    } finally { fs.closeSync(fd); }
  } catch (e) {
    if (GONE.has(e && e.code)) return 0;
    return { error: String((e && e.code) || 'EIO') };
  }
}
parentPort.on('message', (m) => {
  const out = new Array(m.jobs.length);
  for (let i = 0; i < m.jobs.length; i++) {
    const j = m.jobs[i];
    out[i] = look(j[0], j[1], j[2], j[3], j[4]);
  }
  parentPort.postMessage({ id: m.id, out });
});
`;

type Job = [path: string, hash: boolean, list: boolean, reuse: string | null, max: number];
type RawOut = 0 | { error: string } | { f: HashedFacts; r?: 1; n?: string; x?: string };
interface Waiter { resolve(o: LookOutcome): void }
interface Batch { id: number; jobs: Job[]; waiters: Waiter[] }
interface Slot { worker: Worker; inFlight: Map<number, Batch>; dead: boolean }

/** Batches in flight per worker: one being hashed, one waiting, so a worker never idles between. */
const IN_FLIGHT_PER_WORKER = 2;

// Every device number in a tree is the same handful: keep one string for each.
const devNames = new Map<string, string>();
function intern(dev: string): string {
  const s = devNames.get(dev);
  if (s !== undefined) return s;
  if (devNames.size < 1024) devNames.set(dev, dev);
  return dev;
}

function toOutcome(raw: RawOut): LookOutcome {
  if (raw === 0) return { kind: 'gone' };
  if ('error' in raw) return { kind: 'failed', code: raw.error };
  // The facts object is used as it came (no copy): a baseline keeps ~50k of them.
  raw.f.dev = intern(raw.f.dev);
  const o: LookOutcome = { kind: 'found', facts: raw.f, reused: raw.r === 1 };
  if (raw.n !== undefined) o.names = raw.n;
  if (raw.x !== undefined) o.listError = raw.x;
  return o;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

export function createHashPool(opts: HashPoolOptions = {}): HashPool {
  const threads = opts.threads && opts.threads > 0 ? opts.threads : defaultThreads();
  const batchSize = opts.batch ?? 32;
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
    for (const w of batch.waiters) w.resolve({ kind: 'failed', code });
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
    worker.on('message', (m: { id: number; out: RawOut[] }) => {
      const batch = slot.inFlight.get(m.id);
      if (!batch) return;
      slot.inFlight.delete(m.id);
      outstanding -= batch.waiters.length;
      for (let i = 0; i < batch.waiters.length; i++) batch.waiters[i]!.resolve(toOutcome(m.out[i] ?? { error: 'EIO' }));
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

  function seal(): void {
    if (!open) return;
    queue.push(open);
    open = undefined;
    pump();
  }

  return {
    threads,
    look(req) {
      if (closed) return Promise.resolve({ kind: 'failed', code: 'ECANCELED' });
      return new Promise<LookOutcome>((resolve) => {
        if (!open) open = { id: nextId++, jobs: [], waiters: [] };
        open.jobs.push([req.path, req.hash, req.list, req.reuse ?? null, req.maxHashBytes]);
        open.waiters.push({ resolve });
        outstanding++;
        if (idleTimer) { clearTimeout(idleTimer); idleTimer = undefined; }
        if (open.jobs.length >= batchSize) seal();
        else if (!flushQueued) {
          // A partial batch goes out once the caller yields, so single looks are not held back.
          flushQueued = true;
          setImmediate(() => { flushQueued = false; seal(); });
        }
      });
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
