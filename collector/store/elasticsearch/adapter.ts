/** The store's adapter over @elastic/elasticsearch@8.19 (talks to Elasticsearch 8.x and 9.x). */
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import type { EngineAdapter, EngineRequest, EngineResponse } from '../search/adapter.js';
import { responseOf, unreachable } from '../search/adapter.js';
import type { SearchStoreConfig } from '../search/config.js';

export function elasticsearchAdapter(cfg: SearchStoreConfig): EngineAdapter {
  const opts: ClientOptions = {
    nodes: cfg.nodes,
    // Retries are the store's (with its own budget and backoff); the client fails over between nodes.
    maxRetries: 0,
    requestTimeout: cfg.request_timeout_ms,
    compression: false,
    sniffOnStart: false,
  };
  if (cfg.auth?.type === 'basic') opts.auth = { username: cfg.auth.username, password: cfg.auth.password };
  if (cfg.auth?.type === 'api_key') opts.auth = { apiKey: cfg.auth.key };
  if (cfg.tls) opts.tls = { ca: readFileSync(cfg.tls.ca) };
  const client = new Client(opts);
  return {
    kind: 'elasticsearch',
    async request(r: EngineRequest): Promise<EngineResponse> {
      try {
        const res = await client.transport.request(
          {
            method: r.method, path: r.path,
            ...(r.query ? { querystring: r.query } : {}),
            ...(r.ndjson !== undefined ? { bulkBody: r.ndjson } : r.body !== undefined ? { body: r.body as Record<string, unknown> } : {}),
          },
          { meta: true },
        );
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
