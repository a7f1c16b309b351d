/**
 * Configuration of the Elasticsearch / OpenSearch store: one zod schema, strict, every field described.
 * Validation errors name the field and never echo a value (a value may be a password or an API key).
 */
import { z } from 'zod';
import { StoreCodes, StoreError } from '../errors.js';

export const SEARCH_STORE_TYPES = ['elasticsearch', 'opensearch'] as const;
export type SearchStoreType = (typeof SEARCH_STORE_TYPES)[number];

const nodeUrl = z
  .string()
  .describe('URL of one node of the cluster, e.g. https://10.0.0.5:9200.')
  .superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not a URL (expected http(s)://host:port)' });
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'must start with http:// or https://' });
    }
    if (u.username || u.password) {
      ctx.addIssue({ code: 'custom', message: 'must not carry credentials; put them in store.auth' });
    }
  });

const basicAuth = z
  .object({
    type: z.literal('basic').describe('HTTP basic authentication with a user of the cluster.'),
    username: z.string().min(1).describe('User name.'),
    password: z.string().min(1).describe('Password (never logged).'),
  })
  .strict();

const apiKeyAuth = z
  .object({
    type: z.literal('api_key').describe('Elasticsearch API key authentication.'),
    key: z.string().min(1).describe('The encoded API key (base64 of id:api_key), never logged.'),
  })
  .strict();

export const searchStoreConfigSchema = z
  .object({
    type: z.enum(SEARCH_STORE_TYPES).describe('Which engine the cluster runs: elasticsearch (8.x/9.x) or opensearch (2.x/3.x).'),
    nodes: z.array(nodeUrl).min(1).max(64).describe('One or more nodes of the cluster; requests are spread over them and fail over.'),
    auth: z
      .discriminatedUnion('type', [basicAuth, apiKeyAuth])
      .optional()
      .describe('Credentials; leave out for a cluster without security.'),
    tls: z
      .object({ ca: z.string().min(1).describe('Path of the PEM file of the CA that signed the cluster\'s HTTP certificates.') })
      .strict()
      .optional()
      .describe('TLS settings for https:// nodes.'),
    index_prefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, 'must be 1-50 characters: lower-case letters, digits, "-" or "_", not starting with "-" or "_"')
      .default('canhgac')
      .describe('Prefix of every index, alias and template the store creates (<prefix>-findings-YYYY.MM, <prefix>-state, …).'),
    retention: z
      .object({
        alerts_days: z.number().int().min(365).max(36500).default(400)
          .describe('Closed alerts last seen longer ago than this are deleted (at least 365 days).'),
        findings_days: z.number().int().min(90).max(36500).default(120)
          .describe('Findings observed longer ago than this are deleted, whole monthly indices at a time (at least 90 days).'),
        interval_hours: z.number().min(0).max(24 * 7).default(6)
          .describe('How often the collector applies the retention; 0 turns the schedule off (prune() still works).'),
      })
      .strict()
      .default({ alerts_days: 400, findings_days: 120, interval_hours: 6 })
      .describe('Collector-managed retention (no ILM needed on the cluster).'),
    bulk: z
      .object({
        max_docs: z.number().int().min(1).max(100_000).default(1000).describe('A bulk request is sent when this many documents wait.'),
        max_bytes: z.number().int().min(1024).max(100 * 1024 * 1024).default(5 * 1024 * 1024)
          .describe('… or when the waiting documents reach this many bytes.'),
        flush_ms: z.number().int().min(0).max(60_000).default(50).describe('… or this many milliseconds after the first one arrived.'),
        concurrency: z.number().int().min(1).max(16).default(2).describe('Bulk requests in flight at once.'),
        retry_ms: z.number().int().min(0).max(600_000).default(30_000)
          .describe('How long a write is retried (429, 5xx, connection errors) before the commit fails with STORE_UNAVAILABLE.'),
      })
      .strict()
      .default({ max_docs: 1000, max_bytes: 5 * 1024 * 1024, flush_ms: 50, concurrency: 2, retry_ms: 30_000 })
      .describe('Batching of findings into bulk requests.'),
    request_timeout_ms: z.number().int().min(100).max(600_000).default(30_000).describe('Timeout of one HTTP request to the cluster.'),
  })
  .strict()
  .describe('An Elasticsearch or OpenSearch cluster as the store (DESIGN §3.4).');

export type SearchStoreConfig = z.output<typeof searchStoreConfigSchema>;
export type SearchStoreConfigInput = z.input<typeof searchStoreConfigSchema>;

/** Parses and checks the config; throws STORE_INVALID_INPUT naming the field (`store.nodes.0`), never its value. */
export function parseSearchStoreConfig(input: unknown): SearchStoreConfig {
  const parsed = searchStoreConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const where = ['store', ...path.map(String)].join('.');
    throw new StoreError(StoreCodes.INVALID_INPUT, `invalid store configuration: ${where} ${issue?.message ?? 'is invalid'}`, {
      where, hint: 'See docs/search-engines.md for the store settings.',
    });
  }
  const cfg = parsed.data;
  if (cfg.type === 'opensearch' && cfg.auth?.type === 'api_key') {
    throw new StoreError(StoreCodes.INVALID_INPUT, 'invalid store configuration: store.auth.type api_key is for Elasticsearch; OpenSearch does not accept API keys', {
      where: 'store.auth.type', hint: 'Use auth.type: basic with an OpenSearch user.',
    });
  }
  return cfg;
}
