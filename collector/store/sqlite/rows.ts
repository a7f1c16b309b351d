/** Rows as SQLite returns them, and their mapping to the records of the Store interface. */
import type { Family, Fields, FindingKind, FindingRecord } from '../../../common/finding.js';
import { StoreCodes, StoreError } from '../errors.js';
import type { Alert, AlertStatus, AgentRecord, AuditEntry, Severity, TokenRecord } from '../types.js';

export interface FindingRow {
  id: string; agent_id: string; host_name: string; seq: number; observed_at: string; received_at: string;
  check_name: string; kind: string; family: string; state_key: string; snapshot_id: string; fields: string;
}

export interface AlertRow {
  id: string; dedup_key: string; rule_id: string; rule_title: string; rule_version: string; severity: string;
  status: string; agent_id: string; host_name: string; finding_ids: string; first_seen: string; last_seen: string;
  count: number; tags: string; summary: string; version: number; updated_at: string;
}

export interface AgentRow {
  id: string; host_name: string; cert_fingerprint: string; os: string; version: string; group_name: string;
  enrolled_at: string; last_seen: string; last_seq: number; status: string;
}

export interface TokenRow {
  id: string; hash: string; group_name: string; created_at: string; expires_at: string; uses_left: number | null; created_by: string;
}

export interface AuditRow {
  id: string; at: string; actor: string; action: string; target: string; from_value: string; to_value: string; reason: string;
}

export const FINDING_COLUMNS = 'id, agent_id, host_name, seq, observed_at, received_at, check_name, kind, family, state_key, snapshot_id, fields';
export const ALERT_COLUMNS = 'id, dedup_key, rule_id, rule_title, rule_version, severity, status, agent_id, host_name, finding_ids, first_seen, last_seen, count, tags, summary, version, updated_at';

export function toFinding(r: FindingRow): FindingRecord {
  return {
    id: r.id, agentId: r.agent_id, hostName: r.host_name, seq: r.seq, observedAt: r.observed_at, receivedAt: r.received_at,
    check: r.check_name, kind: r.kind as FindingKind, family: r.family as Family, stateKey: r.state_key,
    snapshotId: r.snapshot_id, fields: JSON.parse(r.fields) as Fields,
  };
}

export function toAlert(r: AlertRow): Alert {
  return {
    id: r.id, dedupKey: r.dedup_key, rule: { id: r.rule_id, title: r.rule_title, version: r.rule_version },
    severity: r.severity as Severity, status: r.status as AlertStatus, agentId: r.agent_id, hostName: r.host_name,
    findingIds: JSON.parse(r.finding_ids) as string[], firstSeen: r.first_seen, lastSeen: r.last_seen, count: r.count,
    tags: JSON.parse(r.tags) as Alert['tags'], summary: r.summary, version: r.version, updatedAt: r.updated_at,
  };
}

export function toAgent(r: AgentRow): AgentRecord {
  return {
    id: r.id, hostName: r.host_name, certFingerprint: r.cert_fingerprint, os: r.os, version: r.version, group: r.group_name,
    enrolledAt: r.enrolled_at, lastSeen: r.last_seen, lastSeq: r.last_seq, status: r.status as AgentRecord['status'],
  };
}

export function toToken(r: TokenRow): TokenRecord {
  return {
    id: r.id, hash: r.hash, group: r.group_name, createdAt: r.created_at, expiresAt: r.expires_at, usesLeft: r.uses_left,
    createdBy: r.created_by,
  };
}

export function toAudit(r: AuditRow): AuditEntry {
  return { id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, from: r.from_value, to: r.to_value, reason: r.reason };
}

/**
 * Canonical ISO-8601 UTC (`2024-05-01T03:00:00.000Z`): stored times compare correctly as text,
 * whatever offset the caller used (`+07:00` included).
 */
export function isoTime(value: string, what: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new StoreError(StoreCodes.INVALID_INPUT, `${what} is not an ISO-8601 time: ${JSON.stringify(String(value).slice(0, 64))}`);
  }
  return new Date(ms).toISOString();
}

/** SQLite binds no booleans; JSON booleans read back from `json_each` as 1/0. */
export function bindable(v: string | number | boolean): string | number {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}
