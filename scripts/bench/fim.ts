/**
 * FIM benchmark (`npm run bench -- fim`):
 *
 * 1. Baseline of /usr/share + /usr/bin, in the same run on the same files (page cache warmed
 *    first, rounds interleaved, medians): our check's first collect() in a child process (walk,
 *    hash in worker threads, durable baseline file) against a serial `sha256sum` of the same
 *    files in one process chain (`find -print0 | xargs -0 sha256sum`) and `aide --init` with a
 *    minimal config over the same paths and sha256, run as packaged (one worker thread), plus
 *    AIDE with a worker per core for reference. Wall time, files/s and peak RSS (the child's
 *    `process.resourceUsage().maxRSS`, which counts its worker threads; GNU time's %M for the
 *    tools). Our hashes are checked against sha256sum's output, file by file.
 * 2. Real time: 1,000 files changed in a burst under a running check; every change must be
 *    reported, and the delay from each write to its finding at the check's emit is measured.
 * 3. At rest: a child process runs the check as the agent does (start(): baseline, then real-time
 *    watching) over 10,000 files in 200 folders, lets it settle, then idles 30 s: RSS at the end,
 *    CPU (all threads) over the idle window, and the inotify watches it holds; once with our
 *    watcher and once with chokidar 5's (the reference, one watch per file) in its place.
 *
 * The child modes (`node fim.js --child baseline <stateDir> <path>…`, `--child rest <stateDir>
 * <root> <idleMs>`) are how steps 1 and 3 run ours; `node fim.js --at-rest` runs step 3 alone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { logger } from '../../common/logger.js';
import type { CheckContext, Observation } from '../../agent/checks/check.js';
import { BASELINE_FILE, parseBaseline } from '../../agent/checks/fim/baseline.js';
import { createFimCheck } from '../../agent/checks/fim/index.js';
import { inotifyWatchedInodes, watchPaths, watchWithChokidar } from '../../agent/host/watch.js';

const PATHS = ['/usr/share', '/usr/bin'];
const ROUNDS = 3;
const BURST = 1_000;
const REST_DIRS = 200;
const REST_FILES = 10_000;
const REST_IDLE_MS = 30_000;
/** After start() returns: idle hash workers stop after 5 s; the window starts once they have. */
const REST_SETTLE_MS = 8_000;
const REST_BUDGET = { rssMb: 70, cpuPct: 1 };

interface ChildReport { ms: number; entries: number; maxRssKb: number; threads: number; lagMaxMs: number; lagP99Ms: number }
interface Run { ms: number; rssKb: number }

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!; };

/** Child: one baseline with the check as the agent runs it (defaults, but every file hashed as sha256sum does). */
async function childBaseline(stateDir: string, paths: string[]): Promise<void> {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const check = createFimCheck({ packages: async () => undefined });
  check.init({ paths, max_hash_bytes: 16 * 1024 * 1024 * 1024 });
  const ctx: CheckContext = { log: logger('bench', { check: 'fim' }), stateDir, emit: async () => undefined };
  const t0 = performance.now();
  const r = await check.collect(ctx);
  const ms = performance.now() - t0;
  lag.disable();
  const h = r.events[0]?.fields ?? {};
  const report: ChildReport = {
    ms, entries: Number(h['fim.baseline.entries'] ?? 0), threads: Number(h['fim.baseline.threads'] ?? 0),
    maxRssKb: process.resourceUsage().maxRSS, lagMaxMs: lag.max / 1e6, lagP99Ms: lag.percentile(99) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** `ours`: the check as shipped; `chokidar`: the same check on chokidar 5's watcher (one watch per file), the reference. */
type RestWatcher = 'ours' | 'chokidar';
interface RestReport { watcher: RestWatcher; files: number; dirs: number; watches: number; rssKb: number; cpuPct: number; heapMb: number; idleMs: number; startMs: number }

/** Child: the check running as the agent runs it, measured at rest. */
async function childRest(stateDir: string, root: string, idleMs: number, watcher: RestWatcher): Promise<void> {
  const check = createFimCheck({ packages: async () => undefined, watch: watcher === 'chokidar' ? watchWithChokidar : watchPaths });
  check.init({ paths: [root] });
  const ctx: CheckContext = { log: logger('bench', { check: 'fim' }), stateDir, emit: async () => undefined };
  const t0 = performance.now();
  await check.start!(ctx);
  const startMs = performance.now() - t0;
  await sleep(REST_SETTLE_MS);
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(idleMs);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - w0;
  const mem = process.memoryUsage();
  const report: RestReport = {
    watcher, files: 0, dirs: 0, watches: inotifyWatchedInodes().length, rssKb: Math.round(mem.rss / 1024),
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100, heapMb: mem.heapUsed / 2 ** 20, idleMs: wall, startMs,
  };
  await check.stop!();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** 10,000 files in 200 folders (two levels: 20 × 10), watched by a fresh agent-like process, then left alone. */
export function atRest(watcher: RestWatcher, idleMs = REST_IDLE_MS): RestReport {
  const root = mkdtempSync(join(tmpdir(), 'cg-bench-fim-rest-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'cg-bench-fim-rest-state-'));
  try {
    let dirs = 1; // the root
    for (let a = 0; a < REST_DIRS / 10; a++) {
      for (let b = 0; b < 10; b++) {
        const dir = join(root, `a${a}`, `b${b}`);
        if (b === 0) dirs++; // the parent a<n>
        mkdirSync(dir, { recursive: true });
        dirs++;
        for (let f = 0; f < REST_FILES / REST_DIRS; f++) writeFileSync(join(dir, `f${f}.conf`), `setting_${a}_${b}_${f} = ${f}\n`);
      }
    }
    const self = fileURLToPath(import.meta.url);
    const out = execFileSync(process.execPath, [self, '--child', 'rest', stateDir, root, String(idleMs), watcher], { encoding: 'utf8', env: { ...process.env, CANHGAC_LOG_LEVEL: 'error' } });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as RestReport;
    return { ...r, files: REST_FILES, dirs };
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const withinBudget = (r: RestReport): boolean => r.rssKb / 1024 <= REST_BUDGET.rssMb && r.cpuPct <= REST_BUDGET.cpuPct;

const restLine = (r: RestReport): string =>
  `at rest (${r.watcher}): ${r.files.toLocaleString('en-US')} files, ${r.dirs} folders, ${r.watches.toLocaleString('en-US')} inotify watches, RSS ${Math.round(r.rssKb / 1024)} MB (budget ${REST_BUDGET.rssMb}), CPU ${r.cpuPct.toFixed(2)} % of a core over ${(r.idleMs / 1000).toFixed(0)} s (budget ${REST_BUDGET.cpuPct} %), heap ${r.heapMb.toFixed(0)} MB, start ${(r.startMs / 1000).toFixed(2)} s`;

function ours(stateDir: string): ChildReport {
  rmSync(join(stateDir, BASELINE_FILE), { force: true });
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [self, '--child', 'baseline', stateDir, ...PATHS], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, CANHGAC_LOG_LEVEL: 'error' } });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ChildReport;
}

/** Runs a shell pipeline under GNU time: wall time measured here, peak RSS from time's %M (KB). */
function timed(script: string): Run {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return { ms, rssKb: Number(r.stderr.trim().split('\n').at(-1)) };
}

const SHA = (out: string) => `find ${PATHS.join(' ')} -type f -print0 | xargs -0 sha256sum > ${out}`;

function aideConfig(dir: string, workers?: string): string {
  const conf = join(dir, `aide-${workers ?? 'packaged'}.conf`);
  writeFileSync(conf, [
    `database_out=file:${join(dir, 'aide.db.new')}`,
    'gzip_dbout=no',
    'report_url=stdout',
    ...(workers ? [`num_workers=${workers}`] : []),
    'Checks = p+i+n+u+g+s+m+c+sha256',
    ...PATHS.map((p) => `${p} Checks`),
    '',
  ].join('\n'));
  return conf;
}

function aide(dir: string, workers?: string): Run {
  rmSync(join(dir, 'aide.db.new'), { force: true });
  return timed(`aide --init --config=${aideConfig(dir, workers)} > /dev/null`);
}

/** Our baseline's hashes against sha256sum's, file by file. */
function agreement(stateDir: string, shaOut: string): { compared: number; differ: string[]; missing: number } {
  const b = parseBaseline(readFileSync(join(stateDir, BASELINE_FILE), 'utf8'), BASELINE_FILE);
  let compared = 0;
  let missing = 0;
  const differ: string[] = [];
  for (const line of readFileSync(shaOut, 'utf8').split('\n')) {
    if (line.length < 67) continue;
    const hash = line.slice(0, 64);
    const path = line.slice(66);
    const e = b.entries.get(path);
    if (!e || e.sha256 === undefined) { missing++; continue; }
    compared++;
    if (e.sha256 !== hash) differ.push(path);
  }
  return { compared, differ, missing };
}

async function realtime(): Promise<{ reported: number; p50: number; p95: number; max: number; total: number }> {
  const root = mkdtempSync(join(tmpdir(), 'cg-bench-fim-rt-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'cg-bench-fim-state-'));
  // Ten folders of 100: the default storm limit (200 changes per prefix per 60 s) lets each through one by one.
  const files = Array.from({ length: BURST }, (_, i) => join(root, `d${i % 10}`, `f${i}.txt`));
  for (let d = 0; d < 10; d++) mkdirSync(join(root, `d${d}`));
  for (const f of files) writeFileSync(f, 'before\n');
  const written = new Map<string, number>();
  const seen = new Map<string, number>();
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => { done = r; });
  const check = createFimCheck({
    packages: async () => undefined,
    onEmit: (obs: Observation[]) => {
      const t = performance.now();
      for (const o of obs) {
        const p = String(o.fields['file.path']);
        if (o.kind === 'fim' && written.has(p) && !seen.has(p)) seen.set(p, t);
      }
      if (seen.size === BURST) done();
    },
  });
  check.init({ paths: [root] });
  const ctx: CheckContext = { log: logger('bench', { check: 'fim' }), stateDir, emit: async () => undefined };
  try {
    await check.start!(ctx);
    const t0 = performance.now();
    for (const f of files) {
      writeFileSync(f, `after ${f}\n`);
      written.set(f, performance.now());
    }
    await Promise.race([all, new Promise((r) => setTimeout(r, 60_000))]);
    const delays = [...seen].map(([p, t]) => t - written.get(p)!);
    return { reported: seen.size, p50: pct(delays, 50), p95: pct(delays, 95), max: Math.max(...delays), total: Math.max(...seen.values()) - t0 };
  } finally {
    await check.stop!();
    rmSync(root, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export interface FimBench { body: string; ratio: number }

export async function benchFim(machine: string): Promise<FimBench> {
  const work = mkdtempSync(join(tmpdir(), 'cg-bench-fim-'));
  const stateDir = join(work, 'state');
  mkdirSync(stateDir);
  const shaOut = join(work, 'sha256sum.txt');
  try {
    const files = Number(execFileSync('sh', ['-c', `find ${PATHS.join(' ')} -type f | wc -l`], { encoding: 'utf8' }).trim());
    const bytes = Number(execFileSync('sh', ['-c', `find ${PATHS.join(' ')} -type f -printf '%s\\n' | awk '{s+=$1} END {print s}'`], { encoding: 'utf8' }).trim());
    console.log(`fim: ${files} files, ${(bytes / 2 ** 30).toFixed(2)} GiB under ${PATHS.join(' + ')}; warming the page cache…`);
    timed(SHA('/dev/null'));

    const oursRuns: ChildReport[] = [];
    const shaRuns: Run[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const o = ours(stateDir);
      const s = timed(SHA(shaOut));
      oursRuns.push(o);
      shaRuns.push(s);
      console.log(`  round ${i + 1}: ours ${(o.ms / 1000).toFixed(2)} s (${o.threads} threads, ${Math.round(o.maxRssKb / 1024)} MB), sha256sum ${(s.ms / 1000).toFixed(2)} s`);
    }
    const check = agreement(stateDir, shaOut);
    console.log(`  hashes compared with sha256sum: ${check.compared}, different: ${check.differ.length}, not hashed by us: ${check.missing}`);
    if (check.differ.length > 0) throw new Error(`our SHA-256 differs from sha256sum for ${check.differ.slice(0, 5).join(', ')}`);
    console.log('  aide --init (as packaged)…');
    const aidePackaged = aide(work);
    console.log(`  aide ${(aidePackaged.ms / 1000).toFixed(2)} s; aide --init with a worker per core…`);
    const aideAll = aide(work, '100%');
    console.log('  real time: 1,000 files changed in a burst…');
    const rt = await realtime();
    console.log(`  at rest: ${REST_FILES.toLocaleString('en-US')} files watched, ${REST_IDLE_MS / 1000} s idle, chokidar then ours…`);
    const restRef = atRest('chokidar');
    console.log(`  ${restLine(restRef)}`);
    const rest = atRest('ours');
    console.log(`  ${restLine(rest)}`);

    const ourMs = median(oursRuns.map((o) => o.ms));
    const ourRss = Math.max(...oursRuns.map((o) => o.maxRssKb));
    const shaMs = median(shaRuns.map((s) => s.ms));
    const ratio = ourMs / shaMs;
    const row = (what: string, ms: number, rssKb: number) =>
      `| ${what} | ${(ms / 1000).toFixed(2)} | ${Math.round(files / (ms / 1000)).toLocaleString('en-US')} | ${Math.round(rssKb / 1024)} | ${(ms / shaMs).toFixed(2)} |`;
    const lag = oursRuns.map((o) => o.lagMaxMs);
    const body = `## FIM baseline: /usr/share + /usr/bin (${files.toLocaleString('en-US')} files, ${(bytes / 2 ** 30).toFixed(2)} GiB)

${machine}. Same files, page cache warm, medians of ${ROUNDS} interleaved rounds (AIDE: one run each).

| tool | wall s | files/s | peak RSS MB | × sha256sum |
|---|---|---|---|---|
${row(`canhgac fim baseline (${oursRuns[0]!.threads} worker threads, durable baseline file)`, ourMs, ourRss)}
${row('sha256sum, serial (find -print0 \\| xargs -0 sha256sum)', shaMs, Math.max(...shaRuns.map((s) => s.rssKb)))}
${row('aide --init, as packaged (1 worker)', aidePackaged.ms, aidePackaged.rssKb)}
${row(`aide --init --workers 100% (${cpus().length})`, aideAll.ms, aideAll.rssKb)}

Budget: wall ≤ 1.0× sha256sum, peak RSS ≤ 150 MB. Our SHA-256 equals sha256sum's for all
${check.compared.toLocaleString('en-US')} files. The agent stays responsive while it hashes: the
event loop of the baselining process was blocked at most ${Math.max(...lag).toFixed(0)} ms (p99
${Math.max(...oursRuns.map((o) => o.lagP99Ms)).toFixed(0)} ms).

## FIM real time: ${BURST.toLocaleString('en-US')} files changed in a burst

Ten folders of 100 files under one watched root, each file rewritten once, as fast as Node can
write them; delay from each write to its finding at the check's emit (debounce 500 ms, the default).

| reported | p50 ms | p95 ms | max ms | last finding after ms |
|---|---|---|---|---|
| ${rt.reported} / ${BURST} | ${rt.p50.toFixed(0)} | ${rt.p95.toFixed(0)} | ${rt.max.toFixed(0)} | ${rt.total.toFixed(0)} |

## FIM at rest: ${REST_FILES.toLocaleString('en-US')} files in ${REST_DIRS} folders, watched

A fresh process runs the check as the agent does (\`start()\`: baseline, then real-time watching),
waits ${REST_SETTLE_MS / 1000} s for the hash workers to stop, then idles ${(rest.idleMs / 1000).toFixed(0)} s: RSS at the end, CPU of all
threads over the idle window, inotify watches from \`/proc/<pid>/fdinfo\`. Reference: the same
check with chokidar 5 (one watch per file) as its watcher, measured in the same run. The tree:
${REST_DIRS} folders of ${REST_FILES / REST_DIRS} files in ${REST_DIRS / 10} parent folders under the root (${rest.dirs} folders in all).

| watcher | inotify watches | RSS MB | CPU % of a core | heap MB |
|---|---|---|---|---|
| ours: one \`fs.watch\` per folder | ${rest.watches.toLocaleString('en-US')} | ${Math.round(rest.rssKb / 1024)} | ${rest.cpuPct.toFixed(2)} | ${rest.heapMb.toFixed(0)} |
| chokidar 5 (reference; still used on Windows and macOS) | ${restRef.watches.toLocaleString('en-US')} | ${Math.round(restRef.rssKb / 1024)} | ${restRef.cpuPct.toFixed(2)} | ${restRef.heapMb.toFixed(0)} |

Budget (DESIGN.md §7): RSS ≤ ${REST_BUDGET.rssMb} MB, CPU ≤ ${REST_BUDGET.cpuPct} % of a core — ${withinBudget(rest) ? 'within' : '**over**'}. Ours / chokidar RSS: ${(rest.rssKb / restRef.rssKb).toFixed(2)}.

Reproduce: \`npm run bench -- fim\` (needs \`aide\`: \`apt-get install -y aide\`); the at-rest part
alone: \`npm run build && node dist/scripts/bench/fim.js --at-rest\`.`;
    if (rt.reported !== BURST) throw new Error(`real time: only ${rt.reported} of ${BURST} changes were reported`);
    return { body, ratio };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [, , flag, mode, stateDir, ...rest] = process.argv;
  if (flag === '--at-rest') for (const w of ['chokidar', 'ours'] as const) console.log(restLine(atRest(w, mode ? Number(mode) : REST_IDLE_MS)));
  else if (flag === '--child' && mode === 'baseline' && stateDir) await childBaseline(stateDir, rest);
  else if (flag === '--child' && mode === 'rest' && stateDir && rest[0]) await childRest(stateDir, rest[0], Number(rest[1] ?? REST_IDLE_MS), rest[2] === 'chokidar' ? 'chokidar' : 'ours');
  else throw new Error('usage: fim.js --at-rest [idleMs] | --child baseline <stateDir> <path>… | --child rest <stateDir> <root> <idleMs> <ours|chokidar>');
}
