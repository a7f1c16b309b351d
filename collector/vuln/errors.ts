import { CollectorError } from '../errors.js';

/**
 * Codes of the vulnerability-data component. Stable: callers match on `code`.
 * The feed codes name the check that refused a bundle (see `FeedError.check`).
 */
export const VulnCodes = {
  VERSION_INVALID: 'COLLECTOR_VERSION_INVALID',
  ECOSYSTEM_UNKNOWN: 'COLLECTOR_ECOSYSTEM_UNKNOWN',
  OSV_INVALID: 'COLLECTOR_OSV_INVALID',
  KEV_INVALID: 'COLLECTOR_KEV_INVALID',
  FEED_FORMAT: 'COLLECTOR_FEED_FORMAT',
  FEED_TRUNCATED: 'COLLECTOR_FEED_TRUNCATED',
  FEED_SIGNATURE: 'COLLECTOR_FEED_SIGNATURE',
  FEED_DIGEST: 'COLLECTOR_FEED_DIGEST',
  FEED_SCHEMA: 'COLLECTOR_FEED_SCHEMA',
  FEED_TRUST: 'COLLECTOR_FEED_TRUST',
  FEED_IMPORT: 'COLLECTOR_FEED_IMPORT',
  FEED_BUSY: 'COLLECTOR_FEED_BUSY',
  FEED_NONE: 'COLLECTOR_FEED_NONE',
  FEED_ROLLBACK: 'COLLECTOR_FEED_ROLLBACK',
  LIFECYCLE_INVALID: 'COLLECTOR_LIFECYCLE_INVALID',
  WINDOWS_BUILDS_INVALID: 'COLLECTOR_WINDOWS_BUILDS_INVALID',
} as const;

export type VulnCode = (typeof VulnCodes)[keyof typeof VulnCodes];

/** The verification step a refused bundle failed. */
export type FeedCheck = 'format' | 'truncated' | 'signature' | 'digest' | 'schema' | 'trust';

const CHECK_CODE: Record<FeedCheck, VulnCode> = {
  format: VulnCodes.FEED_FORMAT,
  truncated: VulnCodes.FEED_TRUNCATED,
  signature: VulnCodes.FEED_SIGNATURE,
  digest: VulnCodes.FEED_DIGEST,
  schema: VulnCodes.FEED_SCHEMA,
  trust: VulnCodes.FEED_TRUST,
};

const CHECK_HINT: Record<FeedCheck, string> = {
  format: 'the file is not a Canh Gác feed bundle or it is damaged; copy it again from the build machine',
  truncated: 'the file is incomplete; copy it again and compare its size with the original',
  signature: 'the bundle was not signed by a trusted key or was altered after signing; check the public keys in <data dir>/feed-trust/',
  digest: 'a file inside the bundle does not match the signed manifest; the bundle was altered or damaged',
  schema: 'the bundle content does not have the expected shape; rebuild it with scripts/feed/build-bundle',
  trust: 'add the feed publisher\'s public key to <data dir>/feed-trust/<name>.pub',
};

export class VulnError extends CollectorError {}

/** A bundle was refused; `check` says which verification step failed. */
export class FeedError extends VulnError {
  readonly check: FeedCheck;

  constructor(check: FeedCheck, detail: string, opts: { cause?: unknown; where?: string } = {}) {
    super(CHECK_CODE[check], `feed bundle refused: ${check} check failed: ${detail}`, { ...opts, hint: CHECK_HINT[check] });
    this.name = 'FeedError';
    this.check = check;
  }
}
