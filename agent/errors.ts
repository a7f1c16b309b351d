import { CanhGacError } from '../common/errors.js';

/**
 * Errors of the agent's checks and of its door to the OS (agent/host). Callers match on `code`;
 * codes are stable and listed in docs/errors.md. Transport errors live in agent/transport/errors.ts.
 */
export class AgentError extends CanhGacError {}

export const AgentCodes = {
  /** runCommand was asked for an id that is not in the allowlist. */
  HOST_COMMAND_UNKNOWN: 'AGENT_HOST_COMMAND_UNKNOWN',
  /** None of the allowlisted absolute paths of the command exists on this host. */
  HOST_COMMAND_MISSING: 'AGENT_HOST_COMMAND_MISSING',
  /** The command ran and exited non-zero, or could not be started. */
  HOST_COMMAND_FAILED: 'AGENT_HOST_COMMAND_FAILED',
  /** The command ran longer than its timeout and was killed. */
  HOST_COMMAND_TIMEOUT: 'AGENT_HOST_COMMAND_TIMEOUT',
  /** The command printed more than its output limit and was killed. */
  HOST_COMMAND_OUTPUT_TOO_LARGE: 'AGENT_HOST_COMMAND_OUTPUT_TOO_LARGE',
  /** A system file could not be read, or was larger than its limit. */
  HOST_READ_FAILED: 'AGENT_HOST_READ_FAILED',
  /** Agent state could not be written durably (temp file, fsync, rename). */
  HOST_WRITE_FAILED: 'AGENT_HOST_WRITE_FAILED',
  /** A check's configuration does not match its schema. */
  CHECK_CONFIG_INVALID: 'AGENT_CHECK_CONFIG_INVALID',
  /** collect()/start() before init(). */
  CHECK_NOT_INITIALIZED: 'AGENT_CHECK_NOT_INITIALIZED',
  /** The registry has no check of that name. */
  CHECK_UNKNOWN: 'AGENT_CHECK_UNKNOWN',
  /** The check has no way to observe this operating system (yet). */
  CHECK_UNSUPPORTED_PLATFORM: 'AGENT_CHECK_UNSUPPORTED_PLATFORM',
  /** The FIM baseline file exists but cannot be understood. */
  FIM_BASELINE_CORRUPT: 'AGENT_FIM_BASELINE_CORRUPT',
} as const;

export type AgentCode = (typeof AgentCodes)[keyof typeof AgentCodes];
