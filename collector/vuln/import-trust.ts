/**
 * Which keys a `canhgac feed import` trusts, and the one narrow exception for the repository's
 * test bundle.
 *
 * Trusted, always: the operator's keys in `<data dir>/feed-trust/*.pub`, plus any `--trust-key`
 * files given to this import (for this import only).
 *
 * The exception: the committed test bundle (test/fixtures/feed/test-bundle.cgfeed) is signed by a
 * TEST key whose private half is public in the repository. Trusting that key would let anyone
 * sign any feed, so it is never trusted as a key. Instead the exact bytes of the committed bundle
 * are pinned by SHA-256 here: a file with exactly those bytes (its signature still verified with
 * the test key) is accepted without configuration, so a fresh clone can import it and run the
 * demo. Any other file signed by the test key — one byte changed, or re-signed with the public
 * test key — is refused by the signature check, and the refusal says what is wrong with it.
 * The worst a pinned bundle can do in production is what its 13 real Debian 12 records and 4 KEV
 * entries say; `feed status` marks it as the test feed.
 */
import { createHash } from 'node:crypto';
import { FeedError } from './errors.js';
import { verifyBundle } from './bundle.js';
import { readTar } from './tar.js';
import { trustedKeyFromPem, type TrustedKey } from './trust.js';

/** test/fixtures/feed/test-feed.pub (public; its private key is committed next to it, TEST ONLY). */
export const TEST_FEED_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAB3iWqkDngPF7v45HTMu5S4wgXurLvrcJUmdYofN0Yrk=
-----END PUBLIC KEY-----
`;
export const TEST_FEED_KEY_ID = '665b7ed3ea149176';
/** SHA-256 of the committed test-bundle.cgfeed; import-trust.test.ts fails when the bundle is rebuilt without updating it. */
export const TEST_BUNDLE_SHA256 = '9f3545efcf2569029f7e5a07de5ce3fdc87b4c4c361c041d20a2c957c5e750c7';

export interface ImportTrust {
  keys: TrustedKey[];
  /** The key id named by manifest.sig, when the archive could be read that far. */
  signer: string | undefined;
  /** True when the bundle is the pinned test bundle and the test key was trusted for it. */
  testBundle: boolean;
}

/** The key id manifest.sig names, or undefined when the archive or the record cannot be read (verifyBundle says why). */
export function signerOf(bytes: Buffer): string | undefined {
  try {
    const entries = readTar(bytes);
    const sig = entries[1]?.name === 'manifest.sig' ? (JSON.parse(entries[1].data.toString('utf8')) as { key_id?: unknown }) : undefined;
    return typeof sig?.key_id === 'string' ? sig.key_id : undefined;
  } catch {
    return undefined;
  }
}

export function testFeedKey(): TrustedKey {
  return { ...trustedKeyFromPem(TEST_FEED_PUBLIC_KEY_PEM, 'built-in test key'), source: 'built-in: pinned test bundle (test/fixtures/feed/test-bundle.cgfeed)' };
}

/**
 * The keys to verify `bytes` with: `configured` (feed-trust/ and --trust-key), plus the test key
 * when these bytes are exactly the pinned test bundle. Throws a `signature` FeedError for any
 * other bundle signed by the test key that no configured key covers.
 */
export function trustForImport(bytes: Buffer, configured: readonly TrustedKey[]): ImportTrust {
  const signer = signerOf(bytes);
  const keys = [...configured];
  if (signer === undefined && keys.length === 0) {
    // The archive or manifest.sig cannot be read: with no key configured verifyBundle would only
    // say "no trusted keys"; verifying against the test key names what is actually broken.
    // (It cannot accept: a bundle whose signer cannot be read never verifies.)
    verifyBundle(bytes, [testFeedKey()]);
  }
  if (signer !== TEST_FEED_KEY_ID || keys.some((k) => k.keyId === signer)) return { keys, signer, testBundle: false };
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest === TEST_BUNDLE_SHA256) return { keys: [...keys, testFeedKey()], signer, testBundle: true };
  // Signed by the public test key but not the committed bundle: refuse, and say what else is wrong.
  let diagnosis: string;
  try {
    verifyBundle(bytes, [testFeedKey()]);
    diagnosis = 'it verifies with the test key, so it was signed with the public test key after the fact';
  } catch (e) {
    diagnosis = e instanceof FeedError ? `verified against the test key anyway, it fails the ${e.check} check: ${e.message.replace(/^feed bundle refused: \w+ check failed: /, '')}` : (e as Error).message;
  }
  throw new FeedError('signature',
    `manifest.json is signed by ${TEST_FEED_KEY_ID}, the repository's TEST key, which is not trusted: it is accepted only for the unmodified test bundle (sha256 ${TEST_BUNDLE_SHA256.slice(0, 16)}…), and this file differs from it (sha256 ${digest.slice(0, 16)}…); ${diagnosis}`);
}
