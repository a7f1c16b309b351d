/**
 * Validation of findings arriving from agents: the first step of the pipeline. Everything an agent says
 * is untrusted input; a bad finding is refused with a reason, never allowed to crash the collector.
 */
import { FINDING_KINDS, KIND_FAMILY, LIMITS, type Fields, type Finding, type FindingKind } from '../../common/finding.js';
import type { WireFinding } from '../../proto/convert.js';

const KINDS = new Set<string>(FINDING_KINDS);
/** Kinds an agent may send; `vulnerability` and `change` are derived on the collector. */
const AGENT_KINDS = new Set<string>(FINDING_KINDS.filter((k) => k !== 'vulnerability' && k !== 'change'));
const ID_RE = /^[A-Za-z0-9._:-]{8,128}$/;
const FIELD_RE = /^[@A-Za-z_][A-Za-z0-9_.@-]{0,127}$/;
/** Field names already found good: agents send the same few hundred names over and over. Bounded. */
const GOOD_NAMES = new Set<string>();
const MAX_GOOD_NAMES = 10_000;
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST_AHEAD_MS = 24 * 3600_000;

/**
 * Segments that name a JavaScript object's machinery: a field `a.__proto__.x` nested into a document
 * (common/finding.ts nest) would otherwise write to Object.prototype of the whole collector.
 */
const RESERVED_SEGMENT = /(^|\.)(__proto__|constructor|prototype)(\.|$)/;

const goodName = (n: string): boolean => {
  if (GOOD_NAMES.has(n)) return true;
  if (!FIELD_RE.test(n) || RESERVED_SEGMENT.test(n)) return false;
  if (GOOD_NAMES.size < MAX_GOOD_NAMES) GOOD_NAMES.add(n);
  return true;
};

export type Validated = { ok: true; finding: Finding } | { ok: false; id: string; seq: number; reason: string };

export function validateFinding(w: WireFinding): Validated {
  const id = typeof w.id === 'string' ? w.id.slice(0, LIMITS.maxIdLength) : '';
  const seq = Number(w.seq);
  const bad = (reason: string): Validated => ({ ok: false, id, seq, reason });
  if (!ID_RE.test(w.id)) return bad('id must be 8–128 characters of [A-Za-z0-9._:-]');
  if (!Number.isSafeInteger(seq) || seq < 1) return bad('seq must be a positive integer');
  if (!KINDS.has(w.kind)) return bad(`unknown kind ${JSON.stringify(String(w.kind).slice(0, 40))}`);
  if (!AGENT_KINDS.has(w.kind)) return bad(`kind ${w.kind} is derived by the collector and cannot be sent by an agent`);
  if (!w.check || w.check.length > 64) return bad('check must be a name of 1–64 characters');
  const family = KIND_FAMILY[w.kind as FindingKind];
  if (family === 'state' && !w.stateKey) return bad(`state kind ${w.kind} needs a state_key`);
  if ((w.stateKey ?? '').length > 1024) return bad('state_key longer than 1024 characters');
  const wf = w.fields ?? {};
  const names = Object.keys(wf);
  if (names.length > LIMITS.maxFieldsPerFinding) return bad(`more than ${LIMITS.maxFieldsPerFinding} fields`);
  // The internal fields are built in the same pass (what proto/convert.ts fromWire does, without a second one).
  const fields: Fields = {};
  let noValue: string | undefined;
  for (const n of names) {
    if (!goodName(n)) return bad(`field name ${JSON.stringify(n.slice(0, 60))} is not an ECS-style dotted name (letters, digits, _ . @ -; no segment __proto__, constructor or prototype)`);
    const v = wf[n]!;
    if (typeof v.s === 'string' && v.s.length > LIMITS.maxStringLength) return bad(`field ${n} longer than ${LIMITS.maxStringLength} characters`);
    if (v.list && (v.list.values.length > LIMITS.maxListLength || v.list.values.some((x) => x.length > LIMITS.maxStringLength))) {
      return bad(`field ${n} list too long`);
    }
    if (v.v === 'd' && !Number.isFinite(v.d)) return bad(`field ${n} is not a finite number`);
    switch (v.v) {
      case 's': fields[n] = v.s ?? ''; break;
      case 'i': fields[n] = Number(v.i ?? 0); break;
      case 'd': fields[n] = Number(v.d ?? 0); break;
      case 'b': fields[n] = Boolean(v.b); break;
      case 'list': fields[n] = v.list?.values ?? []; break;
      default: noValue ??= n;
    }
  }
  const t = Number(w.observedAtMs);
  if (!Number.isFinite(t) || t < EARLIEST || t > Date.now() + LATEST_AHEAD_MS) return bad('observed_at is not a plausible time');
  if (noValue !== undefined) return bad(`field ${JSON.stringify(noValue)} has no value`);
  return {
    ok: true,
    finding: {
      id: w.id, seq, observedAt: new Date(t).toISOString(), check: w.check, kind: w.kind as FindingKind, stateKey: w.stateKey,
      snapshotId: w.snapshotId, snapshotTotal: Number(w.snapshotTotal), fields,
    },
  };
}
