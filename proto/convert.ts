/** Internal Finding ⇄ wire Finding. */
import type { FieldValue, Fields, Finding, FindingKind } from '../common/finding.js';

export interface WireFieldValue { s?: string; i?: number; d?: number; b?: boolean; list?: { values: string[] }; v?: string }
export interface WireFinding {
  id: string; seq: number; observedAtMs: number; check: string; kind: string; stateKey: string;
  snapshotId: string; snapshotTotal: number; fields: Record<string, WireFieldValue>;
}

function toWireValue(v: FieldValue): WireFieldValue {
  if (typeof v === 'string') return { s: v };
  if (typeof v === 'boolean') return { b: v };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { i: v } : { d: v };
  return { list: { values: v } };
}

export function toWire(f: Finding): WireFinding {
  const fields: Record<string, WireFieldValue> = {};
  for (const [k, v] of Object.entries(f.fields)) fields[k] = toWireValue(v);
  return {
    id: f.id, seq: f.seq, observedAtMs: Date.parse(f.observedAt), check: f.check, kind: f.kind,
    stateKey: f.stateKey, snapshotId: f.snapshotId, snapshotTotal: f.snapshotTotal, fields,
  };
}

/** Wire → internal; structural problems are returned as a message (the pipeline validates further). */
export function fromWire(w: WireFinding): Finding | string {
  const fields: Fields = {};
  for (const [k, v] of Object.entries(w.fields ?? {})) {
    switch (v.v) {
      case 's': fields[k] = v.s ?? ''; break;
      case 'i': fields[k] = Number(v.i ?? 0); break;
      case 'd': fields[k] = Number(v.d ?? 0); break;
      case 'b': fields[k] = Boolean(v.b); break;
      case 'list': fields[k] = v.list?.values ?? []; break;
      default: return `field ${JSON.stringify(k)} has no value`;
    }
  }
  if (!Number.isFinite(w.observedAtMs)) return 'observed_at_ms is not a time';
  return {
    id: w.id, seq: Number(w.seq), observedAt: new Date(Number(w.observedAtMs)).toISOString(), check: w.check,
    kind: w.kind as FindingKind, stateKey: w.stateKey, snapshotId: w.snapshotId,
    snapshotTotal: Number(w.snapshotTotal), fields,
  };
}
