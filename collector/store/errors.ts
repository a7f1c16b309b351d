import { CanhGacError } from '../../common/errors.js';

/**
 * Errors of every store implementation. Callers match on `code` (see docs/store.md, "Errors");
 * the same code means the same thing whether the store is SQLite, Elasticsearch or OpenSearch.
 */
export const StoreCodes = {
  /** `expectedVersion` is not the current version, or a record with that id/hash already exists. */
  CONFLICT: 'STORE_CONFLICT',
  /** No alert/agent with that id. */
  NOT_FOUND: 'STORE_NOT_FOUND',
  /** The alert lifecycle does not allow this status change (see STATUS_TRANSITIONS). */
  INVALID_TRANSITION: 'STORE_INVALID_TRANSITION',
  TOKEN_UNKNOWN: 'STORE_TOKEN_UNKNOWN',
  TOKEN_EXPIRED: 'STORE_TOKEN_EXPIRED',
  TOKEN_USED_UP: 'STORE_TOKEN_USED_UP',
  /** The store cannot be reached or written right now (locked, disk full, I/O error, closed); retry later. */
  UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** The database file is damaged or not a Canh Gác database. */
  CORRUPT: 'STORE_CORRUPT',
  /** The caller handed the store something it must not hold (bad time, bad field name, mismatched agent). */
  INVALID_INPUT: 'STORE_INVALID_INPUT',
  /** The configured store type has no implementation in this build. */
  UNSUPPORTED: 'STORE_UNSUPPORTED',
} as const;

export type StoreCode = (typeof StoreCodes)[keyof typeof StoreCodes];

export class StoreError extends CanhGacError {
  declare readonly code: StoreCode;

  constructor(code: StoreCode, message: string, opts: { cause?: unknown; where?: string; hint?: string } = {}) {
    super(code, message, opts);
    this.name = 'StoreError';
  }
}

export function isStoreError(e: unknown, code?: StoreCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
