import { describe, expect, it } from 'vitest';
import { parseSearchStoreConfig } from './config.js';

const SECRET = 'S3cr3t-hunter2';

function refusal(input: unknown): { code: string; where: string | undefined; message: string } {
  try {
    parseSearchStoreConfig(input);
  } catch (e) {
    const err = e as { code: string; where?: string; message: string; hint?: string };
    // A secret must appear nowhere a person or a log could see it.
    expect(`${err.message} ${err.where ?? ''} ${err.hint ?? ''}`).not.toContain(SECRET);
    return { code: err.code, where: err.where, message: err.message };
  }
  throw new Error('config was accepted');
}

describe('search store config', () => {
  it('fills in every default', () => {
    expect(parseSearchStoreConfig({ type: 'elasticsearch', nodes: ['http://127.0.0.1:9200'] })).toEqual({
      type: 'elasticsearch', nodes: ['http://127.0.0.1:9200'], index_prefix: 'canhgac',
      retention: { alerts_days: 400, findings_days: 120, interval_hours: 6 },
      bulk: { max_docs: 1000, max_bytes: 5 * 1024 * 1024, flush_ms: 50, concurrency: 2, retry_ms: 30_000 },
      request_timeout_ms: 30_000,
    });
  });

  it('accepts basic auth, API keys (Elasticsearch) and a CA file', () => {
    const c = parseSearchStoreConfig({
      type: 'elasticsearch', nodes: ['https://es1:9200', 'https://es2:9200'], auth: { type: 'api_key', key: SECRET }, tls: { ca: '/etc/ca.pem' },
    });
    expect(c.auth).toEqual({ type: 'api_key', key: SECRET });
    expect(parseSearchStoreConfig({ type: 'opensearch', nodes: ['https://os:9200'], auth: { type: 'basic', username: 'u', password: SECRET } }).auth)
      .toMatchObject({ type: 'basic' });
  });

  it.each([
    [{ type: 'solr', nodes: ['http://x:1'] }, 'store.type'],
    [{ type: 'elasticsearch', nodes: [] }, 'store.nodes'],
    [{ type: 'elasticsearch', nodes: ['ftp://x'] }, 'store.nodes.0'],
    [{ type: 'elasticsearch', nodes: ['not a url'] }, 'store.nodes.0'],
    [{ type: 'elasticsearch', nodes: [`http://admin:${SECRET}@es:9200`] }, 'store.nodes.0'],
    [{ type: 'elasticsearch', nodes: ['http://es:9200'], auth: { type: 'basic', username: 'u', password: SECRET, extra: 1 } }, 'store.auth'],
    [{ type: 'elasticsearch', nodes: ['http://es:9200'], auth: { type: 'basic', username: 'u', password: 42 } }, 'store.auth.password'],
    [{ type: 'elasticsearch', nodes: ['http://es:9200'], auth: { type: 'token', token: SECRET } }, 'store.auth.type'],
    [{ type: 'elasticsearch', nodes: ['http://es:9200'], index_prefix: 'Canh Gac' }, 'store.index_prefix'],
    [{ type: 'elasticsearch', nodes: ['http://es:9200'], retention: { alerts_days: 30 } }, 'store.retention.alerts_days'],
    [{ type: 'elasticsearch', nodes: ['http://es:9200'], retention: { findings_days: 7 } }, 'store.retention.findings_days'],
    [{ type: 'elasticsearch', nodes: ['http://es:9200'], bulk: { max_docs: 0 } }, 'store.bulk.max_docs'],
    [{ type: 'elasticsearch', nodes: ['http://es:9200'], bulks: {} }, 'store'],
    [{ type: 'opensearch', nodes: ['http://os:9200'], auth: { type: 'api_key', key: SECRET } }, 'store.auth.type'],
  ])('refuses %j, naming %s and no secret', (input, where) => {
    const r = refusal(input);
    expect(r.code).toBe('STORE_INVALID_INPUT');
    expect(r.where).toBe(where);
    expect(r.message).toContain(where);
  });
});
