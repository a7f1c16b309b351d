import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildBundle, verifyBundle } from './bundle.js';
import { FeedError } from './errors.js';
import { signerOf, TEST_BUNDLE_SHA256, TEST_FEED_KEY_ID, TEST_FEED_PUBLIC_KEY_PEM, trustForImport } from './import-trust.js';
import { TEST_BUNDLE, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, testTrustedKey } from './testing/fixtures.js';
import { generateFeedKeyPair, trustedKeyFromPem } from './trust.js';

const bundle = readFileSync(TEST_BUNDLE);

function refusal(bytes: Buffer, keys = [] as ReturnType<typeof testTrustedKey>[]): FeedError {
  try {
    const t = trustForImport(bytes, keys);
    verifyBundle(bytes, t.keys);
  } catch (e) {
    if (e instanceof FeedError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('the pinned test bundle', () => {
  it('pins exactly the committed bundle and its key (rebuilt the bundle? update TEST_BUNDLE_SHA256)', () => {
    expect(createHash('sha256').update(bundle).digest('hex')).toBe(TEST_BUNDLE_SHA256);
    expect(TEST_FEED_PUBLIC_KEY_PEM).toBe(readFileSync(TEST_PUBLIC_KEY, 'utf8'));
    expect(testTrustedKey().keyId).toBe(TEST_FEED_KEY_ID);
    expect(signerOf(bundle)).toBe(TEST_FEED_KEY_ID);
  });

  it('is accepted with no key configured, the test key trusted for it alone', () => {
    const t = trustForImport(bundle, []);
    expect(t.testBundle).toBe(true);
    expect(t.keys.map((k) => k.keyId)).toEqual([TEST_FEED_KEY_ID]);
    expect(verifyBundle(bundle, t.keys).keyId).toBe(TEST_FEED_KEY_ID);
  });

  it('with the test key configured explicitly, it is an ordinary trusted bundle', () => {
    const t = trustForImport(bundle, [testTrustedKey()]);
    expect(t.testBundle).toBe(false);
  });
});

describe('anything else signed by the test key is refused by the signature check', () => {
  it('one changed byte in the OSV data: signature check, and the digest problem named', () => {
    const bytes = Buffer.from(bundle);
    const at = bytes.indexOf('DEBIAN-CVE-2024-8176', 4096);
    bytes[at + 7] = 'X'.charCodeAt(0);
    const e = refusal(bytes);
    expect(e.check).toBe('signature');
    expect(e.code).toBe('COLLECTOR_FEED_SIGNATURE');
    expect(e.message).toMatch(/repository's TEST key, which is not trusted/);
    expect(e.message).toMatch(/fails the digest check: osv\/Debian_12\.json has SHA-256/);
  });

  it('one changed byte in the manifest: signature check, the signature itself not verifying', () => {
    const bytes = Buffer.from(bundle);
    const at = bytes.indexOf('"built_at"');
    bytes[at + 15] ^= 0x01;
    const e = refusal(bytes);
    expect(e.check).toBe('signature');
    expect(e.message).toMatch(/fails the signature check: the signature of manifest\.json does not verify/);
  });

  it('a bundle re-signed with the (public) test private key', () => {
    const original = verifyBundle(bundle, [testTrustedKey()]);
    const privateKey = createPrivateKey(readFileSync(TEST_PRIVATE_KEY));
    const { bytes } = buildBundle({
      builtAt: new Date('2026-06-01T00:00:00Z'), sources: original.manifest.sources, privateKey, publicKey: createPublicKey(privateKey),
      files: original.manifest.files.map((f) => ({ kind: f.kind, ...(f.ecosystem ? { ecosystem: f.ecosystem } : {}), source: f.source, data: original.files.get(f.path)!, records: f.records })),
    });
    const e = refusal(bytes);
    expect(e.check).toBe('signature');
    expect(e.message).toMatch(/signed with the public test key after the fact/);
  });

  it('a damaged signature record or archive, no key configured: the real check is named, not "no keys"', () => {
    const bytes = Buffer.from(bundle);
    const at = bytes.indexOf('"key_id"');
    bytes[at + 1] = 'X'.charCodeAt(0);
    expect(refusal(bytes).check).toBe('signature');
    expect(refusal(bundle.subarray(0, 5000)).check).toBe('truncated');
  });
});

describe('other publishers', () => {
  it('a bundle signed by an operator key is trusted only through the configured keys', () => {
    const pair = generateFeedKeyPair();
    const original = verifyBundle(bundle, [testTrustedKey()]);
    const privateKey = createPrivateKey(pair.privateKeyPem);
    const { bytes } = buildBundle({
      builtAt: new Date('2026-06-01T00:00:00Z'), sources: original.manifest.sources, privateKey, publicKey: createPublicKey(privateKey),
      files: original.manifest.files.map((f) => ({ kind: f.kind, ...(f.ecosystem ? { ecosystem: f.ecosystem } : {}), source: f.source, data: original.files.get(f.path)!, records: f.records })),
    });
    expect(refusal(bytes).check).toBe('trust');
    expect(refusal(bytes, [testTrustedKey()]).message).toMatch(new RegExp(`signed by key ${pair.keyId}, which is not trusted`));
    const key = trustedKeyFromPem(pair.publicKeyPem, 'agency.pub');
    expect(verifyBundle(bytes, trustForImport(bytes, [key]).keys).keyId).toBe(pair.keyId);
  });
});
