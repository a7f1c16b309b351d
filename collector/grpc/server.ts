/**
 * gRPC services of the collector: Enrollment (token + CSR → certificate) and AgentStream (mutual TLS,
 * finding batches → acks). Built apart from listening: `registerServices` adds the handlers to a server.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { LIMITS } from '../../common/finding.js';
import type { Logger } from '../../common/logger.js';
import { fingerprint } from '../../common/x509.js';
import { agentStreamService, enrollmentService } from '../../proto/index.js';
import type { WireFinding } from '../../proto/convert.js';
import { CollectorCodes, CollectorError } from '../errors.js';
import type { Pipeline } from '../pipeline/ingest.js';
import type { Store } from '../store/types.js';
import { decodeBatchMessage } from './batch-decode.js';
import { agentIdFromCert, type Pki } from './pki.js';
import { toServiceError } from './status.js';
import { isCanhGacError } from '../../common/errors.js';

export interface ServiceDeps {
  store: Store;
  pki: Pki;
  pipeline: Pipeline;
  log: Logger;
  policy: () => Record<string, unknown>;
}

/**
 * AgentStream with batches decoded by batch-decode.ts (the hot path); every other message, and any batch
 * it does not take, goes through the reflection decoder as before (which refuses malformed input).
 */
const connect = agentStreamService.Connect!;
const agentStreamServiceFast: grpc.ServiceDefinition = {
  Connect: {
    ...connect,
    requestDeserialize: (buf: Buffer) => (buf.length <= LIMITS.maxMessageBytes ? decodeBatchMessage(buf) : undefined) ?? connect.requestDeserialize(buf),
  },
};

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

interface EnrollReq { token: string; csrDer: Buffer; facts: { hostname: string; osFamily: string; osName: string; osVersion: string; architecture: string; agentVersion: string } | null }

export function registerServices(server: grpc.Server, deps: ServiceDeps): void {
  const { store, pki, pipeline, log } = deps;

  server.addService(enrollmentService, {
    Enroll: (call: grpc.ServerUnaryCall<EnrollReq, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      void (async () => {
        const req = call.request;
        const peer = call.getPeer();
        try {
          if (!req.token || req.token.length > 200) throw new CollectorError(CollectorCodes.ENROLL_TOKEN_INVALID, 'no enrollment token given');
          const hostName = String(req.facts?.hostname ?? '').slice(0, 255);
          if (!hostName) throw new CollectorError(CollectorCodes.ENROLL_CSR_INVALID, 'host facts must name the host');
          const token = await store.consumeToken(hashToken(req.token), new Date().toISOString());
          const agentId = randomUUID();
          const cert = await pki.signCsr(req.csrDer, agentId);
          const now = new Date().toISOString();
          await store.upsertAgent({
            id: agentId, hostName, certFingerprint: fingerprint(cert.rawData),
            os: [req.facts?.osName, req.facts?.osVersion].filter(Boolean).join(' ').slice(0, 200),
            version: String(req.facts?.agentVersion ?? '').slice(0, 40), group: token.group, enrolledAt: now, lastSeen: now,
            lastSeq: 0, status: 'active',
          });
          await store.appendAudit({ at: now, actor: `token:${token.id}`, action: 'agent.enroll', target: `agent:${agentId}`, from: '', to: 'active', reason: `enrolled ${hostName} from ${peer}` });
          log.info('agent enrolled', { 'agent.id': agentId, 'host.name': hostName, 'token.id': token.id });
          cb(null, {
            agentId, certificateDer: Buffer.from(cert.rawData), caChainDer: [Buffer.from(pki.caCert.rawData)], policy: deps.policy(),
          });
        } catch (e) {
          log.warn('enrollment refused', { peer, code: isCanhGacError(e) ? e.code : 'INTERNAL', reason: (e as Error).message });
          cb(toServiceError(e));
        }
      })();
    },
  });

  server.addService(agentStreamServiceFast, {
    Connect: (call: grpc.ServerDuplexStream<Record<string, unknown>, Record<string, unknown>>) => {
      void handleStream(call, deps).catch((e) => {
        log.error('agent stream failed', { error: (e as Error).message });
        if (!call.destroyed) call.destroy(Object.assign(new Error('internal error'), toServiceError(e)));
      });
    },
  });
}

async function authenticate(call: grpc.ServerDuplexStream<Record<string, unknown>, Record<string, unknown>>, deps: ServiceDeps) {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert?.raw) {
    throw new CollectorError(CollectorCodes.AUTH_NO_CERTIFICATE, 'a client certificate issued by this collector is required', {
      hint: 'enroll the agent first: canhgac-agent enroll --collector HOST:PORT --token T --ca-fingerprint sha256:…',
    });
  }
  if (!(await deps.pki.verifyClient(cert.raw))) {
    throw new CollectorError(CollectorCodes.AUTH_AGENT_UNKNOWN, 'the client certificate was not issued by this collector or has expired');
  }
  const agentId = agentIdFromCert(cert.raw);
  const agent = agentId ? await deps.store.getAgent(agentId) : undefined;
  if (!agent) throw new CollectorError(CollectorCodes.AUTH_AGENT_UNKNOWN, 'the certificate names an agent this collector does not know');
  if (agent.status === 'revoked') throw new CollectorError(CollectorCodes.AUTH_AGENT_REVOKED, 'this agent has been revoked');
  if (agent.certFingerprint !== fingerprint(cert.raw)) {
    throw new CollectorError(CollectorCodes.AUTH_AGENT_REVOKED, 'this certificate was replaced by a newer enrollment');
  }
  return agent;
}

async function handleStream(call: grpc.ServerDuplexStream<Record<string, unknown>, Record<string, unknown>>, deps: ServiceDeps): Promise<void> {
  const { store, pipeline } = deps;
  let agent;
  try {
    agent = await authenticate(call, deps);
  } catch (e) {
    deps.log.warn('agent stream refused', { peer: call.getPeer(), code: isCanhGacError(e) ? e.code : 'INTERNAL', reason: (e as Error).message });
    const se = toServiceError(e);
    call.emit('error', Object.assign(new Error(se.details), se));
    return;
  }
  const log = deps.log.child({ 'agent.id': agent.id });
  const identity = { id: agent.id, hostName: agent.hostName };
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  call.on('cancelled', () => { closed = true; });
  call.on('error', () => { closed = true; });
  call.on('end', () => { closed = true; void chain.then(() => { if (!call.destroyed) call.end(); }); });

  const send = (msg: Record<string, unknown>): void => { if (!closed && !call.destroyed) call.write(msg); };

  call.on('data', (msg: Record<string, unknown>) => {
    // Messages of one agent are handled strictly in order: acks follow commits.
    chain = chain.then(() => handleMessage(msg)).catch((e) => {
      const se = toServiceError(e);
      log.warn('agent stream closing', { code: isCanhGacError(e) ? e.code : 'INTERNAL', reason: (e as Error).message });
      closed = true;
      if (!call.destroyed) call.emit('error', Object.assign(new Error(se.details), se));
    });
  });

  async function handleMessage(msg: Record<string, unknown>): Promise<void> {
    if (closed) return;
    if ('__refused' in msg) {
      const r = msg.__refused as { code: string; message: string };
      log.warn('message refused', { code: r.code, reason: r.message });
      send({ refusal: { code: r.code, message: r.message, skip: false } });
      return;
    }
    const which = msg.body as string | undefined;
    if (which === 'hello') {
      const h = msg.hello as { agentId: string; agentVersion: string };
      if (h.agentId && h.agentId !== identity.id) {
        throw new CollectorError(CollectorCodes.AUTH_AGENT_MISMATCH, 'hello names a different agent than the certificate');
      }
      const current = await store.getAgent(identity.id);
      await store.touchAgent(identity.id, new Date().toISOString());
      // Tell the agent what is already stored, so it can drop those entries without resending.
      send({ ack: { upToSeq: current?.lastSeq ?? 0 } });
      send({ policy: deps.policy() });
      log.info('agent connected', { 'agent.version': h.agentVersion });
    } else if (which === 'batch') {
      const b = msg.batch as { firstSeq: number; lastSeq: number; findings: WireFinding[] };
      if (b.findings.length > LIMITS.maxBatchFindings) {
        send({ refusal: { firstSeq: b.firstSeq, lastSeq: b.lastSeq, code: CollectorCodes.BATCH_TOO_LARGE, message: `more than ${LIMITS.maxBatchFindings} findings in one batch; send smaller batches`, skip: false } });
        return;
      }
      const r = await pipeline.ingest(identity, b);
      send({ ack: { upToSeq: r.upToSeq } });
    } else if (which === 'heartbeat') {
      await store.touchAgent(identity.id, new Date().toISOString());
    } else if (which === 'commandResult') {
      log.info('command result', { result: msg.commandResult });
    }
  }
}
