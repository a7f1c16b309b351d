/**
 * vitest globalSetup: starts a real Elasticsearch and a real OpenSearch once for the whole run (in
 * parallel, fresh data) and stops them afterwards. Without Java/Maven it says so loudly and the
 * search-engine suites are skipped — unless CI=true, where that is a failure.
 */
import type { TestProject } from 'vitest/node';
import { TEST_PORTS, missingTools, startEngine, stopEngine, type SearchEnginesInfo } from './engines.js';

declare module 'vitest' {
  export interface ProvidedContext {
    searchEngines: SearchEnginesInfo;
  }
}

function banner(text: string): void {
  const line = '!'.repeat(78);
  process.stderr.write(`\n${line}\n!! ${text}\n${line}\n\n`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // For quick local runs of other suites: CANHGAC_SEARCH_ENGINES=off skips them (never under CI=true).
  const off = process.env.CANHGAC_SEARCH_ENGINES === 'off' ? 'CANHGAC_SEARCH_ENGINES=off' : undefined;
  const missing = off ?? (await missingTools());
  if (missing) {
    const reason = `Elasticsearch/OpenSearch suites SKIPPED: ${missing}`;
    if (process.env.CI === 'true') throw new Error(`${reason} — CI=true makes this a failure`);
    banner(reason);
    project.provide('searchEngines', { skip: reason });
    return async () => {};
  }
  const started = Date.now();
  const results = await Promise.allSettled([
    startEngine('elasticsearch', { port: TEST_PORTS.elasticsearch, fresh: true }),
    startEngine('opensearch', { port: TEST_PORTS.opensearch, fresh: true }),
  ]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Leave nothing running behind a failed setup.
    await Promise.allSettled([
      stopEngine('elasticsearch', { port: TEST_PORTS.elasticsearch }),
      stopEngine('opensearch', { port: TEST_PORTS.opensearch }),
    ]);
    throw failed.reason;
  }
  const [es, os] = results.map((r) => (r as PromiseFulfilledResult<string[]>).value) as [string[], string[]];
  process.stderr.write(`search engines ready in ${((Date.now() - started) / 1000).toFixed(1)}s: elasticsearch ${es[0]}, opensearch ${os[0]}\n`);
  project.provide('searchEngines', { elasticsearch: es[0]!, opensearch: os[0]! });
  return async () => {
    await Promise.allSettled([
      stopEngine('elasticsearch', { port: TEST_PORTS.elasticsearch }),
      stopEngine('opensearch', { port: TEST_PORTS.opensearch }),
      // In case a suite died before its own afterAll.
      stopEngine('elasticsearch', { port: TEST_PORTS.fault }),
      stopEngine('elasticsearch', { port: TEST_PORTS.cluster }),
    ]);
  };
}
