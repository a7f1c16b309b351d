import { FINDING_KINDS, KIND_FAMILY, type FieldValue, type FindingKind, type FindingRecord } from '../../common/finding.js';

/**
 * A finding written by hand, as in rule tests and the benign corpus: flat ECS fields plus `kind`
 * and an optional `case` (a short name people use to refer to it). Envelope fields (`agent.id`,
 * `host.name`, `event.id`, `event.module`, `canhgac.state_key`, `@timestamp`) may be given and
 * default to test values.
 */
export type FlatFinding = Record<string, unknown>;

const ENVELOPE = new Set(['kind', 'case', 'agent.id', 'host.name', 'event.id', 'event.module', 'canhgac.state_key', '@timestamp', 'event.kind', 'canhgac.kind']);

function fieldValue(key: string, v: unknown): FieldValue {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new Error(`field "${key}": expected a string, number, boolean or list of strings, not ${JSON.stringify(v)}`);
}

/** Builds the stored form of a hand-written finding. Throws (with the field name) on bad input. */
export function recordFromFlat(flat: FlatFinding, n = 0): FindingRecord {
  const kind = flat.kind;
  if (typeof kind !== 'string' || !(FINDING_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`"kind" must be one of ${FINDING_KINDS.join(', ')}, not ${JSON.stringify(kind)}`);
  }
  const k = kind as FindingKind;
  const fields: Record<string, FieldValue> = {};
  for (const [key, v] of Object.entries(flat)) {
    if (ENVELOPE.has(key)) continue;
    fields[key] = fieldValue(key, v);
  }
  const s = (key: string, dflt: string): string => (typeof flat[key] === 'string' ? (flat[key] as string) : dflt);
  const family = KIND_FAMILY[k];
  const observedAt = s('@timestamp', '2025-01-15T08:30:00.000Z');
  return {
    id: s('event.id', `test-finding-${n}`),
    agentId: s('agent.id', 'agent-test-0001'),
    hostName: s('host.name', 'may-tram-01'),
    seq: n,
    observedAt,
    receivedAt: observedAt,
    check: s('event.module', k),
    kind: k,
    family,
    stateKey: s('canhgac.state_key', family === 'state' ? `${k}:${n}` : ''),
    snapshotId: '',
    fields,
  };
}
