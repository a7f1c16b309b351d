/**
 * Opening the configured store. One switch, one case per implementation: the search-engine stores
 * plug in here (`case 'elasticsearch': …`) and must pass collector/store/contract.ts.
 */
import { z } from 'zod';
import { StoreCodes, StoreError } from './errors.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

export const STORE_TYPES = ['sqlite', 'elasticsearch', 'opensearch'] as const;

export const storeConfigSchema = z
  .object({
    type: z
      .enum(STORE_TYPES)
      .default('sqlite')
      .describe('Where findings, alerts and the audit trail are kept: sqlite (embedded file <dataDir>/canhgac.db), elasticsearch or opensearch.'),
  })
  .strict()
  .describe('The store (DESIGN §3.4).');

/** The parsed config (defaults applied). */
export type StoreConfig = z.output<typeof storeConfigSchema>;
/** What a config file may say (everything optional). */
export type StoreConfigInput = z.input<typeof storeConfigSchema>;

/** Opens and initialises the configured store. Throws StoreError (STORE_INVALID_INPUT, STORE_UNSUPPORTED, STORE_CORRUPT, STORE_UNAVAILABLE). */
export async function openStore(config: StoreConfigInput, dataDir: string): Promise<Store> {
  const parsed = storeConfigSchema.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = ['store', ...(issue?.path ?? []).map(String)].join('.');
    throw new StoreError(StoreCodes.INVALID_INPUT, `invalid store configuration: ${issue?.message ?? 'invalid'}`, {
      where, hint: `store.type is one of: ${STORE_TYPES.join(', ')}.`,
    });
  }
  const cfg = parsed.data;
  let store: Store;
  switch (cfg.type) {
    case 'sqlite':
      store = new SqliteStore({ dataDir });
      break;
    case 'elasticsearch':
    case 'opensearch':
      throw new StoreError(StoreCodes.UNSUPPORTED, `store type ${cfg.type} is not available in this build yet`, {
        where: 'store.type', hint: 'Use store.type: sqlite (the default).',
      });
  }
  await store.init();
  return store;
}

export { StoreCodes, StoreError, isStoreError, type StoreCode } from './errors.js';
export { SqliteStore, DB_FILE } from './sqlite/store.js';
export type * from './types.js';
