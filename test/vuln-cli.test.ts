/**
 * The acceptance path, as a person runs it, from the built program (npm run build first):
 *   canhgac feed import test/fixtures/feed/test-bundle.cgfeed --data-dir D
 *   canhgac demo --once --data-dir D
 *   canhgac findings list --data-dir D --kind vulnerability --json
 * and the refusals: a tampered or truncated bundle exits non-zero naming the check, the previous
 * feed staying active; operator keys through --trust-key and feed trust add.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBundle, generateFeedKeyPair, verifyBundle } from '../collector/vuln/index.js';
import { testTrustedKey } from '../collector/vuln/testing/fixtures.js';
import { openStore } from '../collector/store/index.js';
import { CANHGAC, ROOT, cleanup, run, tempDir } from './helpers.js';

const BUNDLE = join(ROOT, 'test', 'fixtures', 'feed', 'test-bundle.cgfeed');
const work = tempDir('vuln-cli');
afterAll(() => cleanup(work));
let n = 0;
const dir = (): string => join(work, `d${++n}`);

function statusOf(d: string): { active: boolean; id?: string } {
  const r = run(CANHGAC, ['feed', 'status', '--data-dir', d, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { active: boolean; id?: string };
}

describe.runIf(existsSync(join(ROOT, 'dist', 'collector', 'cli', 'main.js')))('canhgac feed', () => {
  const original = verifyBundle(readFileSync(BUNDLE), [testTrustedKey()]);

  it('imports the committed test bundle out of the box, naming the key it trusted and why', () => {
    const d = dir();
    const r = run(CANHGAC, ['feed', 'import', BUNDLE, '--data-dir', d]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`feed ${original.manifest.id} imported and active`);
    expect(r.stdout).toMatch(/signature verified with trusted key 665b7ed3ea149176 \(built-in: pinned test bundle/);
    expect(r.stdout).toContain('WARNING: the repository test key was trusted for this import only');
    expect(r.stdout).toContain('AlmaLinux:9 3; Windows fixed builds: 14');
    expect(statusOf(d)).toMatchObject({ active: true, id: original.manifest.id, test_feed: true });
    const again = run(CANHGAC, ['feed', 'import', BUNDLE, '--data-dir', d]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('is already the active feed');
  });

  it('refuses a bundle with one byte changed (signature), or truncated (truncated); the previous feed stays active', () => {
    const d = dir();
    expect(run(CANHGAC, ['feed', 'import', BUNDLE, '--data-dir', d]).code).toBe(0);
    const bytes = readFileSync(BUNDLE);
    for (const at of [600, Math.floor(bytes.length / 2), bytes.length - 2000]) {
      const bad = Buffer.from(bytes);
      bad[at] ^= 0x04;
      const file = join(work, `tampered-${at}.cgfeed`);
      writeFileSync(file, bad);
      const r = run(CANHGAC, ['feed', 'import', file, '--data-dir', d]);
      expect(r.code, `byte ${at}`).toBe(1);
      expect(r.stderr, `byte ${at}`).toMatch(/feed bundle refused: (signature|format) check failed/);
      expect(statusOf(d).id).toBe(original.manifest.id);
    }
    const mid = Buffer.from(bytes);
    mid[Math.floor(bytes.length / 2)] ^= 0x04;
    writeFileSync(join(work, 'mid.cgfeed'), mid);
    expect(run(CANHGAC, ['feed', 'import', join(work, 'mid.cgfeed'), '--data-dir', d]).stderr).toMatch(/signature check failed: .*\[COLLECTOR_FEED_SIGNATURE\]/);
    writeFileSync(join(work, 'short.cgfeed'), bytes.subarray(0, bytes.length - 1500));
    const t = run(CANHGAC, ['feed', 'import', join(work, 'short.cgfeed'), '--data-dir', d]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/truncated check failed/);
    expect(statusOf(d).id).toBe(original.manifest.id);
  });

  it('trusts an operator key given with --trust-key for one import, or added with feed trust add; never the test key', () => {
    const pair = generateFeedKeyPair();
    writeFileSync(join(work, 'agency.pub'), pair.publicKeyPem);
    const privateKey = createPrivateKey(pair.privateKeyPem);
    const { bytes, manifest } = buildBundle({
      builtAt: new Date('2026-06-01T00:00:00Z'), sources: original.manifest.sources, privateKey, publicKey: createPublicKey(privateKey),
      files: original.manifest.files.map((f) => ({ kind: f.kind, ...(f.ecosystem ? { ecosystem: f.ecosystem } : {}), source: f.source, data: original.files.get(f.path)!, records: f.records })),
    });
    const file = join(work, 'agency.cgfeed');
    writeFileSync(file, bytes);
    const d = dir();
    const refused = run(CANHGAC, ['feed', 'import', file, '--data-dir', d]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/trust check failed: no trusted feed keys are configured/);
    const once = run(CANHGAC, ['feed', 'import', file, '--data-dir', d, '--trust-key', join(work, 'agency.pub')]);
    expect(once.code).toBe(0);
    expect(once.stdout).toContain(`signature verified with trusted key ${pair.keyId} (--trust-key`);
    const d2 = dir();
    const add = run(CANHGAC, ['feed', 'trust', 'add', join(work, 'agency.pub'), '--data-dir', d2]);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain(`trusted key ${pair.keyId} added`);
    expect(run(CANHGAC, ['feed', 'import', file, '--data-dir', d2]).code).toBe(0);
    expect(statusOf(d2).id).toBe(manifest.id);
    const test = run(CANHGAC, ['feed', 'trust', 'add', join(ROOT, 'test', 'fixtures', 'feed', 'test-feed.pub'), '--data-dir', d2]);
    expect(test.code).toBe(2);
    expect(test.stderr).toMatch(/repository's TEST key/);
  });

  it('refuses a bundle built before the active feed (naming both build times) unless --allow-older --reason, which is audited', async () => {
    const privateKey = createPrivateKey(readFileSync(join(ROOT, 'test', 'fixtures', 'feed', 'test-feed.key')));
    const { bytes, manifest: newer } = buildBundle({
      builtAt: new Date('2026-06-15T00:00:00Z'), sources: original.manifest.sources, privateKey, publicKey: createPublicKey(privateKey),
      files: original.manifest.files.map((f) => ({ kind: f.kind, ...(f.ecosystem ? { ecosystem: f.ecosystem } : {}), source: f.source, data: original.files.get(f.path)!, records: f.records })),
    });
    const file = join(work, 'newer.cgfeed');
    writeFileSync(file, bytes);
    const d = dir();
    const testKey = join(ROOT, 'test', 'fixtures', 'feed', 'test-feed.pub');
    expect(run(CANHGAC, ['feed', 'import', file, '--data-dir', d, '--trust-key', testKey]).code).toBe(0);

    const refused = run(CANHGAC, ['feed', 'import', BUNDLE, '--data-dir', d]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`rollback check failed: it was built at ${original.manifest.built_at}, before the active feed ${newer.id} (built ${newer.built_at})`);
    expect(refused.stderr).toContain('[COLLECTOR_FEED_ROLLBACK]');
    expect(refused.stderr).toContain('--allow-older --reason');
    expect(statusOf(d).id).toBe(newer.id);

    const noReason = run(CANHGAC, ['feed', 'import', BUNDLE, '--data-dir', d, '--allow-older']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--allow-older needs --reason/);
    expect(statusOf(d).id).toBe(newer.id);

    const allowed = run(CANHGAC, ['feed', 'import', BUNDLE, '--data-dir', d, '--allow-older', '--reason', 'feed of 15 June drops records']);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(`ROLLBACK (allowed with --allow-older, recorded in the audit trail): replaces ${newer.id} built ${newer.built_at}`);
    const status = statusOf(d) as { id?: string; rollback?: Record<string, unknown> };
    expect(status.id).toBe(original.manifest.id);
    expect(status.rollback).toMatchObject({ replaced: newer.id, replaced_built_at: newer.built_at, kind: 'older', reason: 'feed of 15 June drops records' });

    const store = await openStore({ type: 'sqlite' }, d);
    try {
      const audit = await store.listAudit({ target: `feed:${original.manifest.id}` });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        action: 'feed.rollback', reason: 'feed of 15 June drops records',
        from: `${newer.id} (built ${newer.built_at})`, to: `${original.manifest.id} (built ${original.manifest.built_at})`,
      });
      expect(audit[0]!.actor).not.toBe('');
    } finally {
      await store.close();
    }
  });

  it('feed status without a feed says how to import one', () => {
    const r = run(CANHGAC, ['feed', 'status', '--data-dir', dir()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no active vulnerability feed');
  });
});

describe.runIf(existsSync(join(ROOT, 'dist', 'collector', 'cli', 'main.js')) && existsSync('/usr/bin/dpkg-query'))('acceptance: feed import, demo --once, findings list --kind vulnerability', () => {
  it('lists this machine\'s vulnerable packages with id, installed version (as dpkg-query says), fixed version, severity and explanation', () => {
    const d = dir();
    const copy = join(work, 'test-bundle.cgfeed');
    copyFileSync(BUNDLE, copy);
    expect(run(CANHGAC, ['feed', 'import', copy, '--data-dir', d]).code).toBe(0);
    const demo = run(CANHGAC, ['demo', '--once', '--data-dir', d], { timeoutMs: 240_000, env: { CANHGAC_LOG_LEVEL: 'warn' } });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/Vulnerabilities \/ lỗ hổng: \d+ \(feed /);
    const list = run(CANHGAC, ['findings', 'list', '--data-dir', d, '--kind', 'vulnerability', '--json']);
    expect(list.code).toBe(0);
    const docs = JSON.parse(list.stdout) as { vulnerability: Record<string, unknown>; package: { name: string; version: string } }[];
    expect(docs.length).toBeGreaterThan(0);
    const installed = new Map(execFileSync('/usr/bin/dpkg-query', ['-W', '-f=${Package}\t${Version}\n'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split('\t') as [string, string]));
    for (const doc of docs) {
      expect(doc.vulnerability.id).toMatch(/^(DEBIAN-CVE|DSA|DLA)-/);
      expect(installed.get(doc.package.name), doc.package.name).toBe(doc.package.version);
      expect('fixed_version' in doc.vulnerability).toBe(true); // a version, or null: no fix published for Debian 12
      expect(doc.vulnerability.fix_available).toBe(doc.vulnerability.fixed_version !== null);
      expect(['low', 'medium', 'high', 'critical', 'unknown']).toContain(doc.vulnerability.severity);
      expect(String(doc.vulnerability.explanation)).toMatch(/^installed \S+ /);
    }
    console.log(`acceptance: ${docs.length} vulnerability findings on this machine (${docs.filter((x) => x.vulnerability.fixed_version !== null).length} with a fixed version)`);
  });
});
