/**
 * The Elasticsearch and OpenSearch stores (DESIGN §3.4).
 *
 *   const store = await openSearchStore({ type: 'elasticsearch', nodes: ['http://127.0.0.1:9200'] }, { dataDir });
 *
 * Validates the config (STORE_INVALID_INPUT naming the field, never a secret), connects, puts the index
 * templates and creates the small indices; resolves with a ready store, or rejects with STORE_UNAVAILABLE.
 */
import { logger, type Logger } from '../../../common/logger.js';
import { elasticsearchAdapter } from '../elasticsearch/adapter.js';
import { opensearchAdapter } from '../opensearch/adapter.js';
import type { EngineAdapter } from './adapter.js';
import { parseSearchStoreConfig, type SearchStoreConfig } from './config.js';
import { SearchStore } from './store.js';

export interface OpenSearchStoreOptions {
  /** The collector's data directory (dead-letter files go to `<dataDir>/dead-letter/`). */
  dataDir: string;
  log?: Logger;
  /** For tests: a different client adapter. */
  adapter?: (cfg: SearchStoreConfig) => EngineAdapter;
}

export async function openSearchStore(config: unknown, o: OpenSearchStoreOptions): Promise<SearchStore> {
  const cfg = parseSearchStoreConfig(config);
  const make = o.adapter ?? (cfg.type === 'elasticsearch' ? elasticsearchAdapter : opensearchAdapter);
  const store = new SearchStore(cfg, make(cfg), {
    dataDir: o.dataDir,
    log: o.log ?? logger('collector.store', { 'store.type': cfg.type }),
  });
  try {
    await store.init();
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  return store;
}

export { SearchStore } from './store.js';
export type { SearchCommitResult } from './commit.js';
export {
  searchStoreConfigSchema, parseSearchStoreConfig, SEARCH_STORE_TYPES,
  type SearchStoreConfig, type SearchStoreConfigInput, type SearchStoreType,
} from './config.js';
