/**
 * buildCollector: the whole collector without an open port (STYLE 9). `listen()` opens the gRPC port.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { FindingKind, FindingRecord } from '../common/finding.js';
import { logger, type Logger } from '../common/logger.js';
import { CollectorServerCredentials } from './grpc/credentials.js';
import { openPki, type Pki } from './grpc/pki.js';
import { registerServices } from './grpc/server.js';
import type { EvaluateOptions } from './engine/evaluate.js';
import { scheduleRetention, type RetentionOptions } from './retention.js';
import { buildPipeline, type AgentIdentity, type IngestResult, type Pipeline } from './pipeline/ingest.js';
import { createStatePass, type StatePass } from './state-schedule.js';
import type { AlertUpsert, CommitResult, IngestCommit, Store } from './store/types.js';
import type { EvaluationPolicy } from './vuln/findings.js';
import { createVulnService, type VulnService } from './vuln/service.js';

export interface RuleEvaluator {
  evaluate(r: FindingRecord, opts?: EvaluateOptions): AlertUpsert[];
  /** Rules loaded and problems found, for people. */
  summary(): { rules: number; errors: string[] };
  /** Finding kinds with rules whose outcome changes with time alone (age modifiers): the scheduled state pass scans them. */
  clockKinds?(): FindingKind[];
}

export interface VulnerabilityOptions {
  /** The shipped OS lifecycle table (default: rules/data/os-lifecycle.yaml of the program). */
  lifecycleFile?: string;
  /** How often to look for a newly imported feed (default 30 s; 0: only at start). */
  feedPollMs?: number;
  /** How often the state pass re-evaluates clock rules over current state (default 5 min; 0: never on a timer). */
  statePassMs?: number;
  /** The clock of evaluations and state passes (tests). */
  clock?: () => Date;
  policy?: EvaluationPolicy;
}

export interface CollectorOptions {
  dataDir: string;
  store: Store;
  rules: RuleEvaluator;
  listen?: { host: string; port: number };
  serverNames?: string[];
  maxMessageBytes?: number;
  log?: Logger;
  onCommitted?(agent: AgentIdentity, r: IngestResult): void;
  vulnerabilities?: VulnerabilityOptions;
  /** Retention for the embedded store (the search-engine store schedules its own). */
  retention?: RetentionOptions;
}

export interface Collector {
  pki: Pki;
  store: Store;
  pipeline: Pipeline;
  /** Vulnerability matching against the active feed (collector/vuln/service.ts). */
  vulnerabilities: VulnService;
  /** The scheduled evaluation of clock rules over current state (collector/state-schedule.ts). */
  statePass: StatePass;
  /** Opens the gRPC port; resolves with the bound port. */
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/** The folder the program is installed in (holds rules/, proto/). */
export function programDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export function resolveProgramPath(p: string): string {
  return isAbsolute(p) ? p : resolve(programDir(), p);
}

/** Kinds whose snapshot decides a host's vulnerabilities: its packages and its OS. */
const EVALUATE_ON: ReadonlySet<FindingKind> = new Set(['package', 'host']);

/**
 * The store as the pipeline sees it: after a commit that closed a package or host snapshot, the
 * host is queued for vulnerability matching (and its state pass). The pipeline itself is unchanged.
 */
function withSnapshotHook(store: Store, onClosed: (agentId: string) => void): Store {
  const commit = async (c: IngestCommit): Promise<CommitResult> => {
    const r = await store.commit(c);
    if (c.closedSnapshots.some((s) => EVALUATE_ON.has(s.kind))) onClosed(c.agentId);
    return r;
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'commit') return commit;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export async function buildCollector(o: CollectorOptions): Promise<Collector> {
  const log = o.log ?? logger('collector');
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const pki = await openPki(o.dataDir, o.serverNames ?? []);
  const v = o.vulnerabilities ?? {};
  const evaluate = (r: FindingRecord, opts?: EvaluateOptions): AlertUpsert[] => o.rules.evaluate(r, opts);
  const vulnerabilities: VulnService = createVulnService({
    dataDir: o.dataDir, store: o.store, evaluate, log: log.child({ component: 'collector.vuln' }),
    lifecycleFile: v.lifecycleFile ?? resolveProgramPath('rules/data/os-lifecycle.yaml'),
    ...(v.clock ? { clock: v.clock } : {}), ...(v.policy ? { policy: v.policy } : {}),
    onEvaluated: async (agentId) => { await statePass.runAgent(agentId); },
  });
  const statePass: StatePass = createStatePass({
    store: o.store, evaluate, log: log.child({ component: 'collector.state' }),
    clockKinds: () => o.rules.clockKinds?.() ?? ['host', 'vulnerability'],
    enrich: (r) => vulnerabilities.enrich(r),
    ...(v.clock ? { clock: v.clock } : {}),
  });
  await vulnerabilities.start();
  if ((v.feedPollMs ?? 30_000) > 0) vulnerabilities.watchFeed(v.feedPollMs ?? 30_000);
  if ((v.statePassMs ?? 300_000) > 0) statePass.start(v.statePassMs ?? 300_000);
  const pipeline = buildPipeline({
    store: withSnapshotHook(o.store, (agentId) => vulnerabilities.schedule(agentId)),
    evaluate: (r) => o.rules.evaluate(r), log: log.child({ component: 'collector.pipeline' }),
    ...(o.onCommitted ? { onCommitted: o.onCommitted } : {}),
  });
  const maxBytes = o.maxMessageBytes ?? 4 * 1024 * 1024;
  const server = new grpc.Server({
    // The transport accepts up to 4× the contract limit so that oversize batches get a Refusal
    // (and the stream survives) instead of a stream reset.
    'grpc.max_receive_message_length': maxBytes * 4,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  registerServices(server, {
    store: o.store, pki, pipeline, log: log.child({ component: 'collector.grpc' }),
    policy: () => ({ version: 1, checks: [], fimPaths: [] }),
  });
  const stopRetention = o.store.kind === 'sqlite'
    ? scheduleRetention(o.store, o.retention ?? { alertsDays: 400, findingsDays: 120, intervalHours: 6 }, log.child({ component: 'collector.retention' }))
    : () => undefined;
  let bound = false;
  return {
    pki, store: o.store, pipeline, vulnerabilities, statePass,
    listen() {
      const host = o.listen?.host ?? '127.0.0.1';
      const want = o.listen?.port ?? 7443;
      const creds = new CollectorServerCredentials(pki.caPem, pki.serverKeyPem, pki.serverCertPem);
      const addr = host.includes(':') ? `[${host}]:${want}` : `${host}:${want}`;
      return new Promise((res, rej) => {
        server.bindAsync(addr, creds, (err, port) => {
          if (err) return rej(err);
          bound = true;
          log.info('collector listening', { 'server.address': host, 'server.port': port, 'tls.server.ca_fingerprint': pki.caFingerprint });
          res({ host, port });
        });
      });
    },
    async close() {
      if (bound) {
        await new Promise<void>((res) => {
          const t = setTimeout(() => { server.forceShutdown(); res(); }, 3000);
          server.tryShutdown(() => { clearTimeout(t); res(); });
        });
      }
      stopRetention();
      await vulnerabilities.close();
      await statePass.stop();
      await o.store.close();
    },
  };
}
