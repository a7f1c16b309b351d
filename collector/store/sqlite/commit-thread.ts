/**
 * Store.commit off the main thread: better-sqlite3 is synchronous, so a commit (statements, then the
 * WAL fsync of synchronous=FULL) would otherwise stop the collector's event loop — no decoding, no rule
 * evaluation, no acks — for its whole duration. The worker (commit-worker.ts) is started on the first
 * commit and its promise resolves only after the transaction committed.
 */
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { StoreCodes, StoreError, type StoreCode } from '../errors.js';
import type { CommitResult, IngestCommit } from '../types.js';
import type { ToMain, ToWorker, WireError } from './commit-protocol.js';
import type { Synchronous } from './open.js';
import { startModuleWorker } from './thread.js';

export interface CommitThread {
  /** False once the worker stopped (closed, or failed): start another for the next commit. */
  readonly alive: boolean;
  commit(c: IngestCommit): Promise<CommitResult>;
  /** Lets the commits already sent finish, then stops the worker and closes its connection. */
  close(): Promise<void>;
}

function toError(w: WireError): Error {
  if (w.code && (Object.values(StoreCodes) as string[]).includes(w.code)) {
    return new StoreError(w.code as StoreCode, w.message, { ...(w.where ? { where: w.where } : {}), ...(w.hint ? { hint: w.hint } : {}) });
  }
  // Not a store error: a bug in the worker; keep its stack for the log.
  return Object.assign(new Error(w.message), w.stack ? { stack: w.stack } : {});
}

/** `limits`: the worker's V8 heap limits (the tests use them to make a worker run out of memory for real). */
export function startCommitThread(file: string, synchronous: Synchronous, limits?: ResourceLimits): CommitThread {
  const worker: Worker = startModuleWorker(new URL('./commit-worker.js', import.meta.url), {
    name: 'canhgac-sqlite-commit', workerData: { file, synchronous }, ...(limits ? { resourceLimits: limits } : {}),
  });
  const pending = new Map<number, { resolve(r: CommitResult): void; reject(e: Error): void }>();
  let nextId = 1;
  let fatal: Error | undefined;
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // Only pending commits keep the process alive.
  worker.unref();

  const failAll = (e: Error): void => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    worker.unref();
  };
  worker.on('message', (m: ToMain) => {
    if (m.type === 'fatal') {
      fatal = toError(m.error);
      failAll(fatal);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.type === 'done') p.resolve(m.result);
    else p.reject(toError(m.error));
  });
  worker.on('error', (e) => {
    fatal = new StoreError(StoreCodes.UNAVAILABLE, `${file}: the commit thread failed (${e.message}); nothing unacknowledged was lost`, { cause: e });
    failAll(fatal);
  });
  worker.on('exit', () => {
    exited = true;
    fatal ??= new StoreError(StoreCodes.UNAVAILABLE, `store ${file} is closed`);
    failAll(fatal);
  });

  return {
    get alive() { return !exited && !fatal; },
    commit(c) {
      if (fatal) return Promise.reject(fatal);
      // The worker groups commits by their number of findings: one without its lists (a caller's bug)
      // would throw there and take down the commits of every agent waiting with it.
      if (!Array.isArray(c?.findings) || !Array.isArray(c.closedSnapshots) || !Array.isArray(c.alerts)) {
        return Promise.reject(new StoreError(StoreCodes.INVALID_INPUT, 'a commit needs findings, closedSnapshots and alerts lists'));
      }
      const id = nextId++;
      return new Promise<CommitResult>((resolve, reject) => {
        try {
          worker.postMessage({ type: 'commit', id, commit: c } satisfies ToWorker);
        } catch (e) {
          // Something in the commit cannot cross to the thread (a function, a class instance): a caller's bug.
          reject(new StoreError(StoreCodes.INVALID_INPUT, `the commit cannot be handed to the commit thread: ${(e as Error).message}`, { cause: e }));
          return;
        }
        pending.set(id, { resolve, reject });
        if (pending.size === 1) worker.ref();
      });
    },
    async close() {
      if (!exited) {
        worker.ref();
        worker.postMessage({ type: 'close' } satisfies ToWorker);
      }
      await exit;
    },
  };
}
