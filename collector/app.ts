/**
 * buildCollector: the whole collector without an open port (STYLE 9). `listen()` opens the gRPC port.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { FindingRecord } from '../common/finding.js';
import { logger, type Logger } from '../common/logger.js';
import { CollectorServerCredentials } from './grpc/credentials.js';
import { openPki, type Pki } from './grpc/pki.js';
import { registerServices } from './grpc/server.js';
import { buildPipeline, type AgentIdentity, type IngestResult, type Pipeline } from './pipeline/ingest.js';
import type { AlertUpsert, Store } from './store/types.js';

export interface RuleEvaluator {
  evaluate(r: FindingRecord): AlertUpsert[];
  /** Rules loaded and problems found, for people. */
  summary(): { rules: number; errors: string[] };
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
}

export interface Collector {
  pki: Pki;
  store: Store;
  pipeline: Pipeline;
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

export async function buildCollector(o: CollectorOptions): Promise<Collector> {
  const log = o.log ?? logger('collector');
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const pki = await openPki(o.dataDir, o.serverNames ?? []);
  const pipeline = buildPipeline({
    store: o.store, evaluate: (r) => o.rules.evaluate(r), log: log.child({ component: 'collector.pipeline' }),
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
  let bound = false;
  return {
    pki, store: o.store, pipeline,
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
      await o.store.close();
    },
  };
}
