import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCanhGacError } from '../../common/errors.js';
import { buildBundle, verifyBundle } from './bundle.js';
import { FeedError } from './errors.js';
import { feedStatus, importBundle, loadFeed, type ImportProgress, type Rollback } from './feed-store.js';
import { matchInventory } from './match.js';
import { TEST_BUNDLE, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, testTrustedKey } from './testing/fixtures.js';
import { loadTrustedKeys, trustDir } from './trust.js';

const root = mkdtempSync(join(tmpdir(), 'cg-feed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function dataDir(): string {
  const d = join(root, `data${++n}`);
  mkdirSync(d);
  return d;
}

const keys = [testTrustedKey()];
const original = verifyBundle(readFileSync(TEST_BUNDLE), keys);

/** A second feed, signed by the test key: the test bundle's files, built a day later (or at `builtAt`, without its last file). */
function laterBundle(builtAt = '2026-05-02T00:00:00Z', dropLast = false): string {
  const privateKey = createPrivateKey(readFileSync(TEST_PRIVATE_KEY));
  const files = dropLast ? original.manifest.files.slice(0, -1) : original.manifest.files;
  const { bytes } = buildBundle({
    builtAt: new Date(builtAt),
    sources: original.manifest.sources,
    files: files.map((f) => ({ kind: f.kind, ...(f.ecosystem ? { ecosystem: f.ecosystem } : {}), source: f.source, data: original.files.get(f.path)!, records: f.records })),
    privateKey,
    publicKey: createPublicKey(privateKey),
  });
  const file = join(root, `later${++n}.cgfeed`);
  writeFileSync(file, bytes);
  return file;
}

function damaged(): string {
  const bytes = Buffer.from(readFileSync(TEST_BUNDLE));
  bytes[bytes.length - 3000]! ^= 0x10;
  const file = join(root, `damaged${++n}.cgfeed`);
  writeFileSync(file, bytes);
  return file;
}

describe('importBundle', () => {
  it('imports, activates and reports the feed', async () => {
    const dir = dataDir();
    expect(await feedStatus(dir)).toEqual({ active: false, reason: 'no feed has been imported' });
    const steps: ImportProgress['step'][] = [];
    const r = await importBundle(TEST_BUNDLE, dir, keys, (p) => { if (!steps.includes(p.step)) steps.push(p.step); });
    expect(r.outcome).toBe('imported');
    expect(steps).toEqual(['read', 'verify', 'write', 'activate', 'done']);
    expect(r.status).toMatchObject({ active: true, id: original.manifest.id, builtAt: '2026-05-01T00:00:00.000Z', keyId: keys[0]!.keyId, records: 18, previous: undefined });
    expect(readFileSync(join(dir, 'feed', 'current'), 'utf8')).toBe(`${original.manifest.id}\n`);
    expect(readdirSync(join(dir, 'feed')).sort()).toEqual([original.manifest.id, 'current']);
    const status = await feedStatus(dir, new Date('2026-05-11T12:00:00Z'));
    expect(status.active && status.ageDays).toBe(10);
  });

  it('re-importing the active feed changes nothing', async () => {
    const dir = dataDir();
    await importBundle(TEST_BUNDLE, dir, keys);
    const again = await importBundle(TEST_BUNDLE, dir, keys);
    expect(again.outcome).toBe('unchanged');
  });

  it('a newer feed becomes active and the previous one is kept for switching back', async () => {
    const dir = dataDir();
    await importBundle(TEST_BUNDLE, dir, keys);
    const r = await importBundle(laterBundle(), dir, keys);
    expect(r.status.previous).toBe(original.manifest.id);
    expect(r.status.id).not.toBe(original.manifest.id);
    expect(readdirSync(join(dir, 'feed')).sort()).toEqual([original.manifest.id, r.status.id, 'current'].sort());
    // Importing a third time drops the oldest.
    const third = await importBundle(laterBundle('2026-05-03T00:00:00Z'), dir, keys);
    expect(third.status.previous).toBe(r.status.id);
    expect(readdirSync(join(dir, 'feed')).sort()).toEqual([r.status.id, third.status.id, 'current'].sort());
  });

  describe('rollback protection', () => {
    it('refuses a bundle built before the active feed, naming both build times; the active feed stays', async () => {
      const dir = dataDir();
      const later = await importBundle(laterBundle(), dir, keys);
      const before = readdirSync(join(dir, 'feed')).sort();
      const audited: unknown[] = [];
      const err = await importBundle(TEST_BUNDLE, dir, keys, { onRollback: (r) => { audited.push(r); } }).catch((e: unknown) => e);
      expect(isCanhGacError(err, 'COLLECTOR_FEED_ROLLBACK')).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain('rollback check failed');
      expect(message).toContain('built at 2026-05-01T00:00:00.000Z');
      expect(message).toContain(`before the active feed ${later.status.id} (built 2026-05-02T00:00:00.000Z)`);
      expect((err as { hint?: string }).hint).toMatch(/--allow-older --reason/);
      expect(audited).toEqual([]);
      expect(readdirSync(join(dir, 'feed')).sort()).toEqual(before);
      const status = await feedStatus(dir);
      expect(status.active && status.id).toBe(later.status.id);
    });

    it('refuses a bundle built at the same time as the active feed with different content', async () => {
      const dir = dataDir();
      await importBundle(TEST_BUNDLE, dir, keys);
      const err = await importBundle(laterBundle('2026-05-01T00:00:00Z', true), dir, keys).catch((e: unknown) => e);
      expect(isCanhGacError(err, 'COLLECTOR_FEED_ROLLBACK')).toBe(true);
      expect((err as Error).message).toMatch(/built at 2026-05-01T00:00:00.000Z, the same time as the active feed 20260501T000000Z-\w+, but its content differs/);
      const status = await feedStatus(dir);
      expect(status.active && status.id).toBe(original.manifest.id);
    });

    it('with allowOlder, audits first, then activates the older feed and records the rollback', async () => {
      const dir = dataDir();
      const later = await importBundle(laterBundle(), dir, keys);
      const audited: Rollback[] = [];
      const r = await importBundle(TEST_BUNDLE, dir, keys, {
        allowOlder: true, rollbackBy: { actor: 'alice', reason: 'feed of 2 May is broken' },
        onRollback: (x) => { audited.push(x); expect(readFileSync(join(dir, 'feed', 'current'), 'utf8').trim()).toBe(later.status.id); },
      });
      expect(audited).toEqual([{ kind: 'older', active: { id: later.status.id, builtAt: '2026-05-02T00:00:00.000Z' }, incoming: { id: original.manifest.id, builtAt: '2026-05-01T00:00:00.000Z' } }]);
      expect(r.rollback).toEqual(audited[0]);
      expect(r.status).toMatchObject({ id: original.manifest.id, previous: later.status.id, rollback: { replaced: later.status.id, replacedBuiltAt: '2026-05-02T00:00:00.000Z', kind: 'older', actor: 'alice', reason: 'feed of 2 May is broken' } });
      // a newer feed afterwards is an ordinary import again
      const next = await importBundle(laterBundle('2026-05-04T00:00:00Z'), dir, keys);
      expect(next.rollback).toBeUndefined();
      expect(next.status.rollback).toBeUndefined();
    });

    it('the reference is the active feed\'s signed manifest alone: a damaged imported.json does not switch the check off', async () => {
      // Before the review the check read manifest.json and imported.json together and, when either
      // failed, had "no reference" — so the older test bundle was accepted without --allow-older.
      const dir = dataDir();
      const later = await importBundle(laterBundle(), dir, keys);
      writeFileSync(join(dir, 'feed', later.status.id, 'imported.json'), '{ damaged');
      const err = await importBundle(TEST_BUNDLE, dir, keys).catch((e: unknown) => e);
      expect(isCanhGacError(err, 'COLLECTOR_FEED_ROLLBACK')).toBe(true);
      expect(readFileSync(join(dir, 'feed', 'current'), 'utf8').trim()).toBe(later.status.id);
    });

    it('a failing audit leaves the newer feed active', async () => {
      const dir = dataDir();
      const later = await importBundle(laterBundle(), dir, keys);
      await expect(importBundle(TEST_BUNDLE, dir, keys, { allowOlder: true, onRollback: () => { throw new Error('store unavailable'); } }))
        .rejects.toSatisfy((e: unknown) => isCanhGacError(e, 'COLLECTOR_FEED_IMPORT') && /could not be recorded in the audit trail: store unavailable/.test((e as Error).message));
      const status = await feedStatus(dir);
      expect(status.active && status.id).toBe(later.status.id);
      expect(readdirSync(join(dir, 'feed')).sort()).toEqual([later.status.id, 'current']);
    });
  });

  it('a refused bundle leaves the previous feed active and nothing behind', async () => {
    const dir = dataDir();
    await importBundle(TEST_BUNDLE, dir, keys);
    const before = readdirSync(join(dir, 'feed')).sort();
    await expect(importBundle(damaged(), dir, keys)).rejects.toBeInstanceOf(FeedError);
    expect(readdirSync(join(dir, 'feed')).sort()).toEqual(before);
    expect((await feedStatus(dir)).active && (await feedStatus(dir) as { id: string }).id).toBe(original.manifest.id);
  });

  it('a failure while writing leaves the previous feed active and removes the partial copy', async () => {
    const dir = dataDir();
    await importBundle(TEST_BUNDLE, dir, keys);
    const later = laterBundle();
    let calls = 0;
    const crash = (p: ImportProgress) => {
      if (p.step === 'write' && ++calls === 3) throw new Error('disk full (simulated)');
    };
    await expect(importBundle(later, dir, keys, crash)).rejects.toSatisfy((e: unknown) => isCanhGacError(e, 'COLLECTOR_FEED_IMPORT') && /disk full/.test((e as Error).message));
    expect(readdirSync(join(dir, 'feed')).sort()).toEqual([original.manifest.id, 'current']);
    const status = await feedStatus(dir);
    expect(status.active && status.id).toBe(original.manifest.id);
    // and the same bundle imports fine afterwards
    expect((await importBundle(later, dir, keys)).outcome).toBe('imported');
  });

  it('a failure on the very first import leaves no feed at all', async () => {
    const dir = dataDir();
    await expect(importBundle(damaged(), dir, keys)).rejects.toBeInstanceOf(FeedError);
    expect(await feedStatus(dir)).toMatchObject({ active: false });
  });

  it('refuses to run next to another import', async () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'feed'));
    writeFileSync(join(dir, 'feed', '.import.lock'), `${process.ppid}\n`);
    await expect(importBundle(TEST_BUNDLE, dir, keys)).rejects.toSatisfy((e: unknown) => isCanhGacError(e, 'COLLECTOR_FEED_BUSY'));
    // a lock left by a process that is gone is taken over
    writeFileSync(join(dir, 'feed', '.import.lock'), '999999999\n');
    expect((await importBundle(TEST_BUNDLE, dir, keys)).outcome).toBe('imported');
    expect(existsSync(join(dir, 'feed', '.import.lock'))).toBe(false);
  });

  it('two imports started together over a stale lock: one runs, the other is refused as busy (no unaudited rollback between them)', async () => {
    // Before the review both took the stale lock over (a plain overwrite), both passed the rollback check
    // against the same active feed, and whichever activated last won: the 3 May feed could replace the
    // 4 May one without --allow-older or an audit entry.
    const dir = dataDir();
    await importBundle(laterBundle('2026-05-02T00:00:00Z'), dir, keys);
    const newer = laterBundle('2026-05-04T00:00:00Z');
    const older = laterBundle('2026-05-03T00:00:00Z');
    writeFileSync(join(dir, 'feed', '.import.lock'), '999999999\n');
    const results = await Promise.allSettled([importBundle(newer, dir, keys), importBundle(older, dir, keys)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const busy = results.filter((r) => r.status === 'rejected' && isCanhGacError(r.reason, 'COLLECTOR_FEED_BUSY'));
    expect([ok.length, busy.length]).toEqual([1, 1]);
    // the active feed is the one that ran, readable (before: `current` could name a pruned feed)
    const status = await feedStatus(dir);
    expect(status.active && status.id).toBe((ok[0] as PromiseFulfilledResult<{ status: { id: string } }>).value.status.id);
    expect(existsSync(join(dir, 'feed', '.import.lock'))).toBe(false);
  });

  it('a missing bundle file is a clear error', async () => {
    await expect(importBundle(join(root, 'nope.cgfeed'), dataDir(), keys)).rejects.toThrow(/cannot read the bundle file/);
  });

  it('a device or a folder is refused before reading (before the review /dev/zero was read until memory ran out)', async () => {
    await expect(importBundle('/dev/zero', dataDir(), keys)).rejects.toThrow(/the bundle is not a regular file/);
    await expect(importBundle(root, dataDir(), keys)).rejects.toSatisfy((e: unknown) => isCanhGacError(e, 'COLLECTOR_FEED_IMPORT') && /not a regular file/.test((e as Error).message));
  });
});

describe('trust and loading', () => {
  it('trusted keys come from <data dir>/feed-trust/*.pub', async () => {
    const dir = dataDir();
    expect(loadTrustedKeys(trustDir(dir))).toEqual([]);
    await expect(importBundle(TEST_BUNDLE, dir, loadTrustedKeys(trustDir(dir)))).rejects.toMatchObject({ check: 'trust' });
    mkdirSync(trustDir(dir));
    writeFileSync(join(trustDir(dir), 'canhgac-test.pub'), readFileSync(TEST_PUBLIC_KEY));
    writeFileSync(join(trustDir(dir), 'README'), 'not a key');
    const loaded = loadTrustedKeys(trustDir(dir));
    expect(loaded.map((k) => k.keyId)).toEqual([keys[0]!.keyId]);
    expect((await importBundle(TEST_BUNDLE, dir, loaded)).outcome).toBe('imported');
  });

  it('refuses a key file that is not an Ed25519 public key', () => {
    const dir = dataDir();
    mkdirSync(trustDir(dir));
    writeFileSync(join(trustDir(dir), 'bad.pub'), 'hello');
    expect(() => loadTrustedKeys(trustDir(dir))).toThrow(/not a PEM public key/);
  });

  it('loadFeed builds the index of the active feed and notices damage on disk', async () => {
    const dir = dataDir();
    await expect(loadFeed(dir)).rejects.toSatisfy((e: unknown) => isCanhGacError(e, 'COLLECTOR_FEED_NONE'));
    await importBundle(TEST_BUNDLE, dir, keys);
    const feed = await loadFeed(dir);
    expect(feed.index.stats).toMatchObject({ records: 18, withdrawn: 0, invalidRanges: 0 });
    expect(feed.kev?.vulnerabilities).toHaveLength(5);
    expect(feed.windows?.fixes).toHaveLength(14);
    expect(feed.index.windows?.byBuild.get(17763)?.length).toBe(3);
    const [m] = matchInventory([{ name: 'libc6', version: '2.36-9+deb12u2', source: { name: 'glibc', version: '2.36-9+deb12u2' } }], feed.index, 'Debian:12').filter((x) => x.id === 'DSA-5514-1');
    expect(m).toMatchObject({ kev: true, fixedVersion: '2.36-9+deb12u3' });
    const file = join(dir, 'feed', original.manifest.id, 'osv', 'Debian_12.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('DSA-5514-1', 'DSA-5514-2'));
    await expect(loadFeed(dir)).rejects.toMatchObject({ check: 'digest' });
  });
});
