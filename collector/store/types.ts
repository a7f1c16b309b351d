import type { FindingKind, FindingRecord } from '../../common/finding.js';

export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'in_progress', 'resolved', 'false_positive', 'risk_accepted'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Statuses after which a repeat of the same dedup key opens a new alert instead of folding in. */
export const CLOSED_STATUSES: readonly AlertStatus[] = ['resolved', 'false_positive'];

/**
 * The alert lifecycle (DESIGN §3.3): which status may follow which. Anything else is refused with
 * STORE_INVALID_TRANSITION. A closed or accepted alert can only be reopened.
 */
export const STATUS_TRANSITIONS: Readonly<Record<AlertStatus, readonly AlertStatus[]>> = {
  open: ['acknowledged', 'in_progress', 'resolved', 'false_positive', 'risk_accepted'],
  acknowledged: ['in_progress', 'resolved', 'false_positive', 'risk_accepted'],
  in_progress: ['resolved', 'false_positive', 'risk_accepted'],
  resolved: ['open'],
  false_positive: ['open'],
  risk_accepted: ['open'],
};

export function canTransition(from: AlertStatus, to: AlertStatus): boolean {
  return STATUS_TRANSITIONS[from].includes(to);
}

export interface RuleRef { id: string; title: string; version: string }

/** What the rule engine produces for one matching finding (or one correlation). */
export interface AlertUpsert {
  /** Same key ⇒ same alert while it is not closed; repeats add to `count`. */
  dedupKey: string;
  rule: RuleRef;
  severity: Severity;
  agentId: string;
  hostName: string;
  findingIds: string[];
  /** Time of the triggering observation(s). */
  seenAt: string;
  /** How many repeats this upsert stands for (usually 1). */
  count: number;
  tags: { mitre: string[]; compliance: Record<string, string[]> };
  /** Short description for people (rule title, file path, port, CVE…). */
  summary: string;
}

export interface Alert {
  id: string;
  dedupKey: string;
  rule: RuleRef;
  severity: Severity;
  status: AlertStatus;
  agentId: string;
  hostName: string;
  /** At most 100 of the findings that caused it, oldest first. */
  findingIds: string[];
  firstSeen: string;
  lastSeen: string;
  count: number;
  tags: { mitre: string[]; compliance: Record<string, string[]> };
  summary: string;
  /** Optimistic-concurrency version, bumped on every change. */
  version: number;
  updatedAt: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;        // e.g. alert.status
  target: string;        // e.g. alert:<id>
  from: string;
  to: string;
  reason: string;
}

export interface AgentRecord {
  id: string;
  hostName: string;
  /** sha256 fingerprint of the issued client certificate. */
  certFingerprint: string;
  os: string;
  version: string;
  group: string;
  enrolledAt: string;
  lastSeen: string;
  /** Highest sequence number the store committed for this agent. */
  lastSeq: number;
  status: 'active' | 'revoked';
}

export interface TokenRecord {
  id: string;
  /** sha256 hex of the secret; the secret itself is never stored. */
  hash: string;
  group: string;
  createdAt: string;
  expiresAt: string;
  /** null = unlimited. */
  usesLeft: number | null;
  createdBy: string;
}

/** A state item that disappeared from a host (derived change event on the collector side). */
export interface StateRemoval { agentId: string; kind: FindingKind; stateKey: string }

/** Everything one agent batch produces; committed atomically (or idempotently) before the ack. */
export interface IngestCommit {
  agentId: string;
  /** New findings only (already deduplicated against the store by id). */
  findings: FindingRecord[];
  /**
   * Snapshots closed by this batch: state items of (agent, kind) not in snapshotId are removed —
   * except items observed after the snapshot's earliest item (newer news than the snapshot).
   */
  closedSnapshots: { kind: FindingKind; snapshotId: string }[];
  alerts: AlertUpsert[];
  /** Highest sequence number in the batch; stored as the agent's lastSeq. */
  upToSeq: number;
  lastSeen: string;
}

export interface CommitResult {
  /** State items removed by closed snapshots (the pipeline turns them into change events). */
  removed: StateRemoval[];
  alertsCreated: number;
  alertsFolded: number;
}

export type SortDir = 'asc' | 'desc';

export interface AlertQuery {
  severity?: Severity[];
  status?: AlertStatus[];
  agentId?: string;
  hostName?: string;
  ruleId?: string;
  /** Default: lastSeen desc. */
  sort?: { field: 'lastSeen' | 'firstSeen' | 'severity' | 'count'; dir: SortDir };
  limit?: number;   // default 100, max 10000
  offset?: number;
}

export interface FindingQuery {
  kind: FindingKind;
  agentId?: string;
  hostName?: string;
  /** For state kinds: only the current state (default true). Ignored for events. */
  current?: boolean;
  /** Exact matches on flat ECS fields, e.g. {'event.action': 'created'}. */
  where?: Record<string, string | number | boolean>;
  since?: string;
  sort?: { field: 'observedAt'; dir: SortDir };
  limit?: number;
  offset?: number;
}

export interface Page<T> { items: T[]; total: number }

export interface StatusChange {
  to: AlertStatus;
  actor: string;
  reason: string;
  /** The version the caller saw; a different current version fails with STORE_CONFLICT. */
  expectedVersion: number;
  at?: string;
}

export interface RetentionPolicy { findingsBefore: string; alertsBefore: string }

/**
 * The one store interface (DESIGN §3.4). Every implementation passes
 * collector/store/contract.ts.
 */
export interface Store {
  readonly kind: 'sqlite' | 'elasticsearch' | 'opensearch';
  init(): Promise<void>;
  close(): Promise<void>;

  // ingest
  /** Ids among `ids` that are already stored (for dedupe before rules). */
  knownFindingIds(ids: string[]): Promise<Set<string>>;
  /**
   * All or nothing, durable when it resolves (the caller acks after it). The agent must exist
   * (STORE_NOT_FOUND otherwise). Findings already stored are skipped; replaying a commit changes nothing.
   */
  commit(c: IngestCommit): Promise<CommitResult>;

  // findings and state
  listFindings(q: FindingQuery): Promise<Page<FindingRecord>>;
  /**
   * Counts what `listFindings` would list by default: current state items for state kinds, all
   * stored findings for event kinds. Keys with a zero count are left out.
   */
  countFindings(by: 'kind' | 'agent', q?: { agentId?: string }): Promise<Record<string, number>>;

  // alerts
  getAlert(id: string): Promise<Alert | undefined>;
  listAlerts(q: AlertQuery): Promise<Page<Alert>>;
  /** Keys are severities, statuses or host names; keys with a zero count are left out. Sort/limit/offset are ignored. */
  countAlerts(by: 'severity' | 'status' | 'host', q?: AlertQuery): Promise<Record<string, number>>;
  /** Status change and its audit entry (action `alert.status`, target `alert:<id>`) in one step. */
  changeAlertStatus(id: string, change: StatusChange): Promise<Alert>;
  /** Newest first (by `at`); default limit 100. */
  listAudit(q: { target?: string; limit?: number }): Promise<AuditEntry[]>;
  appendAudit(e: Omit<AuditEntry, 'id'>): Promise<AuditEntry>;

  // agents
  /** Creates or replaces the agent, except that lastSeq and lastSeen never go back. */
  upsertAgent(a: AgentRecord): Promise<void>;
  getAgent(id: string): Promise<AgentRecord | undefined>;
  listAgents(): Promise<AgentRecord[]>;
  /** Moves lastSeen forward (never back); STORE_NOT_FOUND for an unknown agent. */
  touchAgent(id: string, lastSeen: string): Promise<void>;

  // enrollment tokens
  /** STORE_CONFLICT if the id or hash exists. */
  createToken(t: TokenRecord): Promise<void>;
  /** Atomically uses one token by hash; throws STORE_TOKEN_{UNKNOWN,EXPIRED,USED_UP}. */
  consumeToken(hash: string, now: string): Promise<TokenRecord>;
  listTokens(): Promise<TokenRecord[]>;

  // retention
  /**
   * Deletes findings observed before `findingsBefore` (never one a current state item points to) and
   * closed alerts last seen before `alertsBefore`. The audit trail is never pruned. Returns the counts deleted.
   */
  prune(p: RetentionPolicy): Promise<{ findings: number; alerts: number }>;
}
