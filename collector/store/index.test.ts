import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreCodes, openStore, SqliteStore, storeConfigSchema } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'canhgac-openstore-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('openStore', () => {
  it('opens the embedded store by default, durable (synchronous=FULL)', async () => {
    const store = await openStore({}, join(root, 'default'));
    try {
      expect(store.kind).toBe('sqlite');
      expect(store).toBeInstanceOf(SqliteStore);
      expect((store as SqliteStore).describe()).toMatchObject({ synchronous: 'FULL', journalMode: 'wal' });
    } finally {
      await store.close();
    }
  });

  it('asks for the cluster nodes when a search-engine store is chosen without them', async () => {
    for (const type of ['elasticsearch', 'opensearch'] as const) {
      await expect(openStore({ type } as never, join(root, type))).rejects.toMatchObject({ code: StoreCodes.INVALID_INPUT });
    }
  });

  it('refuses an unknown type or an unknown key with where it is', async () => {
    await expect(openStore({ type: 'mongodb' } as never, root)).rejects.toMatchObject({ code: StoreCodes.INVALID_INPUT, where: 'store.type' });
    await expect(openStore({ path: '/tmp/x' } as never, root)).rejects.toMatchObject({ code: StoreCodes.INVALID_INPUT });
    expect(storeConfigSchema.parse({})).toEqual({ type: 'sqlite' });
  });
});

describe('store error codes', () => {
  it('are all documented in docs/store.md', () => {
    const doc = readFileSync(new URL('../../docs/store.md', import.meta.url), 'utf8');
    for (const code of Object.values(StoreCodes)) expect(doc, code).toContain(`\`${code}\``);
  });
});
