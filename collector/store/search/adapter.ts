/**
 * The thin seam between the shared store and the two official clients. The store speaks plain REST
 * (core APIs that both engines share); an adapter sends it through its client, which brings the
 * connection pool, fail-over between nodes, authentication and TLS.
 */

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export interface EngineRequest {
  method: HttpMethod;
  /** Already URL-encoded path, e.g. `/canhgac-state/_doc/abc`. */
  path: string;
  query?: Record<string, string | number | boolean>;
  /** JSON body. */
  body?: unknown;
  /** NDJSON body for `_bulk`/`_msearch` (each line ends with "\n"). */
  ndjson?: string;
}

/** Any HTTP answer, 2xx or not: the caller decides what a status means. */
export interface EngineResponse {
  status: number;
  /** Parsed JSON; read through the narrow shapes in engine-types.ts. */
  body: unknown;
}

export interface EngineAdapter {
  readonly kind: 'elasticsearch' | 'opensearch';
  /** Resolves with any HTTP answer; rejects with EngineUnreachable when no answer came. */
  request(r: EngineRequest): Promise<EngineResponse>;
  close(): Promise<void>;
}

/** No HTTP answer: connection refused or reset, timeout, no living node, or the server is not the right product. */
export class EngineUnreachable extends Error {
  /** `connection`, `timeout` or `product` (the server is not the engine the client was made for). */
  readonly reason: 'connection' | 'timeout' | 'product';
  constructor(reason: 'connection' | 'timeout' | 'product', message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'EngineUnreachable';
    this.reason = reason;
  }
}

/** Both clients raise `ResponseError` with `meta.statusCode`/`meta.body` for non-2xx answers. */
export function responseOf(e: unknown): EngineResponse | undefined {
  if (!(e instanceof Error) || e.name !== 'ResponseError') return undefined;
  const meta = (e as { meta?: { statusCode?: unknown; body?: unknown } }).meta;
  if (typeof meta?.statusCode !== 'number') return undefined;
  return { status: meta.statusCode, body: meta.body };
}

/** Classifies what a client threw when there was no HTTP answer. Messages carry no credentials. */
export function unreachable(e: unknown): EngineUnreachable {
  const name = e instanceof Error ? e.name : '';
  const message = e instanceof Error ? e.message : String(e);
  if (name === 'TimeoutError') return new EngineUnreachable('timeout', `request timed out: ${message}`, e);
  if (name === 'ProductNotSupportedError') return new EngineUnreachable('product', message, e);
  return new EngineUnreachable('connection', message || name || 'connection failed', e);
}
