/**
 * A finding is one observation made by a check on an agent (DESIGN §3.2).
 * Inside agent and collector the body is a flat map of ECS dotted field names;
 * documents handed to people and search engines are nested (`{"host":{"name":…}}`).
 */
export const FINDING_KINDS = [
  'host', 'package', 'update', 'vulnerability', 'listener', 'firewall', 'fim', 'sca', 'health', 'gap', 'change',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export type Family = 'state' | 'event';

/** Which family each kind belongs to. State kinds have a current value per host and key. */
export const KIND_FAMILY: Record<FindingKind, Family> = {
  host: 'state', package: 'state', update: 'state', vulnerability: 'state', listener: 'state',
  firewall: 'state', sca: 'state', fim: 'event', health: 'event', gap: 'event',
  /** Derived by the collector from state snapshots: listener-added, package-removed, … */
  change: 'event',
};

export type FieldValue = string | number | boolean | string[];
export type Fields = Record<string, FieldValue>;

export interface Finding {
  /** Unique id; a replayed finding has the same id, so storing it twice is a no-op. */
  id: string;
  /** Per-agent monotonic sequence number, assigned by the agent's outbox. 0 until queued. */
  seq: number;
  /** ISO-8601 time of the observation. */
  observedAt: string;
  /** Name of the check that made it (`inventory`, `packages`, `listeners`, `fim`, …). */
  check: string;
  kind: FindingKind;
  /**
   * For state kinds: identity of the thing within the host (package name + arch, proto+ip+port…).
   * Empty for events.
   */
  stateKey: string;
  /**
   * For state kinds sent as a full snapshot: the snapshot this item belongs to. The last item of a
   * snapshot carries `snapshotTotal` (item count); when it is stored, the collector drops state
   * items of the same host and kind that were not in the snapshot.
   */
  snapshotId: string;
  snapshotTotal: number;
  /** The body, ECS field names, flat. */
  fields: Fields;
}

/** Limits are part of the wire contract (DESIGN §3.1). */
export const LIMITS = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxBatchFindings: 1000,
  maxFieldsPerFinding: 128,
  maxStringLength: 8192,
  maxListLength: 256,
  maxIdLength: 128,
} as const;

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** `{"a.b": 1}` → `{"a":{"b":1}}`. A key that is both a leaf and a parent keeps the leaf under `value`. */
export function nest(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(flat).sort()) {
    const parts = key.split('.');
    let node: Record<string, unknown> = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      // Own properties only, set by definition: a segment such as `__proto__` becomes a plain key, never
      // the object's prototype (the collector refuses such names; this keeps nest safe on its own).
      const next = Object.hasOwn(node, p) ? node[p] : undefined;
      if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
        setOwn(node, p, next === undefined ? {} : { value: next });
      }
      node = node[p] as Record<string, unknown>;
    }
    setOwn(node, parts[parts.length - 1]!, flat[key]);
  }
  return out;
}

/** `{"a":{"b":1}}` → `{"a.b": 1}`. Arrays are leaves. */
export function flatten(nested: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(nested)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

/**
 * The stored form of a finding: ECS fields (flat) plus the envelope.
 * `toDocument` gives the nested JSON people and search engines see.
 */
export interface FindingRecord {
  id: string;
  agentId: string;
  hostName: string;
  seq: number;
  observedAt: string;
  receivedAt: string;
  check: string;
  kind: FindingKind;
  family: Family;
  stateKey: string;
  /** Snapshot the finding came in (state kinds); empty otherwise. */
  snapshotId: string;
  fields: Fields;
}

/** The envelope every stored finding document carries at its ECS places (flat names). */
export function envelopeFields(r: FindingRecord): Record<string, string | number> {
  return {
    '@timestamp': r.observedAt,
    'event.id': r.id,
    'event.kind': r.family,
    'event.dataset': `canhgac.${r.kind}`,
    'event.module': r.check,
    'event.ingested': r.receivedAt,
    'event.sequence': r.seq,
    'agent.id': r.agentId,
    'host.name': r.hostName,
    'canhgac.kind': r.kind,
    'canhgac.state_key': r.stateKey,
    'canhgac.snapshot_id': r.snapshotId ?? '',
  };
}

/** The nested ECS document people and programs see (`--json`): the finding's fields plus the envelope. */
export function toDocument(r: FindingRecord): Record<string, unknown> {
  return nest({ ...r.fields, ...envelopeFields(r) });
}
