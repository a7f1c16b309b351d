import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildBundle, verifyBundle, type BundleFileInput, type FeedSource } from './bundle.js';
import { FeedError, type FeedCheck } from './errors.js';
import { readTar, writeTar } from './tar.js';
import { TEST_BUNDLE, TEST_PRIVATE_KEY, testTrustedKey } from './testing/fixtures.js';
import { keyIdOf, trustedKeyFromPem, type TrustedKey } from './trust.js';

const bundle = readFileSync(TEST_BUNDLE);
const trusted = [testTrustedKey()];

function refusal(bytes: Buffer, keys: readonly TrustedKey[] = trusted): FeedError {
  try {
    verifyBundle(bytes, keys);
  } catch (e) {
    if (e instanceof FeedError) return e;
    throw e;
  }
  throw new Error('the bundle was accepted');
}

/** Which check must refuse a change at each byte of a bundle: header and padding → format, signed manifest and signature → signature, file content → digest. */
function expectedChecks(bytes: Buffer): FeedCheck[] {
  const out: FeedCheck[] = new Array(bytes.length).fill('format');
  let at = 0;
  for (const e of readTar(bytes)) {
    const start = at + 512;
    const kind: FeedCheck = e.name === 'manifest.json' || e.name === 'manifest.sig' ? 'signature' : 'digest';
    for (let i = start; i < start + e.data.length; i++) out[i] = kind;
    at = start + Math.ceil(e.data.length / 512) * 512;
  }
  return out;
}

const CODES: Record<FeedCheck, string> = {
  format: 'COLLECTOR_FEED_FORMAT', truncated: 'COLLECTOR_FEED_TRUNCATED', signature: 'COLLECTOR_FEED_SIGNATURE',
  digest: 'COLLECTOR_FEED_DIGEST', schema: 'COLLECTOR_FEED_SCHEMA', trust: 'COLLECTOR_FEED_TRUST',
};

describe('the shipped test bundle', () => {
  it('verifies with the test key and holds real Debian 12, Ubuntu and AlmaLinux records and a KEV subset', () => {
    const v = verifyBundle(bundle, trusted);
    expect(v.keyId).toBe(keyIdOf(trusted[0]!.key));
    expect(v.manifest.schema).toBe('canhgac-feed/1');
    expect(v.manifest.files.map((f) => f.path)).toEqual(['osv/Debian_12.json', 'osv/Ubuntu_22.04_LTS.json', 'osv/Ubuntu_Pro_18.04_LTS.json', 'osv/AlmaLinux_9.json', 'kev.json', 'windows-builds.json']);
    expect(v.manifest.files.find((f) => f.kind === 'windows-builds')).toMatchObject({ records: 14 });
    expect(v.osv.get('Ubuntu:22.04:LTS')!.map((r) => r.id)).toEqual(['CVE-2024-0727']);
    expect(v.osv.get('Ubuntu:Pro:18.04:LTS')!.map((r) => r.id)).toEqual(['CVE-2024-0727']);
    expect(v.osv.get('AlmaLinux:9')!.map((r) => r.id)).toEqual(['ALSA-2023:5453', 'ALSA-2024:2447', 'ALSA-2024:4312']);
    // each ecosystem file holds only its own affected[] entries
    expect(new Set(v.osv.get('Ubuntu:22.04:LTS')![0]!.affected.map((a) => a.package.ecosystem))).toEqual(new Set(['Ubuntu:22.04:LTS']));
    const ids = v.osv.get('Debian:12')!.map((r) => r.id);
    expect(ids).toContain('DSA-5514-1');
    expect(ids).toHaveLength(13);
    expect(v.kev?.vulnerabilities.map((k) => k.cveID)).toContain('CVE-2023-4911');
    const osvSource = v.manifest.sources.find((s) => s.id === 'osv-debian-12')!;
    expect(osvSource.attribution).toMatch(/Debian Security Tracker/);
    expect(osvSource.records).toBe(13);
    expect(v.manifest.sources.find((s) => s.id === 'osv-almalinux-9')).toMatchObject({ records: 3, licence: 'MIT' });
    expect(v.manifest.sources.find((s) => s.id === 'osv-ubuntu-22.04-lts')).toMatchObject({ records: 1, licence: 'CC-BY-SA-4.0' });
  });
});

describe('verifyBundle refuses damage and names the check', () => {
  it('one flipped bit at every byte of the bundle is refused by the right check', () => {
    const want = expectedChecks(bundle);
    const wrong: string[] = [];
    const started = Date.now();
    for (let i = 0; i < bundle.length; i++) {
      const copy = Buffer.from(bundle);
      copy[i]! ^= 1 << (i % 8);
      let got: FeedError;
      try {
        got = refusal(copy);
      } catch (e) {
        wrong.push(`byte ${i}: ${(e as Error).message}`);
        continue;
      }
      if (got.check !== want[i] || got.code !== CODES[want[i]!]) wrong.push(`byte ${i}: want ${want[i]}, got ${got.check} (${got.message})`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    console.log(`bundle: ${bundle.length} single-bit flips all refused by the expected check in ${Date.now() - started} ms`);
  }, 120_000);

  it('every truncation is refused as truncated', () => {
    const wrong: number[] = [];
    for (let n = 0; n < bundle.length; n++) {
      const e = refusal(bundle.subarray(0, n));
      if (e.check !== 'truncated' || e.code !== 'COLLECTOR_FEED_TRUNCATED') wrong.push(n);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  }, 60_000);

  it('without trusted keys: trust; signed by an unknown key: signature, naming the key', () => {
    expect(refusal(bundle, []).check).toBe('trust');
    const other = generateKeyPairSync('ed25519').publicKey;
    const e = refusal(bundle, [trustedKeyFromPem(other.export({ type: 'spki', format: 'pem' }), 'other.pub')]);
    expect(e.check).toBe('signature');
    expect(e.message).toContain(`signed by key ${keyIdOf(trusted[0]!.key)}, which is not trusted`);
    expect(e.hint).toMatch(/feed-trust/);
  });

  it('a file added to, or missing from, the archive is a format error; so is a different order', () => {
    const entries = readTar(bundle);
    const extra = writeTar([...entries, { name: 'extra.json', data: Buffer.from('[]') }], 0);
    expect(refusal(extra).message).toMatch(/extra.json is in the archive but not in the manifest/);
    const missing = writeTar(entries.filter((e) => e.name !== 'kev.json'), 0);
    expect(refusal(missing).message).toMatch(/kev.json is in the manifest but not in the archive/);
    const swapped = writeTar([entries[1]!, entries[0]!, ...entries.slice(2)], 0);
    expect(refusal(swapped).check).toBe('format');
  });

  it('a file swapped for another with a valid signature elsewhere is a digest error', () => {
    const entries = readTar(bundle);
    const altered = entries.map((e) => (e.name === 'kev.json' ? { name: e.name, data: Buffer.from(e.data.toString().replace('2023-11-21', '2023-11-22')) } : e));
    const e = refusal(writeTar(altered, 0));
    expect(e.check).toBe('digest');
    expect(e.message).toMatch(/kev.json has SHA-256 [0-9a-f]{64}, the manifest says/);
  });
});

describe('schema check (a correctly signed bundle with bad content)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keys = [trustedKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }), 'builder.pub')];
  const source: FeedSource = { id: 'osv-debian-12', kind: 'osv', origin: 'test', retrieved_at: '2026-01-01T00:00:00Z', sha256: '0'.repeat(64), records: 1, licence: 'test', attribution: 'test' };
  const kevSource: FeedSource = { ...source, id: 'cisa-kev', kind: 'kev' };
  const build = (files: BundleFileInput[]) => buildBundle({ builtAt: new Date('2026-01-01T00:00:00Z'), sources: [source, kevSource], files, privateKey, publicKey }).bytes;
  const good = { id: 'DSA-1', affected: [{ package: { ecosystem: 'Debian:12', name: 'x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] };

  it('accepts a good one', () => {
    expect(verifyBundle(build([{ kind: 'osv', ecosystem: 'Debian:12', source: 'osv-debian-12', data: Buffer.from(JSON.stringify([good])), records: 1 }]), keys).osv.get('Debian:12')).toHaveLength(1);
  });

  it.each([
    ['a record without an id', [{ affected: [] }], 1, /osv\/Debian_12.json\[0\].*id/],
    ['an event with two keys', [{ ...good, affected: [{ ...good.affected[0], ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0', fixed: '1' }] }] }] }], 1, /exactly one of introduced/],
    ['a record count that differs from the manifest', [good, good], 1, /holds 2 records, the manifest says 1/],
    ['not an array', { records: [] }, 1, /expected a JSON array/],
  ])('refuses %s', (_name, content, records, message) => {
    const e = refusal(build([{ kind: 'osv', ecosystem: 'Debian:12', source: 'osv-debian-12', data: Buffer.from(JSON.stringify(content)), records }]), keys);
    expect(e.check).toBe('schema');
    expect(e.code).toBe('COLLECTOR_FEED_SCHEMA');
    expect(e.message).toMatch(message);
  });

  it('refuses a file that is not JSON, and a KEV file that is not a catalogue', () => {
    expect(refusal(build([{ kind: 'osv', ecosystem: 'Debian:12', source: 'osv-debian-12', data: Buffer.from('[{'), records: 1 }]), keys).message).toMatch(/not valid JSON/);
    const e = refusal(build([
      { kind: 'osv', ecosystem: 'Debian:12', source: 'osv-debian-12', data: Buffer.from(JSON.stringify([good])), records: 1 },
      { kind: 'kev', source: 'cisa-kev', data: Buffer.from(JSON.stringify({ vulnerabilities: [{ cveID: 'not-a-cve' }] })), records: 1 },
    ]), keys);
    expect(e.check).toBe('schema');
    expect(e.message).toMatch(/kev.json.*cveID must look like/);
  });

  it('a signed built_at without a time zone (or not ISO-8601 at all) is refused: the rollback check would read it in the collector\'s local time', () => {
    // Before the review any Date.parse-able text passed ("2026-05-03T00:00:00" is local time, "1" is 2001).
    const sign = (builtAt: string): Buffer => {
      const m = { ...JSON.parse(readTar(build([{ kind: 'osv', ecosystem: 'Debian:12', source: 'osv-debian-12', data: Buffer.from(JSON.stringify([good])), records: 1 }]))[0]!.data.toString()), built_at: builtAt };
      const manifestBytes = Buffer.from(JSON.stringify(m, null, 2) + '\n');
      const sig = { algorithm: 'ed25519', key_id: keyIdOf(publicKey), signature: edSign(null, manifestBytes, privateKey).toString('base64') };
      const files = readTar(build([{ kind: 'osv', ecosystem: 'Debian:12', source: 'osv-debian-12', data: Buffer.from(JSON.stringify([good])), records: 1 }])).slice(2);
      return writeTar([{ name: 'manifest.json', data: manifestBytes }, { name: 'manifest.sig', data: Buffer.from(JSON.stringify(sig) + '\n') }, ...files], 0);
    };
    expect(() => verifyBundle(sign('2026-01-01T00:00:00.000Z'), keys)).not.toThrow();
    expect(() => verifyBundle(sign('2026-01-01T07:00:00+07:00'), keys)).not.toThrow();
    for (const bad of ['2026-01-01T00:00:00', '2026-01-01', '1', 'Thu, 01 Jan 2026 00:00:00 GMT']) {
      const e = refusal(sign(bad), keys);
      expect(e.check).toBe('schema');
      expect(e.message).toContain('built_at: an ISO-8601 time with a time zone');
    }
  });
});

describe('test key', () => {
  it('the test private key really is the test public key\'s pair (test-only key)', () => {
    const pem = readFileSync(TEST_PRIVATE_KEY, 'utf8');
    expect(pem).toMatch(/TEST ONLY/);
    expect(keyIdOf(createPublicKey(createPrivateKey(pem)))).toBe(trusted[0]!.keyId);
  });
});
