/** The parts of Elasticsearch/OpenSearch JSON answers the store reads (identical on both engines). */

export interface EngineError { type?: string; reason?: string; caused_by?: EngineError }

export interface Hit<S> {
  _index: string;
  _id: string;
  _seq_no?: number;
  _primary_term?: number;
  _source?: S;
  sort?: unknown[];
}

export interface GetBody<S> extends Hit<S> { found: boolean }

export interface MgetBody<S> { docs: (Hit<S> & { found?: boolean; error?: EngineError })[] }

export interface SearchBody<S> {
  hits: { total?: { value: number; relation?: string } | number; hits: Hit<S>[] };
  aggregations?: Record<string, AggBody>;
}

export interface AggBody {
  buckets?: { key: string | number | Record<string, unknown>; key_as_string?: string; doc_count: number }[];
  after_key?: Record<string, unknown>;
}

export interface BulkItem {
  _index: string;
  _id: string;
  status: number;
  result?: string;
  _seq_no?: number;
  _primary_term?: number;
  error?: EngineError;
}

export interface BulkBody { errors: boolean; took?: number; items: Record<string, BulkItem>[] }

export function totalOf(b: SearchBody<unknown>): number {
  const t = b.hits.total;
  return typeof t === 'number' ? t : t?.value ?? 0;
}

/** The first (only) operation of a bulk answer item: `{ "create": {...} }` → its body. */
export function bulkItem(item: Record<string, BulkItem>): BulkItem {
  const v = Object.values(item)[0];
  if (!v) throw new Error('empty bulk item');
  return v;
}

export function describeEngineError(e: EngineError | undefined): string {
  if (!e) return 'unknown error';
  const cause = e.caused_by ? ` (${e.caused_by.type ?? ''}: ${e.caused_by.reason ?? ''})` : '';
  return `${e.type ?? 'error'}: ${e.reason ?? ''}${cause}`;
}
