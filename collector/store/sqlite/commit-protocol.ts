/** Messages between the embedded store and its commit worker, and errors as they cross the thread boundary. */
import { CanhGacError } from '../../../common/errors.js';
import type { CommitResult, IngestCommit } from '../types.js';

export type ToWorker = { type: 'commit'; id: number; commit: IngestCommit } | { type: 'close' };

export type ToMain =
  | { type: 'done'; id: number; result: CommitResult }
  | { type: 'failed'; id: number; error: WireError }
  /** The worker could not open the database; every commit fails with this. */
  | { type: 'fatal'; error: WireError };

/** A StoreError's code, message, where and hint; anything else (a bug) as its message and stack. */
export interface WireError { code?: string; message: string; where?: string; hint?: string; stack?: string }

export function wireError(e: unknown): WireError {
  if (e instanceof CanhGacError) {
    return { code: e.code, message: e.message, ...(e.where ? { where: e.where } : {}), ...(e.hint ? { hint: e.hint } : {}) };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
}
