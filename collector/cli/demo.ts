/**
 * canhgac demo: a collector with the embedded store and a local agent on this machine, talking over
 * the real gRPC/mTLS path (the agent is a child process), then a summary of what was found.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { logger } from '../../common/logger.js';
import { buildCollector, programDir } from '../app.js';
import { hashToken } from '../grpc/server.js';
import { loadRules } from '../rules.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { printSummary, printNewAlerts } from './summary.js';

export interface DemoOptions {
  dataDir: string;
  once: boolean;
  fimPaths: string[];
  storeConfig: Record<string, unknown>;
  rulesDir: string;
}

const agentBin = (): string => join(programDir(), 'bin', 'canhgac-agent.js');

function runChild(args: string[], onLine: (l: string) => void): { done: Promise<number>; kill(sig: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [agentBin(), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CANHGAC_LOG_FORMAT: 'json' } });
  createInterface({ input: child.stdout }).on('line', onLine);
  const errLines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => {
    errLines.push(l);
    if (errLines.length > 50) errLines.shift();
    // Agent log lines are JSON; show warnings and errors to the person, keep the rest quiet.
    try {
      const j = JSON.parse(l) as { 'log.level'?: string; message?: string; reason?: string; error?: string };
      if (j['log.level'] === 'error' || j['log.level'] === 'warn') onLine(`agent ${j['log.level']}: ${j.message}${j.reason ? ` (${j.reason})` : ''}${j.error ? ` (${j.error})` : ''}`);
    } catch {
      onLine(`agent: ${l}`);
    }
  });
  const done = new Promise<number>((res) => child.on('exit', (code, sig) => res(code ?? (sig ? 128 : 1))));
  return { done, kill: (sig) => child.kill(sig) };
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const tty = process.stdout.isTTY;
  const t0 = Date.now();
  const say = (l: string): void => { if (tty) process.stdout.write(`\x1b[2m[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${l}\x1b[0m\n`); };
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const log = logger('demo');
  // Ctrl-C / SIGTERM are heard from the start, so a stop during startup also closes the store and the
  // collector cleanly; each wait below ends early when one came.
  let stopped = false;
  const stopRequested = new Promise<void>((r) => {
    const on = (): void => { stopped = true; r(); };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  const untilStopped = async (child: ReturnType<typeof runChild>): Promise<number> => Promise.race([
    child.done,
    stopRequested.then(async () => { child.kill('SIGTERM'); await child.done; return -1; }),
  ]);
  // --once was asked to finish a pass and did not: 130 (interrupted), as a shell reports Ctrl-C. Watching
  // mode ends with Ctrl-C by design: 0.
  const interrupted = (): number => {
    console.error(`canhgac demo: stopped before the first pass finished; what was stored so far stays in ${o.dataDir} (canhgac alerts list --data-dir ${o.dataDir}); the next demo run continues from it`);
    return o.once ? 130 : 0;
  };
  let store: Store | undefined;
  let closeCollector: (() => Promise<void>) | undefined;
  try {
    say(`data directory ${o.dataDir}`);
    store = await openStore(o.storeConfig as never, o.dataDir);
    const rules = loadRules(o.rulesDir);
    const rs = rules.summary();
    say(`${rs.rules} rules loaded from ${o.rulesDir}`);
    for (const e of rs.errors) console.error(`rule skipped: ${e}`);

    let lastCommit = 0;
    const collector = await buildCollector({
      dataDir: o.dataDir, store, rules, listen: { host: '127.0.0.1', port: 0 }, log,
      onCommitted: (_a, r) => { lastCommit = Date.now(); if (r.stored) say(`collector stored ${r.stored} findings (up to #${r.upToSeq}), ${r.alerts} alert updates`); },
    });
    closeCollector = () => collector.close();
    const feed = collector.vulnerabilities.feed();
    say(feed ? `vulnerability feed ${feed.status.id} loaded: ${feed.index.stats.records} advisories (built ${feed.status.builtAt.slice(0, 10)})`
      : 'no vulnerability feed in this data directory: packages are not matched (canhgac feed import FILE --data-dir DIR)');
    const { port } = await collector.listen();
    const address = `127.0.0.1:${port}`;
    say(`collector listening on ${address} (TLS 1.3, mutual TLS), CA ${collector.pki.caFingerprint}`);

    const agentDir = join(o.dataDir, 'agent');
    if (!existsSync(join(agentDir, 'identity', 'agent.json'))) {
      const token = `cgt_${randomBytes(24).toString('base64url')}`;
      const now = new Date();
      await store.createToken({
        id: randomUUID(), hash: hashToken(token), group: 'demo', createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 10 * 60_000).toISOString(), usesLeft: 1, createdBy: 'demo',
      });
      say('enrolling the local agent with a fresh single-use token…');
      const enrolled = runChild(['enroll', '--collector', address, '--token', token, '--ca-fingerprint', collector.pki.caFingerprint, '--data-dir', agentDir], say);
      const code = await untilStopped(enrolled);
      if (stopped) return interrupted();
      if (code !== 0) {
        console.error('canhgac demo: the local agent could not enroll (see the messages above)');
        return 1;
      }
    } else {
      say('reusing the enrolled local agent and its baselines');
    }

    const args = ['run', '--data-dir', agentDir, '--collector', address, '--progress', ...o.fimPaths.flatMap((p) => ['--fim-path', p])];
    if (o.once) {
      if (stopped) return interrupted();
      const agent = runChild([...args, '--once'], say);
      const code = await untilStopped(agent);
      if (stopped) return interrupted();
      if (code !== 0) {
        console.error(`canhgac demo: the agent exited with code ${code} (see the messages above)`);
        return 1;
      }
      // Matching runs after the package snapshot is stored; wait for it before summing up.
      await collector.vulnerabilities.idle();
      await printSummary(store, collector.pki.caFingerprint, feed?.status.id);
      return 0;
    }

    if (stopped) return interrupted();
    const agent = runChild(args, say);
    // Print the summary once the first full pass has settled, then new alerts as they come.
    let since = new Date(0).toISOString();
    let printed = false;
    const timer = setInterval(() => {
      void (async () => {
        if (!store) return;
        if (!printed && lastCommit && Date.now() - lastCommit > 3000) {
          printed = true;
          since = new Date().toISOString();
          await collector.vulnerabilities.idle();
          await printSummary(store, collector.pki.caFingerprint, collector.vulnerabilities.feed()?.status.id);
          console.log('\nwatching for changes — press Ctrl-C to stop');
        } else if (printed) {
          since = await printNewAlerts(store, since);
        }
      })().catch((e) => log.error('summary failed', { error: (e as Error).message }));
    }, 1000);
    const ended = await Promise.race([
      agent.done.then((c) => ({ agentExit: c })),
      stopRequested.then((): { agentExit?: number } => ({})),
    ]);
    clearInterval(timer);
    if (ended.agentExit === undefined) {
      agent.kill('SIGTERM');
      await agent.done;
      // Stopped before the summary: say so, or the person sees nothing at all and may think the demo failed.
      return printed ? 0 : interrupted();
    }
    console.error(`canhgac demo: the agent stopped with code ${ended.agentExit}`);
    return 1;
  } finally {
    if (closeCollector) await closeCollector();
    else await store?.close();
  }
}
