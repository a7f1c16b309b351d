/**
 * The bulk writer: operations from any number of concurrent commits are batched into `_bulk` requests
 * by count, bytes and time. Each submit resolves with the engine's answer per operation once every one
 * of them is final; items answered 429/5xx are retried with backoff, whole requests that fail (connection
 * errors, 429, 5xx) too, until the retry budget of the oldest item runs out — then the submit rejects
 * with STORE_UNAVAILABLE. Writes are acknowledged by the engine (translog synced) when a submit resolves.
 */
import { StoreCodes, StoreError } from '../errors.js';
import type { Doc } from './documents.js';
import { RETRYABLE, backoffMs, type Call } from './call.js';
import { bulkItem, describeEngineError, type BulkBody, type BulkItem } from './engine-types.js';

export interface BulkOp {
  action: 'create' | 'index' | 'delete';
  index: string;
  id: string;
  doc?: Doc;
  /** Optimistic concurrency: only if the document is still at this sequence number and primary term. */
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
}

export interface BulkResult { op: BulkOp; status: number; item: BulkItem }

export interface BulkOptions {
  maxDocs: number;
  maxBytes: number;
  flushMs: number;
  concurrency: number;
  retryMs: number;
  /** Called with the indices a request wrote to (for read-your-writes refreshes). */
  onWritten?(indices: Set<string>): void;
}

interface Group {
  results: (BulkResult | undefined)[];
  left: number;
  done: boolean;
  resolve(r: BulkResult[]): void;
  reject(e: unknown): void;
}

interface Entry { group: Group; slot: number; op: BulkOp; lines: string; bytes: number; deadline: number; attempt: number }

export function opLines(op: BulkOp): string {
  const meta: Record<string, unknown> = { _index: op.index, _id: op.id };
  if (op.ifSeqNo !== undefined) meta.if_seq_no = op.ifSeqNo;
  if (op.ifPrimaryTerm !== undefined) meta.if_primary_term = op.ifPrimaryTerm;
  const head = JSON.stringify({ [op.action]: meta });
  return op.action === 'delete' ? `${head}\n` : `${head}\n${JSON.stringify(op.doc ?? {})}\n`;
}

export class BulkWriter {
  readonly #call: Call;
  readonly #o: BulkOptions;
  #queue: Entry[] = [];
  #queuedBytes = 0;
  #inflight = 0;
  #timer: NodeJS.Timeout | undefined;
  #urgent = false;
  #idle: (() => void)[] = [];
  #pendingRetries = 0;

  constructor(call: Call, o: BulkOptions) {
    this.#call = call;
    this.#o = o;
  }

  /**
   * Queues the operations; `now` sends them without waiting for the batch to fill (small control writes).
   * Resolves with one result per operation, in order.
   */
  submit(ops: BulkOp[], opts: { now?: boolean } = {}): Promise<BulkResult[]> {
    if (ops.length === 0) return Promise.resolve([]);
    return new Promise<BulkResult[]>((resolve, reject) => {
      const group: Group = { results: new Array(ops.length), left: ops.length, done: false, resolve, reject };
      const deadline = Date.now() + this.#o.retryMs;
      ops.forEach((op, slot) => {
        const lines = opLines(op);
        this.#enqueue({ group, slot, op, lines, bytes: Buffer.byteLength(lines), deadline, attempt: 0 });
      });
      if (opts.now) this.#urgent = true;
      this.#pump();
    });
  }

  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#inflight === 0 && this.#pendingRetries === 0) return Promise.resolve();
    this.#urgent = true;
    this.#pump();
    return new Promise((r) => this.#idle.push(r));
  }

  #enqueue(e: Entry): void {
    this.#queue.push(e);
    this.#queuedBytes += e.bytes;
  }

  #ready(): boolean {
    return this.#urgent || this.#queue.length >= this.#o.maxDocs || this.#queuedBytes >= this.#o.maxBytes || this.#o.flushMs === 0;
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inflight < this.#o.concurrency && this.#ready()) {
      const batch = this.#take();
      void this.#send(batch);
    }
    if (this.#queue.length === 0) this.#urgent = false;
    if (this.#queue.length > 0 && !this.#timer && !this.#ready()) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#urgent = true;
        this.#pump();
      }, this.#o.flushMs);
    }
    if (this.#queue.length === 0 && this.#inflight === 0 && this.#pendingRetries === 0) {
      for (const r of this.#idle.splice(0)) r();
    }
  }

  #take(): Entry[] {
    const batch: Entry[] = [];
    let bytes = 0;
    while (this.#queue.length > 0 && batch.length < this.#o.maxDocs) {
      const e = this.#queue[0]!;
      if (batch.length > 0 && bytes + e.bytes > this.#o.maxBytes) break;
      this.#queue.shift();
      this.#queuedBytes -= e.bytes;
      bytes += e.bytes;
      batch.push(e);
    }
    if (this.#timer && this.#queue.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    return batch;
  }

  async #send(batch: Entry[]): Promise<void> {
    this.#inflight++;
    try {
      const live = batch.filter((e) => !e.group.done);
      if (live.length === 0) return;
      const budget = Math.max(0, Math.min(...live.map((e) => e.deadline)) - Date.now());
      let body: BulkBody;
      try {
        const res = await this.#call({ method: 'POST', path: '/_bulk', ndjson: live.map((e) => e.lines).join('') }, { retryMs: budget });
        if (res.status < 200 || res.status >= 300) {
          const err = (res.body as { error?: { type?: string; reason?: string } } | undefined)?.error;
          throw new StoreError(StoreCodes.UNAVAILABLE, `bulk request refused (HTTP ${res.status}, ${describeEngineError(err)})`);
        }
        body = res.body as BulkBody;
      } catch (e) {
        for (const entry of live) this.#fail(entry, e);
        return;
      }
      const written = new Set<string>();
      body.items.forEach((raw, i) => {
        const entry = live[i];
        if (!entry) return;
        const item = bulkItem(raw);
        if (item.status >= 200 && item.status < 300) written.add(entry.op.index);
        if (RETRYABLE(item.status) && Date.now() < entry.deadline) {
          this.#retryLater(entry);
          return;
        }
        if (RETRYABLE(item.status)) {
          this.#fail(entry, new StoreError(StoreCodes.UNAVAILABLE, `the engine kept refusing a write (HTTP ${item.status}, ${describeEngineError(item.error)})`));
          return;
        }
        this.#settle(entry, { op: entry.op, status: item.status, item });
      });
      if (written.size > 0) this.#o.onWritten?.(written);
    } finally {
      this.#inflight--;
      this.#pump();
    }
  }

  #retryLater(entry: Entry): void {
    entry.attempt++;
    this.#pendingRetries++;
    setTimeout(() => {
      this.#pendingRetries--;
      this.#enqueue(entry);
      this.#urgent = true;
      this.#pump();
    }, backoffMs(entry.attempt));
  }

  #settle(entry: Entry, r: BulkResult): void {
    const g = entry.group;
    if (g.done) return;
    g.results[entry.slot] = r;
    if (--g.left === 0) {
      g.done = true;
      g.resolve(g.results as BulkResult[]);
    }
  }

  #fail(entry: Entry, e: unknown): void {
    const g = entry.group;
    if (g.done) return;
    g.done = true;
    g.reject(e);
  }
}
