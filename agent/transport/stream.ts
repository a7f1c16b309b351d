/**
 * The agent's side of AgentStream: sends outbox entries in batches, deletes them on ack, reconnects
 * with exponential backoff and jitter, and resends whatever was not acknowledged.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../common/logger.js';
import { agentStreamClientService, encodeBatchMessage } from '../../proto/index.js';
import { AGENT_VERSION, channelOptions } from './enroll.js';
import type { Identity } from './identity.js';
import type { Outbox } from './outbox.js';

export interface StreamOptions {
  identity: Identity;
  /** Overrides the address stored at enrollment (the collector moved). */
  collector?: string;
  outbox: Outbox;
  log: Logger;
  batchMaxFindings: number;
  batchMaxBytes: number;
  /** Batches in flight without an ack. */
  window: number;
  backoff: { initialMs: number; maxMs: number };
  heartbeatMs: number;
}

export interface StreamClient {
  /** Something was enqueued: send it. */
  wake(): void;
  connected(): boolean;
  /** Resolves when the outbox is empty (everything acked) or rejects after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Exponential backoff with full jitter in [d/2, d]. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, rnd = Math.random): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
  return Math.round(d / 2 + rnd() * (d / 2));
}

type Duplex = grpc.ClientDuplexStream<Buffer | Record<string, unknown>, Record<string, unknown>>;

export function startStream(o: StreamOptions): StreamClient {
  const { outbox, log } = o;
  const Client = grpc.makeGenericClientConstructor(agentStreamClientService, 'AgentStream');
  const creds = grpc.credentials.createSsl(Buffer.from(o.identity.caPem), Buffer.from(o.identity.keyPem), Buffer.from(o.identity.certPem));
  const address = o.collector ?? o.identity.collector;
  let client: grpc.Client | undefined;
  let call: Duplex | undefined;
  let ready = false;
  let stopped = false;
  let attempt = 0;
  let sentUpTo = 0;
  let inflight: number[] = [];
  let batchLimit = o.batchMaxFindings;
  let reconnectTimer: NodeJS.Timeout | undefined;
  const waiters: (() => void)[] = [];

  const heartbeat = setInterval(() => {
    if (ready && call) {
      const d = outbox.depth();
      call.write({ heartbeat: { sentAtMs: Date.now(), outboxDepth: d.entries, outboxBytes: d.bytes } });
    }
  }, o.heartbeatMs);
  heartbeat.unref();

  function notifyDrained(): void {
    if (outbox.depth().entries === 0) while (waiters.length) waiters.shift()!();
  }

  function pump(): void {
    if (!ready || !call || stopped) return;
    while (inflight.length < o.window) {
      const entries = outbox.peek(sentUpTo, batchLimit, o.batchMaxBytes);
      if (!entries.length) break;
      const first = entries[0]!.seq;
      const last = entries[entries.length - 1]!.seq;
      call.write(encodeBatchMessage(first, last, entries.map((e) => e.bytes)));
      sentUpTo = last;
      inflight.push(last);
    }
  }

  function onAck(upTo: number): void {
    if (upTo > 0) outbox.ack(upTo);
    inflight = inflight.filter((s) => s > upTo);
    if (upTo > sentUpTo) sentUpTo = upTo;
    if (!ready) {
      ready = true;
      attempt = 0;
      log.info('connected to collector', { 'server.address': address, 'agent.acked_seq': upTo });
    }
    notifyDrained();
    pump();
  }

  function scheduleReconnect(reason: string): void {
    ready = false;
    inflight = [];
    call = undefined;
    if (client) { client.close(); client = undefined; }
    if (stopped || reconnectTimer) return;
    const delay = backoffDelay(attempt++, o.backoff.initialMs, o.backoff.maxMs);
    log.warn('collector connection lost', { reason, 'retry.delay_ms': delay, 'retry.attempt': attempt });
    reconnectTimer = setTimeout(() => { reconnectTimer = undefined; connect(); }, delay);
    reconnectTimer.unref?.();
  }

  function connect(): void {
    if (stopped) return;
    client = new Client(address, creds, { ...channelOptions(address), 'grpc.max_send_message_length': 16 * 1024 * 1024, 'grpc.keepalive_time_ms': 30_000 });
    const c = (client as unknown as { Connect: () => Duplex }).Connect();
    call = c;
    // Resend everything not acked: the collector deduplicates by finding id.
    sentUpTo = 0;
    c.on('data', (msg: Record<string, unknown>) => {
      if (c !== call) return;
      if (msg.body === 'ack') onAck(Number((msg.ack as { upToSeq: number }).upToSeq));
      else if (msg.body === 'refusal') {
        const r = msg.refusal as { code: string; message: string; firstSeq: number };
        log.warn('collector refused a batch', { code: r.code, reason: r.message });
        if (r.code === 'COLLECTOR_BATCH_TOO_LARGE' && batchLimit > 1) {
          batchLimit = Math.max(1, Math.floor(batchLimit / 2));
          // Resend from the refused batch in smaller pieces.
          scheduleReconnect('batch too large; retrying with smaller batches');
        }
      } else if (msg.body === 'policy') {
        log.debug('policy received', { policy: msg.policy });
      }
    });
    c.on('error', (e: grpc.ServiceError) => {
      if (c !== call) return;
      const fatal = e.code === grpc.status.PERMISSION_DENIED || e.code === grpc.status.UNAUTHENTICATED;
      if (fatal) log.error('collector refused this agent', { code: e.code, reason: e.details });
      scheduleReconnect(e.details || e.message);
    });
    c.on('end', () => { if (c === call) scheduleReconnect('stream ended'); });
    const d = outbox.depth();
    c.write({ hello: { agentId: o.identity.agentId, agentVersion: AGENT_VERSION, configVersion: 0, lastSeq: d.lastSeq, firstUnackedSeq: d.firstSeq } });
  }

  connect();

  return {
    wake: () => pump(),
    connected: () => ready,
    drained(timeoutMs) {
      if (outbox.depth().entries === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          const i = waiters.indexOf(done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`outbox not drained within ${timeoutMs} ms (${outbox.depth().entries} findings waiting)`));
        }, timeoutMs);
        const done = (): void => { clearTimeout(t); resolve(); };
        waiters.push(done);
      });
    },
    async stop() {
      stopped = true;
      clearInterval(heartbeat);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const c = call;
      call = undefined;
      if (c) { c.end(); c.cancel(); }
      client?.close();
    },
  };
}
