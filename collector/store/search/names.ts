/**
 * Index names and document ids. Findings and alerts live in monthly indices (`<prefix>-findings-2024.05`)
 * behind a read alias (`<prefix>-findings`); writes go to the month of the document's time (UTC).
 * State, agents, tokens, audit and the store's bookkeeping (`meta`) are single small indices.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Names {
  prefix: string;
  findings: string;
  alerts: string;
  state: string;
  agents: string;
  tokens: string;
  audit: string;
  meta: string;
  /** Findings that current state items still point to, kept when their month is deleted. */
  pinned: string;
  findingsPattern: string;
  alertsPattern: string;
  /** Monthly index for an ISO time or epoch ms. */
  findingsMonth(t: string | number): string;
  alertsMonth(t: string | number): string;
}

export function names(prefix: string): Names {
  return {
    prefix,
    findings: `${prefix}-findings`,
    alerts: `${prefix}-alerts`,
    state: `${prefix}-state`,
    agents: `${prefix}-agents`,
    tokens: `${prefix}-tokens`,
    audit: `${prefix}-audit`,
    meta: `${prefix}-meta`,
    pinned: `${prefix}-findings-pinned`,
    findingsPattern: `${prefix}-findings-*`,
    alertsPattern: `${prefix}-alerts-*`,
    findingsMonth: (t) => `${prefix}-findings-${monthOf(t)}`,
    alertsMonth: (t) => `${prefix}-alerts-${monthOf(t)}`,
  };
}

/** `YYYY.MM` (UTC) of an ISO time or epoch ms; years are clamped to 0000–9999. */
export function monthOf(t: string | number): string {
  const d = new Date(typeof t === 'number' ? t : Date.parse(t));
  const y = Math.min(9999, Math.max(0, d.getUTCFullYear()));
  return `${String(y).padStart(4, '0')}.${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** For `…-2024.05`: the first instant after that month (epoch ms), or undefined if the name has no month. */
export function monthEndOf(index: string): number | undefined {
  const m = /-(\d{4})\.(\d{2})$/.exec(index);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]), 1);
}

/** A short, stable document id for a compound key (state items, dedup pointers, snapshots). */
export function keyId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
}

/**
 * Alert ids are UUIDv7 whose timestamp is the alert's first sighting: the id alone names the monthly
 * index, so reading an alert by id is a real-time GET, never a search.
 */
export function uuidv7At(ms: number): string {
  const t = BigInt(Math.min(2 ** 48 - 1, Math.max(0, Math.trunc(ms))));
  const b = randomBytes(16);
  for (let i = 0; i < 6; i++) b[i] = Number((t >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return formatUuid(b);
}

/** The timestamp of a UUIDv7, or undefined for anything else. */
export function timeOfUuidv7(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** A deterministic UUID (version 8) from a string: the same audit entry written twice is one entry. */
export function uuidFrom(s: string): string {
  const b = createHash('sha256').update(s).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return formatUuid(b);
}

function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Path segment for an index or id. */
export const seg = (s: string): string => encodeURIComponent(s);
