import * as grpc from '@grpc/grpc-js';
import { CanhGacError } from '../../common/errors.js';

/** The one place that maps error codes to gRPC status codes (STYLE 7). */
export function grpcStatusFor(code: string): grpc.status {
  if (code === 'STORE_UNAVAILABLE') return grpc.status.UNAVAILABLE;
  if (code.startsWith('STORE_TOKEN_') || code === 'COLLECTOR_ENROLL_TOKEN_INVALID') return grpc.status.UNAUTHENTICATED;
  if (code === 'COLLECTOR_AUTH_NO_CERTIFICATE') return grpc.status.UNAUTHENTICATED;
  if (code.startsWith('COLLECTOR_AUTH_')) return grpc.status.PERMISSION_DENIED;
  if (code === 'COLLECTOR_BATCH_TOO_LARGE') return grpc.status.RESOURCE_EXHAUSTED;
  if (code.endsWith('_INVALID')) return grpc.status.INVALID_ARGUMENT;
  return grpc.status.INTERNAL;
}

export function toServiceError(e: unknown): Partial<grpc.ServiceError> & { code: grpc.status; details: string } {
  if (e instanceof CanhGacError) {
    const hint = e.hint ? ` (${e.hint})` : '';
    return { code: grpcStatusFor(e.code), details: `${e.code}: ${e.message}${hint}`, message: e.message };
  }
  return { code: grpc.status.INTERNAL, details: 'COLLECTOR_INTERNAL: internal error (see the collector log)', message: 'internal error' };
}
