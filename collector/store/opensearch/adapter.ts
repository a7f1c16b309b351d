/** The store's adapter over @opensearch-project/opensearch@3 (talks to OpenSearch 2.x and 3.x). */
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@opensearch-project/opensearch';
import type { EngineAdapter, EngineRequest, EngineResponse } from '../search/adapter.js';
import { responseOf, unreachable } from '../search/adapter.js';
import type { SearchStoreConfig } from '../search/config.js';

export function opensearchAdapter(cfg: SearchStoreConfig): EngineAdapter {
  const opts: ClientOptions = {
    nodes: cfg.nodes,
    maxRetries: 0,
    requestTimeout: cfg.request_timeout_ms,
    sniffOnStart: false,
  };
  if (cfg.auth?.type === 'basic') opts.auth = { username: cfg.auth.username, password: cfg.auth.password };
  if (cfg.tls) opts.ssl = { ca: readFileSync(cfg.tls.ca) };
  const client = new Client(opts);
  return {
    kind: 'opensearch',
    async request(r: EngineRequest): Promise<EngineResponse> {
      try {
        const res = await client.transport.request({
          method: r.method, path: r.path,
          ...(r.query ? { querystring: r.query } : {}),
          ...(r.ndjson !== undefined ? { bulkBody: r.ndjson } : r.body !== undefined ? { body: r.body as Record<string, unknown> } : {}),
        });
        return { status: res.statusCode ?? 200, body: res.body };
      } catch (e) {
        const res = responseOf(e);
        if (res) return res;
        throw unreachable(e);
      }
    },
    async close() {
      await client.close();
    },
  };
}
