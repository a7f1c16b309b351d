/**
 * Records ↔ documents. A finding document is nested ECS (what Kibana and rules see) with the envelope
 * at its ECS places; field values that the envelope would shadow (a finding's own `host.name`, a leaf
 * that is also a parent like `file` beside `file.path`) are kept verbatim in `canhgac.overlap`, so every
 * record reads back exactly as it was written.
 */
import { envelopeFields, flatten, nest, type Fields, type FindingKind, type FindingRecord, type Family } from '../../../common/finding.js';
import { SEVERITIES, type AgentRecord, type Alert, type AuditEntry, type Severity, type TokenRecord } from '../types.js';

/** Flat keys the store sets on every finding document. */
const ENVELOPE = [
  '@timestamp', 'event.id', 'event.kind', 'event.dataset', 'event.module', 'event.ingested', 'event.sequence',
  'agent.id', 'host.name', 'canhgac.kind', 'canhgac.state_key', 'canhgac.snapshot_id',
] as const;
const ENVELOPE_SET: ReadonlySet<string> = new Set(ENVELOPE);
const ENVELOPE_PREFIXES = prefixesOf(ENVELOPE);
const OVERLAP = 'canhgac.overlap';

function prefixesOf(keys: Iterable<string>, into: Set<string> = new Set()): Set<string> {
  for (const k of keys) {
    for (let i = k.indexOf('.'); i > 0; i = k.indexOf('.', i + 1)) into.add(k.slice(0, i));
  }
  return into;
}

export type Doc = Record<string, unknown>;

export interface FindingDocExtra {
  /** State documents: the monthly index the finding itself lives in. */
  findingIndex?: string;
  updatedAt?: string;
}

export function findingToDoc(r: FindingRecord, extra: FindingDocExtra = {}): Doc {
  const keys = Object.keys(r.fields);
  const parents = prefixesOf(keys, new Set(ENVELOPE_PREFIXES));
  const body: Record<string, unknown> = {};
  let overlap: Fields | undefined;
  for (const k of keys) {
    const v = r.fields[k]!;
    if (ENVELOPE_SET.has(k) || parents.has(k) || k === OVERLAP || k.startsWith(`${OVERLAP}.`)) (overlap ??= {})[k] = v;
    else body[k] = v;
  }
  const flat: Record<string, unknown> = { ...body, ...envelopeFields(r) };
  if (extra.findingIndex !== undefined) flat['canhgac.finding_index'] = extra.findingIndex;
  if (extra.updatedAt !== undefined) flat['canhgac.updated_at'] = extra.updatedAt;
  const doc = nest(flat);
  if (overlap) ((doc.canhgac ??= {}) as Record<string, unknown>).overlap = overlap;
  return doc;
}

export function docToFinding(src: Doc): FindingRecord {
  const canhgac = (src.canhgac ?? {}) as Record<string, unknown>;
  const { overlap, finding_index: _fi, updated_at: _ua, ...ownCanhgac } = canhgac;
  const flat = flatten({ ...src, canhgac: ownCanhgac });
  const str = (k: string): string => (typeof flat[k] === 'string' ? (flat[k] as string) : String(flat[k] ?? ''));
  const record: FindingRecord = {
    id: str('event.id'),
    agentId: str('agent.id'),
    hostName: str('host.name'),
    seq: Number(flat['event.sequence'] ?? 0),
    observedAt: str('@timestamp'),
    receivedAt: str('event.ingested'),
    check: str('event.module'),
    kind: str('canhgac.kind') as FindingKind,
    family: str('event.kind') as Family,
    stateKey: str('canhgac.state_key'),
    snapshotId: str('canhgac.snapshot_id'),
    fields: {},
  };
  for (const k of ENVELOPE) delete flat[k];
  record.fields = { ...(flat as Fields), ...((overlap ?? {}) as Fields) };
  return record;
}

// ── alerts ────────────────────────────────────────────────────────────────────────────────

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export interface AlertDocExtra {
  /** The audit entry of the last status change (kept with the alert, so it survives a failed audit write). */
  lastChange?: AuditEntry;
}

export function alertToDoc(a: Alert, extra: AlertDocExtra = {}): Doc {
  return {
    '@timestamp': a.firstSeen,
    event: { kind: 'alert', severity: severityRank(a.severity), start: a.firstSeen, end: a.lastSeen },
    rule: { id: a.rule.id, name: a.rule.title, version: a.rule.version },
    agent: { id: a.agentId },
    host: { name: a.hostName },
    message: a.summary,
    threat: { technique: { id: a.tags.mitre } },
    canhgac: {
      alert: {
        id: a.id, dedup_key: a.dedupKey, severity: a.severity, severity_rank: severityRank(a.severity), status: a.status,
        finding_ids: a.findingIds, first_seen: a.firstSeen, last_seen: a.lastSeen, count: a.count, tags: a.tags,
        version: a.version, updated_at: a.updatedAt,
        ...(extra.lastChange ? { last_change: extra.lastChange } : {}),
      },
    },
  };
}

interface AlertSource {
  rule?: { id?: string; name?: string; version?: string };
  agent?: { id?: string };
  host?: { name?: string };
  message?: string;
  canhgac?: {
    alert?: {
      id: string; dedup_key: string; severity: Severity; status: Alert['status']; finding_ids: string[];
      first_seen: string; last_seen: string; count: number; tags: Alert['tags']; version: number; updated_at: string;
    };
  };
}

export function docToAlert(src: Doc): Alert {
  const s = src as AlertSource;
  const a = s.canhgac?.alert;
  if (!a) throw new Error('not an alert document');
  return {
    id: a.id, dedupKey: a.dedup_key,
    rule: { id: s.rule?.id ?? '', title: s.rule?.name ?? '', version: s.rule?.version ?? '' },
    severity: a.severity, status: a.status, agentId: s.agent?.id ?? '', hostName: s.host?.name ?? '',
    findingIds: Array.isArray(a.finding_ids) ? a.finding_ids : [a.finding_ids].filter(Boolean),
    firstSeen: a.first_seen, lastSeen: a.last_seen, count: a.count,
    tags: { mitre: a.tags?.mitre ?? [], compliance: a.tags?.compliance ?? {} },
    summary: s.message ?? '', version: a.version, updatedAt: a.updated_at,
  };
}

// ── agents, tokens, audit ─────────────────────────────────────────────────────────────────

export function docToAgent(src: Doc): AgentRecord {
  const d = src as unknown as AgentRecord;
  return {
    id: d.id, hostName: d.hostName, certFingerprint: d.certFingerprint, os: d.os, version: d.version, group: d.group,
    enrolledAt: d.enrolledAt, lastSeen: d.lastSeen, lastSeq: d.lastSeq, status: d.status,
  };
}

export function tokenToDoc(t: TokenRecord): Doc {
  return { doc: 'token', ...t };
}

export function docToToken(src: Doc): TokenRecord {
  const d = src as unknown as TokenRecord;
  return {
    id: d.id, hash: d.hash, group: d.group, createdAt: d.createdAt, expiresAt: d.expiresAt,
    usesLeft: d.usesLeft ?? null, createdBy: d.createdBy,
  };
}

export function docToAudit(src: Doc): AuditEntry {
  const d = src as unknown as AuditEntry;
  return { id: d.id, at: d.at, actor: d.actor, action: d.action, target: d.target, from: d.from, to: d.to, reason: d.reason };
}
