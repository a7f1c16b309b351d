/** Shared helpers for end-to-end tests: real processes from the built program, temp dirs, polling. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '..');
export const CANHGAC = join(ROOT, 'bin', 'canhgac.js');
export const AGENT = join(ROOT, 'bin', 'canhgac-agent.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `canhgac-${prefix}-`));
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

export interface Run { code: number; stdout: string; stderr: string }

export function run(bin: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, env: { ...process.env, CANHGAC_LOG_FORMAT: 'json', CANHGAC_LOG_LEVEL: 'info', ...opts.env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface Service { proc: ChildProcess; lines: string[]; waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>; stop(sig?: NodeJS.Signals): Promise<number> }

export function start(bin: string, args: string[], env: Record<string, string> = {}): Service {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CANHGAC_LOG_FORMAT: 'json', CANHGAC_LOG_LEVEL: 'info', ...env } });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onLine = (l: string): void => {
    lines.push(l);
    for (const w of [...waiters]) {
      const m = l.match(w.re);
      if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
    }
  };
  createInterface({ input: proc.stdout! }).on('line', onLine);
  createInterface({ input: proc.stderr! }).on('line', onLine);
  const exited = new Promise<number>((res) => proc.on('exit', (c, s) => res(c ?? (s ? 128 : 1))));
  return {
    proc, lines,
    waitFor(re, timeoutMs = 30_000) {
      for (const l of lines) { const m = l.match(re); if (m) return Promise.resolve(m); }
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`timed out waiting for ${re}; output:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (m) => { clearTimeout(t); res(m); } });
      });
    },
    async stop(sig = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
      return exited;
    },
  };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) { last = e; }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A collector data dir with a config listening on a free port, and the agent config for FIM-only runs. */
export function writeCollectorConfig(dataDir: string, port = 0): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'collector.yaml'), `listen:\n  host: 127.0.0.1\n  port: ${port}\n`);
}

export function writeFimOnlyAgentConfig(agentDir: string, fimPaths: string[], extra = ''): void {
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(agentDir, 'agent.yaml'), [
    'transport:', '  backoff_initial_ms: 200', '  backoff_max_ms: 2000',
    'checks:', '  inventory: { enabled: "off" }', '  packages: { enabled: "off" }', '  listeners: { enabled: "off" }',
    '  fim:', '    paths:', ...fimPaths.map((p) => `      - ${JSON.stringify(p)}`), extra,
  ].join('\n') + '\n');
}

export async function startCollector(dataDir: string): Promise<{ svc: Service; port: number; fingerprint: string }> {
  const svc = start(CANHGAC, ['serve', '--data-dir', dataDir]);
  const m = await svc.waitFor(/collector listening on [^:]+:(\d+); CA fingerprint (sha256:[0-9a-f]{64})/);
  return { svc, port: Number(m[1]), fingerprint: m[2]! };
}

export function createToken(dataDir: string, extra: string[] = []): string {
  const r = run(CANHGAC, ['token', 'create', '--data-dir', dataDir, '--json', ...extra]);
  if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { token: string }).token;
}
