/** The store contract against a real OpenSearch 2.19.1 (started by test/setup/search-engines.ts). */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, inject, it } from 'vitest';
import { storeContract } from '../collector/store/contract.js';
import { openSearchStore } from '../collector/store/search/index.js';
import { skipReason } from './setup/engines.js';
import { searchStoreExtras } from './setup/search-extras.js';

const info = inject('searchEngines');
const skip = skipReason(info, 'opensearch');
const dataDir = mkdtempSync(join(tmpdir(), 'canhgac-os-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

if (skip) {
  console.warn(`\n!!! store contract: opensearch SKIPPED — ${skip}\n`);
  describe('store contract: opensearch', () => {
    it.skip(`SKIPPED: ${skip}`, () => {});
  });
} else {
  // Each open() gets its own index prefix: a fresh, empty store on the shared engine.
  storeContract('opensearch', () => openSearchStore(
    { type: 'opensearch', nodes: [info.opensearch!], index_prefix: `t-${randomUUID().slice(0, 8)}` },
    { dataDir },
  ));
  searchStoreExtras('opensearch', () => info.opensearch!);
}
