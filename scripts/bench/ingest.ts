/**
 * Collector ingest over the real path: N simulated agents, each enrolled with its own certificate,
 * stream findings over gRPC with mutual TLS into a collector with the embedded SQLite store and the
 * shipped rules. Reference in the same run: the same findings committed through Store.commit into a fresh
 * SQLite store in batches of 500, one after another (no network, no rules). Plus rule evaluation alone over
 * the benign corpus. BENCH_CPU_PROFILE=<file> writes a CPU profile of the collector's event loop while
 * the agents stream (open it in Chrome DevTools or summarise it by self time).
 *
 * The agents run in a child process (they still share the machine's 2 cores with the collector, so the
 * figure is a lower bound for a collector on a machine of its own).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildCollector, resolveProgramPath } from '../../collector/app.js';
import { hashToken } from '../../collector/grpc/server.js';
import { loadRules } from '../../collector/rules.js';
import { openStore } from '../../collector/store/index.js';
import { KIND_FAMILY, type Finding, type FindingRecord } from '../../common/finding.js';
import { logger } from '../../common/logger.js';
import { enroll } from '../../agent/transport/enroll.js';
import { openOutbox } from '../../agent/transport/outbox.js';
import { startStream } from '../../agent/transport/stream.js';
import { recordFromFlat } from '../../collector/engine/index.js';

type Queued = Omit<Finding, 'seq'>;

/** BENCH_CPU_PROFILE=file.cpuprofile: the collector's main thread profiled over the streaming phase only. */
async function startProfile(): Promise<{ stopInto(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> => new Promise((res, rej) => {
    session.post(method, params ?? {}, (e, r) => (e ? rej(e) : res(r)));
  });
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stopInto(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

function fimFinding(agent: number, i: number): Queued {
  const dir = i % 3 === 0 ? '/tmp/build' : '/var/lib/app/cache';
  return {
    id: randomUUID(), observedAt: new Date().toISOString(), check: 'fim', kind: 'fim', stateKey: '', snapshotId: '', snapshotTotal: 0,
    fields: {
      'file.path': `${dir}/a${agent}/f${i}.dat`, 'file.name': `f${i}.dat`, 'file.directory': `${dir}/a${agent}`, 'file.extension': 'dat',
      'file.type': 'file', 'file.size': 1000 + i, 'file.mode': '0644', 'file.uid': 0, 'file.gid': 0, 'file.owner': 'root', 'file.group': 'root',
      'file.hash.sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'event.action': i % 2 ? 'modified' : 'created',
      'event.category': 'file', 'fim.source': 'realtime', 'fim.changes': ['content'],
    },
  };
}

export interface IngestBenchResult {
  agents: number; findings: number; grpcPerSec: number; collectorPerCpuSec: number; directPerSec: number; rulesPerSec: number; rules: number;
  /** Seconds: the streaming phase's wall time, and the CPU time the collector and the agents' process spent in it. */
  wallSec: number; collectorCpuSec: number; agentsCpuSec: number;
  /** 1-minute load average when streaming began (other work on the machine shows here). */
  load: number;
}

export async function benchIngest(agents = 100, perAgent = 1000): Promise<IngestBenchResult> {
  const root = mkdtempSync(join(tmpdir(), 'canhgac-bench-ingest-'));
  const log = logger('bench');
  try {
    // Reference: direct commits into SQLite.
    const direct = await openStore({ type: 'sqlite' }, join(root, 'direct'));
    const now = new Date().toISOString();
    await direct.upsertAgent({ id: 'ref', hostName: 'ref', certFingerprint: 'sha256:0', os: '', version: '', group: 'g', enrolledAt: now, lastSeen: now, lastSeq: 0, status: 'active' });
    const total = agents * perAgent;
    const recs: FindingRecord[] = [];
    for (let i = 0; i < total; i++) {
      const q = fimFinding(i % agents, i);
      recs.push({ ...q, seq: i + 1, agentId: 'ref', hostName: 'ref', receivedAt: now, family: KIND_FAMILY[q.kind] });
    }
    let t0 = performance.now();
    for (let i = 0; i < recs.length; i += 500) {
      await direct.commit({ agentId: 'ref', findings: recs.slice(i, i + 500), closedSnapshots: [], alerts: [], upToSeq: i + 500, lastSeen: now });
    }
    const directPerSec = total / ((performance.now() - t0) / 1000);
    await direct.close();

    // The real path.
    const dataDir = join(root, 'collector');
    const store = await openStore({ type: 'sqlite' }, dataDir);
    const rules = loadRules(resolveProgramPath('rules/detection'));
    const collector = await buildCollector({ dataDir, store, rules, listen: { host: '127.0.0.1', port: 0 }, log });
    const { port } = await collector.listen();
    const addr = `127.0.0.1:${port}`;
    const tokens: string[] = [];
    for (let a = 0; a < agents; a++) {
      const token = `cgt_bench_${randomUUID()}`;
      await store.createToken({ id: randomUUID(), hash: hashToken(token), group: 'bench', createdAt: now, expiresAt: new Date(Date.now() + 3600e3).toISOString(), usesLeft: 1, createdBy: 'bench' });
      tokens.push(token);
    }
    // The agents run in a child process, so the collector has this process (and its core) to itself.
    const child = fork(fileURLToPath(import.meta.url), ['--agents'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ask = <T>(msg: Record<string, unknown>): Promise<T> => new Promise((res, rej) => {
      child.once('message', (m) => ((m as { error?: string }).error ? rej(new Error((m as { error: string }).error)) : res(m as T)));
      child.send(msg);
    });
    await ask({ op: 'prepare', addr, fingerprint: collector.pki.caFingerprint, tokens, perAgent, root });
    const profile = process.env.BENCH_CPU_PROFILE ? await startProfile() : undefined;
    const cpu0 = process.cpuUsage();
    const load = loadavg()[0] ?? 0;
    const { ms, agentsCpuMs } = await ask<{ ms: number; agentsCpuMs: number }>({ op: 'go' });
    const cpu = process.cpuUsage(cpu0);
    if (profile) await profile.stopInto(process.env.BENCH_CPU_PROFILE!);
    // The collector's CPU time for the whole ingest: what it can do per core when agents are elsewhere.
    const collectorCpuSec = (cpu.user + cpu.system) / 1e6;
    const collectorPerCpuSec = total / collectorCpuSec;
    child.disconnect();
    const grpcPerSec = total / (ms / 1000);
    const stored = (await store.countFindings('kind')).fim ?? 0;
    if (stored !== total) throw new Error(`stored ${stored} of ${total} findings`);
    await collector.close();

    // Rule evaluation alone: the benign corpus, repeated.
    const corpus = parse(readFileSync(resolveProgramPath('test/corpus/benign.yaml'), 'utf8')) as { findings: Record<string, unknown>[] };
    const records = corpus.findings.map((f, i) => recordFromFlat(f as never, i));
    const loops = Math.ceil(200_000 / records.length);
    t0 = performance.now();
    for (let l = 0; l < loops; l++) for (const r of records) rules.evaluate(r);
    const rulesPerSec = (loops * records.length) / ((performance.now() - t0) / 1000);
    return {
      agents, findings: total, grpcPerSec, collectorPerCpuSec, directPerSec, rulesPerSec, rules: rules.summary().rules,
      wallSec: ms / 1000, collectorCpuSec, agentsCpuSec: agentsCpuMs / 1000, load,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The child process: enroll the agents, fill their outboxes, then stream them all and report the time. */
async function agentsProcess(): Promise<void> {
  const log = logger('bench.agents');
  let clients: { identity: Awaited<ReturnType<typeof enroll>>; outbox: ReturnType<typeof openOutbox> }[] = [];
  process.on('message', (m: { op: string; addr: string; fingerprint: string; tokens: string[]; perAgent: number; root: string }) => {
    void (async () => {
      try {
        if (m.op === 'prepare') {
          clients = [];
          for (const [a, token] of m.tokens.entries()) {
            const agentDir = join(m.root, `agent-${a}`);
            const identity = await enroll({ collector: m.addr, token, caFingerprint: m.fingerprint, dataDir: agentDir });
            const outbox = openOutbox(join(agentDir, 'outbox.db'), { maxEntries: m.perAgent * 2, maxBytes: 1 << 30 });
            outbox.enqueue(Array.from({ length: m.perAgent }, (_, i) => fimFinding(a, i)));
            clients.push({ identity, outbox });
          }
          process.send!({ ok: true });
        } else if (m.op === 'go') {
          const t0 = performance.now();
          const cpu0 = process.cpuUsage();
          const streams = clients.map((c) => startStream({
            identity: c.identity, outbox: c.outbox, log, batchMaxFindings: 500, batchMaxBytes: 1 << 20, window: 4,
            backoff: { initialMs: 200, maxMs: 2000 }, heartbeatMs: 30_000,
          }));
          await Promise.all(streams.map((s) => s.drained(600_000)));
          const ms = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          for (const s of streams) await s.stop();
          for (const c of clients) c.outbox.close();
          process.send!({ ms, agentsCpuMs: (cpu.user + cpu.system) / 1000 });
        }
      } catch (e) {
        process.send!({ error: (e as Error).message });
      }
    })();
  });
}

if (process.argv.includes('--agents')) void agentsProcess();
