/**
 * The wire contract, loaded by reflection from proto/canhgac/v1/agent.proto (see docs/wire.md for why
 * reflection and not generated static code), plus gRPC service definitions whose (de)serializers are
 * protobufjs codecs.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type * as grpc from '@grpc/grpc-js';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'proto', 'canhgac', 'v1', 'agent.proto'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('proto/canhgac/v1/agent.proto not found next to the installed program');
}

export const PROTO_FILE = join(packageRoot(), 'proto', 'canhgac', 'v1', 'agent.proto');

const root = protobuf.loadSync(PROTO_FILE);
root.resolveAll();

export function type(name: string): protobuf.Type {
  return root.lookupType(`canhgac.v1.${name}`);
}

export const T = {
  EnrollRequest: type('EnrollRequest'),
  EnrollResponse: type('EnrollResponse'),
  AgentMessage: type('AgentMessage'),
  CollectorMessage: type('CollectorMessage'),
  Finding: type('Finding'),
  FindingBatch: type('FindingBatch'),
};

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true };

/** Encodes a plain object (validated against the message type first). */
export function encode(t: protobuf.Type, obj: Record<string, unknown>): Buffer {
  const err = t.verify(obj);
  if (err) throw new Error(`${t.name}: ${err}`);
  return Buffer.from(t.encode(t.fromObject(obj)).finish());
}

/** Decodes bytes into a plain object with numbers for 64-bit integers and defaults filled in. */
export function decode<R = Record<string, unknown>>(t: protobuf.Type, buf: Uint8Array): R {
  return t.toObject(t.decode(buf), TO_OBJECT) as R;
}

function serializer(t: protobuf.Type) {
  return (obj: Record<string, unknown>): Buffer => Buffer.from(t.encode(t.fromObject(obj)).finish());
}
function deserializer(t: protobuf.Type) {
  return (buf: Buffer): Record<string, unknown> => decode(t, buf);
}

export const enrollmentService: grpc.ServiceDefinition = {
  Enroll: {
    path: '/canhgac.v1.Enrollment/Enroll',
    requestStream: false,
    responseStream: false,
    requestSerialize: serializer(T.EnrollRequest),
    requestDeserialize: deserializer(T.EnrollRequest),
    responseSerialize: serializer(T.EnrollResponse),
    responseDeserialize: deserializer(T.EnrollResponse),
  },
};

/**
 * Server-side decoding of agent messages never throws: an oversize or malformed message becomes a
 * `{__refused}` marker that the stream handler answers with a Refusal, and the stream survives.
 */
export function safeAgentMessageDeserializer(maxBytes: number) {
  return (buf: Buffer): Record<string, unknown> => {
    if (buf.length > maxBytes) {
      return { __refused: { code: 'COLLECTOR_BATCH_TOO_LARGE', message: `message of ${buf.length} bytes exceeds the limit of ${maxBytes}; send smaller batches` } };
    }
    try {
      return decode(T.AgentMessage, buf);
    } catch (e) {
      return { __refused: { code: 'COLLECTOR_BATCH_INVALID', message: `malformed protobuf: ${(e as Error).message}` } };
    }
  };
}

export const agentStreamService: grpc.ServiceDefinition = {
  Connect: {
    path: '/canhgac.v1.AgentStream/Connect',
    requestStream: true,
    responseStream: true,
    requestSerialize: serializer(T.AgentMessage),
    requestDeserialize: safeAgentMessageDeserializer(4 * 1024 * 1024),
    responseSerialize: serializer(T.CollectorMessage),
    responseDeserialize: deserializer(T.CollectorMessage),
  },
};

/**
 * The agent's side of AgentStream. A batch goes out as bytes assembled from the outbox's already
 * encoded findings (`encodeBatchMessage`), so the agent never decodes and re-encodes what it stored.
 */
export const agentStreamClientService: grpc.ServiceDefinition = {
  Connect: {
    ...agentStreamService.Connect!,
    requestSerialize: (m: Buffer | Record<string, unknown>): Buffer => (Buffer.isBuffer(m) ? m : serializer(T.AgentMessage)(m)),
  },
};

/** AgentMessage{batch: FindingBatch{first_seq, last_seq, findings}} from encoded Finding messages. */
export function encodeBatchMessage(firstSeq: number, lastSeq: number, findings: readonly Uint8Array[]): Buffer {
  const batch = protobuf.Writer.create();
  batch.uint32((1 << 3) | 0).uint64(firstSeq);
  batch.uint32((2 << 3) | 0).uint64(lastSeq);
  for (const f of findings) batch.uint32((3 << 3) | 2).bytes(f);
  return Buffer.from(protobuf.Writer.create().uint32((2 << 3) | 2).bytes(batch.finish()).finish());
}
