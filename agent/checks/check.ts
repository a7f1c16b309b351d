import type { Fields, FindingKind } from '../../common/finding.js';
import type { Logger } from '../../common/logger.js';

/** What a check hands to the agent; the outbox adds id, seq and the envelope. */
export interface Observation {
  kind: FindingKind;
  /** Identity of a state item within the host (empty for events). */
  stateKey?: string;
  fields: Fields;
  /** Defaults to the time the agent queued it. */
  observedAt?: string;
}

/** A full state of one kind: the collector replaces what it had for this host and kind. */
export interface Snapshot { kind: FindingKind; items: Observation[] }

export interface CollectResult {
  snapshots: Snapshot[];
  events: Observation[];
}

export interface CheckContext {
  log: Logger;
  /** Folder this check may keep state in (baselines…), created by the agent, mode 0700. */
  stateDir: string;
  /** For watchers: hand over events as they happen. Resolves once they are in the durable outbox. */
  emit(events: Observation[]): Promise<void>;
}

/**
 * A check: one folder under agent/checks/. `init` validates config and does no I/O.
 * Polled checks implement `collect`; watchers also implement `start`/`stop`.
 */
export interface Check<C = unknown> {
  readonly name: string;
  /** Kinds this check emits (each declared in its fields.yaml). */
  readonly kinds: readonly FindingKind[];
  init(config: C): void;
  /**
   * One observation pass. A check that must update its own state only once its events are durable
   * (fim's baseline) hands them to `ctx.emit` itself, awaits it, and does not return them again.
   */
  collect(ctx: CheckContext): Promise<CollectResult>;
  start?(ctx: CheckContext): Promise<void>;
  stop?(): Promise<void>;
  /**
   * A cron expression for `collect()` when the check's own config sets one (fim's `rescan`);
   * undefined leaves the schedule to the agent's policy. Valid after `init`.
   */
  schedule?(): string | undefined;
}
