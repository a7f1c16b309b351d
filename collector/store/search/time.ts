import { StoreCodes, StoreError } from '../errors.js';

/**
 * Canonical ISO-8601 UTC (`2024-05-01T03:00:00.000Z`), whatever offset the caller used; the same form
 * the SQLite store keeps, so records read back identically from every store.
 */
export function isoTime(value: string, what: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new StoreError(StoreCodes.INVALID_INPUT, `${what} is not an ISO-8601 time: ${JSON.stringify(String(value).slice(0, 64))}`);
  }
  return new Date(ms).toISOString();
}

export const maxIso = (a: string, b: string): string => (a >= b ? a : b);
export const minIso = (a: string, b: string): string => (a <= b ? a : b);
