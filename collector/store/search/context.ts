/**
 * What every part of the search-engine store shares: the call function, index names, the bulk writer,
 * real-time document reads, index creation and read-your-writes refreshes.
 *
 * Writes use refresh=false (fast ingest). A read that searches first refreshes the indices this store
 * wrote since its last refresh, so the process always reads its own writes; other processes see them
 * within the refresh interval (1 s). Reads by id (GET/_mget) are real-time and never need a refresh.
 */
import type { Logger } from '../../../common/logger.js';
import type { EngineRequest, EngineResponse } from './adapter.js';
import { BulkWriter, type BulkOp, type BulkResult } from './bulk.js';
import { unexpected, type Call } from './call.js';
import type { DeadLetters } from './dead-letter.js';
import type { Doc } from './documents.js';
import type { GetBody, MgetBody, SearchBody } from './engine-types.js';
import { seg, type Names } from './names.js';

/** How long committed ids stay in memory: several refresh intervals (1 s). */
const RECENT_MS = 5000;
const RECENT_MAX = 500_000;

export interface Found<S = Doc> { index: string; id: string; source: S; seqNo: number; primaryTerm: number }

export class Ctx {
  readonly engine: 'elasticsearch' | 'opensearch';
  readonly call: Call;
  readonly n: Names;
  /** Findings: batched across commits by count, bytes and time. */
  readonly writer: BulkWriter;
  /** Control writes (state, alerts, agents, tokens…): sent at once, never held back by findings. */
  readonly #control: BulkWriter;
  readonly log: Logger;
  readonly deadLetters: DeadLetters;
  readonly #dirty = new Set<string>();
  readonly #known = new Set<string>();
  /** Ids of findings this process committed lately → their index (searchable within the refresh interval). */
  readonly #recent = new Map<string, { index: string; at: number }>();
  #refreshing: Promise<unknown> = Promise.resolve();

  constructor(o: {
    engine: 'elasticsearch' | 'opensearch'; call: Call; names: Names; log: Logger; deadLetters: DeadLetters;
    bulk: { maxDocs: number; maxBytes: number; flushMs: number; concurrency: number; retryMs: number };
  }) {
    this.engine = o.engine;
    this.call = o.call;
    this.n = o.names;
    this.log = o.log;
    this.deadLetters = o.deadLetters;
    const onWritten = (indices: Set<string>): void => { for (const i of indices) this.#dirty.add(i); };
    this.writer = new BulkWriter(o.call, { ...o.bulk, onWritten });
    this.#control = new BulkWriter(o.call, { ...o.bulk, flushMs: 0, concurrency: Math.max(4, o.bulk.concurrency), onWritten });
  }

  /** Sends a request and returns its answer when the status is one of `ok`; anything else is a StoreError. */
  async expect(r: EngineRequest, ok: number[], what: string): Promise<EngineResponse> {
    const res = await this.call(r);
    if (!ok.includes(res.status)) throw unexpected(this.engine, what, res);
    return res;
  }

  /** Real-time read of one document; undefined if it or its index does not exist. */
  async get<S = Doc>(index: string, id: string): Promise<Found<S> | undefined> {
    const res = await this.expect({ method: 'GET', path: `/${seg(index)}/_doc/${seg(id)}` }, [200, 404], `read ${index}/${id}`);
    const b = res.body as GetBody<S>;
    if (res.status === 404 || !b.found || b._source === undefined) return undefined;
    return { index: b._index, id: b._id, source: b._source, seqNo: b._seq_no ?? 0, primaryTerm: b._primary_term ?? 0 };
  }

  /** Real-time read of many documents (any indices); one entry per request, undefined where missing. */
  async mget<S = Doc>(docs: { index: string; id: string }[]): Promise<(Found<S> | undefined)[]> {
    const out: (Found<S> | undefined)[] = [];
    for (let i = 0; i < docs.length; i += 1000) {
      const chunk = docs.slice(i, i + 1000);
      const res = await this.expect(
        { method: 'POST', path: '/_mget', body: { docs: chunk.map((d) => ({ _index: d.index, _id: d.id })) } },
        [200], 'read documents',
      );
      for (const d of (res.body as MgetBody<S>).docs) {
        out.push(d.found && d._source !== undefined
          ? { index: d._index, id: d._id, source: d._source, seqNo: d._seq_no ?? 0, primaryTerm: d._primary_term ?? 0 }
          : undefined);
      }
    }
    return out;
  }

  /**
   * Searches, after refreshing what this store wrote to the searched indices (read-your-writes);
   * `refresh: false` skips that (the ingest path, which must not force a refresh per batch).
   */
  async search<S = Doc>(index: string, body: Record<string, unknown>, what: string, o: { refresh?: boolean } = {}): Promise<SearchBody<S>> {
    if (o.refresh !== false) await this.refreshFor(index);
    const res = await this.expect(
      { method: 'POST', path: `/${seg(index)}/_search`, query: { ignore_unavailable: true, allow_no_indices: true }, body },
      [200], what,
    );
    return res.body as SearchBody<S>;
  }

  /** All hits of a query, paged with search_after (the sort must end in a unique field). */
  async *scan<S = Doc>(index: string, body: Record<string, unknown>, what: string, pageSize = 1000): AsyncGenerator<SearchBody<S>['hits']['hits'][number]> {
    let after: unknown[] | undefined;
    for (;;) {
      const page = await this.search<S>(index, { ...body, size: pageSize, ...(after ? { search_after: after } : {}) }, what);
      const hits = page.hits.hits;
      for (const h of hits) yield h;
      if (hits.length < pageSize) return;
      after = hits[hits.length - 1]!.sort;
      if (!after) return;
    }
  }

  /** Writes right away (control writes: state, alerts, agents, tokens…), retried like findings. */
  write(ops: BulkOp[]): Promise<BulkResult[]> {
    return this.#control.submit(ops, { now: true });
  }

  /** Waits until nothing is queued or in flight. */
  async drain(): Promise<void> {
    await Promise.all([this.writer.drain(), this.#control.drain()]);
  }

  /** Creates an index (its template applies) unless it exists. Cached per process. */
  async ensureIndex(index: string): Promise<void> {
    if (this.#known.has(index)) return;
    const res = await this.call({ method: 'PUT', path: `/${seg(index)}` });
    const type = (res.body as { error?: { type?: string } } | undefined)?.error?.type;
    if (res.status !== 200 && type !== 'resource_already_exists_exception') throw unexpected(this.engine, `create index ${index}`, res);
    this.#known.add(index);
  }

  forgetIndex(index: string): void {
    this.#known.delete(index);
    this.#dirty.delete(index);
  }

  /** Refreshes the indices written since the last refresh that `target` (an index, alias or pattern) covers. */
  async refreshFor(target: string): Promise<void> {
    const covers = this.#covers(target);
    const pick = [...this.#dirty].filter(covers);
    const before = this.#refreshing;
    if (pick.length === 0) {
      // A refresh started by a concurrent read may cover what this read needs: wait for it.
      await before;
      return;
    }
    for (const i of pick) this.#dirty.delete(i);
    const run = async (): Promise<void> => {
      const res = await this.call({ method: 'POST', path: `/${pick.map(seg).join(',')}/_refresh`, query: { ignore_unavailable: true } });
      if (res.status !== 200) {
        for (const i of pick) this.#dirty.add(i);
        throw unexpected(this.engine, 'refresh', res);
      }
    };
    const p = run().catch((e: unknown) => {
      for (const i of pick) this.#dirty.add(i);
      throw e;
    });
    this.#refreshing = Promise.all([before, p]).then(() => undefined, () => undefined);
    await Promise.all([before, p]);
  }

  /** Findings just committed: known to knownFindingIds before a refresh makes them searchable. */
  rememberFindings(found: { id: string; index: string }[]): void {
    const at = Date.now();
    for (const f of found) {
      this.#recent.delete(f.id);
      this.#recent.set(f.id, { index: f.index, at });
    }
    this.#forgetOld();
  }

  isRecentFinding(id: string): boolean {
    this.#forgetOld();
    return this.#recent.has(id);
  }

  /** Retention deleted these findings (or the whole index when `ids` is undefined). */
  forgetFindings(index: string, ids?: Iterable<string>): void {
    if (ids) {
      for (const id of ids) if (this.#recent.get(id)?.index === index) this.#recent.delete(id);
      return;
    }
    for (const [id, r] of this.#recent) if (r.index === index) this.#recent.delete(id);
  }

  #forgetOld(): void {
    const horizon = Date.now() - RECENT_MS;
    for (const [id, r] of this.#recent) {
      if (r.at >= horizon && this.#recent.size <= RECENT_MAX) break;
      this.#recent.delete(id);
    }
  }

  markDirty(index: string): void {
    this.#dirty.add(index);
  }

  #covers(target: string): (index: string) => boolean {
    const n = this.n;
    const parts = target.split(',');
    return (index) => parts.some((t) => {
      if (t === n.findings || t === n.findingsPattern) return index.startsWith(`${n.prefix}-findings-`);
      if (t === n.alerts || t === n.alertsPattern) return index.startsWith(`${n.prefix}-alerts-`);
      if (t.endsWith('*')) return index.startsWith(t.slice(0, -1));
      return index === t;
    });
  }
}
