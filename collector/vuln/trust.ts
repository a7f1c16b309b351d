/**
 * Feed signing keys. A trusted key is an Ed25519 public key in PEM (SPKI) form, one per
 * `<data dir>/feed-trust/<name>.pub` file. Its id is the first 16 hex digits of the SHA-256
 * of the key's DER encoding; the bundle's manifest.sig names the id of the key that signed it.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VulnCodes, VulnError } from './errors.js';

export interface TrustedKey {
  keyId: string;
  key: KeyObject;
  /** Where it came from (file path), for messages. */
  source: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Parses one PEM public key; throws COLLECTOR_FEED_TRUST when it is not Ed25519. */
export function trustedKeyFromPem(pem: string | Buffer, source: string): TrustedKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new VulnError(VulnCodes.FEED_TRUST, 'not a PEM public key', { where: source, cause: e, hint: 'a feed key file holds "-----BEGIN PUBLIC KEY-----" … as written by scripts/feed/keygen' });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new VulnError(VulnCodes.FEED_TRUST, `the key is ${key.asymmetricKeyType ?? 'of an unknown type'}, feed keys are Ed25519`, { where: source });
  }
  return { keyId: keyIdOf(key), key, source };
}

/** Every `*.pub` in `dir` (missing folder: no keys). */
export function loadTrustedKeys(dir: string): TrustedKey[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new VulnError(VulnCodes.FEED_TRUST, 'cannot read the trusted-keys folder', { where: dir, cause: e });
  }
  return names.filter((n) => n.endsWith('.pub')).sort().map((n) => trustedKeyFromPem(readFileSync(join(dir, n)), join(dir, n)));
}

/** The folder of trusted feed keys inside a data directory. */
export function trustDir(dataDir: string): string {
  return join(dataDir, 'feed-trust');
}

/** A new signing key pair, PEM-encoded (private: PKCS#8, public: SPKI). */
export function generateFeedKeyPair(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}
