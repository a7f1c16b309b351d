/**
 * Opening the configured store. One switch, one case per implementation: the search-engine stores
 * plug in here (`case 'elasticsearch': …`) and must pass collector/store/contract.ts.
 */
import { z } from 'zod';
import { StoreCodes, StoreError } from './errors.js';
import { SqliteStore } from './sqlite/store.js';
import { openSearchStore, searchStoreConfigSchema } from './search/index.js';
import type { Store } from './types.js';

export const STORE_TYPES = ['sqlite', 'elasticsearch', 'opensearch'] as const;

const sqliteConfigSchema = z
  .object({
    type: z
      .literal('sqlite')
      .default('sqlite')
      .describe('Where findings, alerts and the audit trail are kept: sqlite (embedded file <dataDir>/canhgac.db), elasticsearch or opensearch.'),
  })
  .strict();

export const storeConfigSchema = z
  .union([sqliteConfigSchema, searchStoreConfigSchema])
  .describe('The store (DESIGN §3.4): sqlite (default), or an Elasticsearch/OpenSearch cluster.');

/** The parsed config (defaults applied). */
export type StoreConfig = z.output<typeof storeConfigSchema>;
/** What a config file may say (everything optional). */
export type StoreConfigInput = z.input<typeof storeConfigSchema>;

/** Opens and initialises the configured store. Throws StoreError (STORE_INVALID_INPUT, STORE_UNSUPPORTED, STORE_CORRUPT, STORE_UNAVAILABLE). */
export async function openStore(config: StoreConfigInput, dataDir: string): Promise<Store> {
  const type = (config as { type?: unknown } | undefined)?.type;
  if (type === 'elasticsearch' || type === 'opensearch') {
    // Validates (with errors naming the key, never a secret), connects, creates index templates and
    // aliases; returns an initialised store.
    return openSearchStore(config, { dataDir });
  }
  const parsed = sqliteConfigSchema.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = ['store', ...(issue?.path ?? []).map(String)].join('.');
    throw new StoreError(StoreCodes.INVALID_INPUT, `invalid store configuration: ${issue?.message ?? 'invalid'}`, {
      where, hint: `store.type is one of: ${STORE_TYPES.join(', ')}; elasticsearch and opensearch also need nodes: [URL].`,
    });
  }
  const store: Store = new SqliteStore({ dataDir });
  await store.init();
  return store;
}

export { StoreCodes, StoreError, isStoreError, type StoreCode } from './errors.js';
export { SqliteStore, DB_FILE } from './sqlite/store.js';
export type * from './types.js';
