/**
 * Every request to the cluster goes through `call`: retries with backoff on 429, 5xx and connection
 * errors within a time budget, then STORE_UNAVAILABLE — the code on which the collector withholds its ack.
 */
import { StoreCodes, StoreError } from '../errors.js';
import { EngineUnreachable, type EngineAdapter, type EngineRequest, type EngineResponse } from './adapter.js';
import type { EngineError } from './engine-types.js';

export interface CallOptions {
  /** Retry budget in ms (default: the caller's). 0 = one attempt. */
  retryMs?: number;
}

export type Call = (r: EngineRequest, o?: CallOptions) => Promise<EngineResponse>;

export const RETRYABLE = (status: number): boolean => status === 429 || status >= 500;

/** Backoff before attempt n (1-based): 100 ms doubling to 2 s, with jitter. */
export function backoffMs(attempt: number): number {
  const base = Math.min(2000, 100 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + Math.random() / 2));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function makeCall(adapter: EngineAdapter, defaults: { retryMs: number; isClosed: () => boolean }): Call {
  const engine = adapter.kind;
  return async (r, o = {}) => {
    const budget = o.retryMs ?? defaults.retryMs;
    const started = Date.now();
    let attempt = 0;
    for (;;) {
      if (defaults.isClosed()) throw new StoreError(StoreCodes.UNAVAILABLE, `the ${engine} store is closed`);
      attempt++;
      let problem: string;
      try {
        const res = await adapter.request(r);
        if (res.status === 401 || res.status === 403) {
          throw new StoreError(StoreCodes.UNAVAILABLE, `${engine} refused the request ${r.method} ${pathOnly(r.path)} (HTTP ${res.status})`, {
            where: 'store.auth', hint: 'Check the store credentials and the privileges of that user or API key.',
          });
        }
        if (!RETRYABLE(res.status)) return res;
        problem = `HTTP ${res.status} ${errorType(res.body)}`.trim();
      } catch (e) {
        if (e instanceof StoreError) throw e;
        if (e instanceof EngineUnreachable && e.reason === 'product') {
          throw new StoreError(StoreCodes.INVALID_INPUT, `the server is not ${engine}: ${e.message}`, {
            where: 'store.type', cause: e, hint: 'store.type must name the engine the cluster runs (elasticsearch or opensearch).',
          });
        }
        problem = e instanceof Error ? e.message : String(e);
      }
      const elapsed = Date.now() - started;
      if (elapsed >= budget) {
        throw new StoreError(
          StoreCodes.UNAVAILABLE,
          `${engine} is unavailable: ${problem} (${attempt} attempt${attempt === 1 ? '' : 's'} in ${Math.round(elapsed / 100) / 10}s)`,
          { hint: 'Nothing was acknowledged; agents keep their outbox and the batch is written when the cluster is back.' },
        );
      }
      await sleep(Math.min(backoffMs(attempt), Math.max(0, budget - elapsed)));
    }
  };
}

/** The path without its query part (never carries credentials; ids are fine to show). */
function pathOnly(p: string): string {
  return p.split('?')[0] ?? p;
}

export function errorType(body: unknown): string {
  const err = (body as { error?: EngineError | string } | undefined)?.error;
  if (typeof err === 'string') return err;
  return err?.type ?? '';
}

/** A StoreError for an answer the caller did not expect. */
export function unexpected(engine: string, what: string, res: EngineResponse): StoreError {
  const err = (res.body as { error?: EngineError | string } | undefined)?.error;
  const detail = typeof err === 'string' ? err : err ? `${err.type ?? ''}: ${err.reason ?? ''}` : '';
  return new StoreError(StoreCodes.UNAVAILABLE, `${engine} could not ${what} (HTTP ${res.status}${detail ? `, ${detail}` : ''})`);
}
