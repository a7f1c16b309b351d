/**
 * The collector's gRPC services over a real socket with real TLS: enrollment, mutual TLS, bad input on the stream
 * (malformed protobuf, oversize message, invalid findings) — refused, stream survives — and a store that cannot write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { T, agentStreamService } from '../../proto/index.js';
import { toWire } from '../../proto/convert.js';
import { channelOptions, enroll } from '../../agent/transport/enroll.js';
import type { Identity } from '../../agent/transport/identity.js';
import { buildCollector, type Collector } from '../app.js';
import { openStore } from '../store/index.js';
import { hashToken } from './server.js';

let dir: string;
let collector: Collector;
let addr: string;
let identity: Identity;

async function token(uses: number | null = 1): Promise<string> {
  const t = `cgt_test_${randomUUID()}`;
  await collector.store.createToken({
    id: randomUUID(), hash: hashToken(t), group: 'test', createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600e3).toISOString(), usesLeft: uses, createdBy: 'test',
  });
  return t;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grpc-'));
  const store = await openStore({ type: 'sqlite' }, dir);
  collector = await buildCollector({ dataDir: dir, store, rules: { evaluate: () => [], summary: () => ({ rules: 0, errors: [] }) }, listen: { host: '127.0.0.1', port: 0 } });
  const { port } = await collector.listen();
  addr = `127.0.0.1:${port}`;
  identity = await enroll({ collector: addr, token: await token(), caFingerprint: collector.pki.caFingerprint, dataDir: join(dir, 'agent') });
});

afterAll(async () => {
  await collector.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A stream whose messages are raw bytes we choose, with the enrolled agent's certificate. */
function rawStream() {
  const def = { Connect: { ...agentStreamService.Connect!, requestSerialize: (b: Buffer) => b } };
  const Client = grpc.makeGenericClientConstructor(def as grpc.ServiceDefinition, 'AgentStream');
  const client = new Client(addr, grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem)), {
    ...channelOptions(addr), 'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const call = (client as unknown as { Connect: () => grpc.ClientDuplexStream<Buffer, Record<string, unknown>> }).Connect();
  const received: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  call.on('data', (m: Record<string, unknown>) => { received.push(m); waiters.splice(0).forEach((w) => w()); });
  let error: grpc.ServiceError | undefined;
  call.on('error', (e: grpc.ServiceError) => { error = e; waiters.splice(0).forEach((w) => w()); });
  return {
    send: (obj: Record<string, unknown>) => call.write(Buffer.from(T.AgentMessage.encode(T.AgentMessage.fromObject(obj)).finish())),
    sendRaw: (b: Buffer) => call.write(b),
    async next(pred: (m: Record<string, unknown>) => boolean, ms = 10_000): Promise<Record<string, unknown>> {
      const t0 = Date.now();
      for (;;) {
        const i = received.findIndex(pred);
        if (i >= 0) return received.splice(i, 1)[0]!;
        if (error) throw error;
        if (Date.now() - t0 > ms) throw new Error('no matching message');
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 200); });
      }
    },
    close: () => { call.end(); client.close(); },
  };
}

const wireFinding = (seq: number, over: Record<string, unknown> = {}) => ({
  ...toWire({
    id: randomUUID(), seq, observedAt: new Date().toISOString(), check: 'fim', kind: 'fim', stateKey: '', snapshotId: '', snapshotTotal: 0,
    fields: { 'file.path': `/tmp/x${seq}`, 'event.action': 'created' },
  }), ...over,
});

describe('AgentStream with bad input', () => {
  it('refuses malformed protobuf and an oversize message with a Refusal, and the stream keeps working', async () => {
    const s = rawStream();
    s.send({ hello: { agentId: identity.agentId, agentVersion: 'test' } });
    await s.next((m) => m.body === 'ack');
    s.sendRaw(Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])); // batch field with an impossible length
    const r1 = await s.next((m) => m.body === 'refusal');
    expect((r1.refusal as { code: string }).code).toBe('COLLECTOR_BATCH_INVALID');

    const big = { batch: { firstSeq: 1, lastSeq: 1, findings: [wireFinding(1, { stateKey: 'x'.repeat(5 * 1024 * 1024) })] } };
    s.send(big);
    const r2 = await s.next((m) => m.body === 'refusal');
    expect((r2.refusal as { code: string }).code).toBe('COLLECTOR_BATCH_TOO_LARGE');

    s.send({ batch: { firstSeq: 1, lastSeq: 2, findings: [wireFinding(1), wireFinding(2)] } });
    const ack = await s.next((m) => m.body === 'ack');
    expect((ack.ack as { upToSeq: number }).upToSeq).toBe(2);
    s.close();
  });

  it('stores invalid findings as a rejection record and acks them, so nothing vanishes and nothing loops', async () => {
    const s = rawStream();
    s.send({ hello: { agentId: identity.agentId } });
    await s.next((m) => m.body === 'ack');
    const bad = wireFinding(3, { kind: 'no-such-kind' });
    s.send({ batch: { firstSeq: 3, lastSeq: 4, findings: [bad, wireFinding(4)] } });
    const ack = await s.next((m) => m.body === 'ack' && (m.ack as { upToSeq: number }).upToSeq === 4);
    expect(ack).toBeDefined();
    const health = await collector.store.listFindings({ kind: 'health', limit: 100 });
    const rej = health.items.find((r) => r.fields['canhgac.rejected.id'] === bad.id);
    expect(rej?.fields['error.message']).toMatch(/unknown kind/);
    s.close();
  });

  it('a batch the store cannot write is not acked: the stream ends with UNAVAILABLE, the resend on a new stream is acked and stored once', async () => {
    const s = rawStream();
    s.send({ hello: { agentId: identity.agentId } });
    await s.next((m) => m.body === 'ack');
    // A real lock: another connection holds the database's write lock past the 5 s busy timeout.
    const lock = new Database(join(dir, 'canhgac.db'));
    lock.exec('BEGIN IMMEDIATE');
    const batch = { batch: { firstSeq: 10, lastSeq: 11, findings: [wireFinding(10), wireFinding(11)] } };
    try {
      s.send(batch);
      const e = await s.next((m) => m.body === 'ack' && (m.ack as { upToSeq: number }).upToSeq >= 10, 15_000).then(() => undefined, (x: unknown) => x);
      expect(e).toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining('locked') });
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
      s.close();
    }
    const ids = batch.batch.findings.map((f) => f.id as string);
    expect((await collector.store.knownFindingIds(ids)).size).toBe(0);
    const again = rawStream();
    again.send({ hello: { agentId: identity.agentId } });
    await again.next((m) => m.body === 'ack');
    again.send(batch);
    await again.next((m) => m.body === 'ack' && (m.ack as { upToSeq: number }).upToSeq === 11);
    expect((await collector.store.knownFindingIds(ids)).size).toBe(2);
    again.close();
  }, 30_000);

  it('refuses a hello that names another agent than the certificate', async () => {
    const s = rawStream();
    s.send({ hello: { agentId: 'someone-else' } });
    await expect(s.next((m) => m.body === 'ack' && false, 5000)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    s.close();
  });

  it('refuses enrollment with an expired token, without echoing the token', async () => {
    const t = `cgt_expired_${randomUUID()}`;
    await collector.store.createToken({
      id: randomUUID(), hash: hashToken(t), group: 'test', createdAt: new Date(Date.now() - 7200e3).toISOString(),
      expiresAt: new Date(Date.now() - 3600e3).toISOString(), usesLeft: 1, createdBy: 'test',
    });
    const e = await enroll({ collector: addr, token: t, caFingerprint: collector.pki.caFingerprint, dataDir: join(dir, 'agent-x') }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/expired/i);
    expect((e as Error).message).not.toContain(t);
  });
});
