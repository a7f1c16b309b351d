import { CanhGacError } from '../../common/errors.js';

/** Errors of the agent's transport (enrollment, stream, outbox); codes listed in docs/errors.md. */
export class TransportError extends CanhGacError {}

export const TransportCodes = {
  ENROLL_FINGERPRINT_MISMATCH: 'AGENT_ENROLL_FINGERPRINT_MISMATCH',
  ENROLL_UNREACHABLE: 'AGENT_ENROLL_UNREACHABLE',
  ENROLL_REFUSED: 'AGENT_ENROLL_REFUSED',
  NOT_ENROLLED: 'AGENT_NOT_ENROLLED',
  OUTBOX_CORRUPT: 'AGENT_OUTBOX_CORRUPT',
} as const;
