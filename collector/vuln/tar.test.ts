import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedError } from './errors.js';
import { readTar, writeTar } from './tar.js';
import { toolAvailable } from './testing/oracles.js';

const dir = mkdtempSync(join(tmpdir(), 'cg-tar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entries = [
  { name: 'manifest.json', data: Buffer.from('{"a":1}\n') },
  { name: 'osv/Debian_12.json', data: Buffer.alloc(1300, 0x41) },
  { name: 'empty.json', data: Buffer.alloc(0) },
  { name: 'exact.json', data: Buffer.alloc(512, 0x42) },
];

function refusal(fn: () => unknown): FeedError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FeedError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('ustar', () => {
  it('round-trips entries, padded to 512-byte blocks, ending in two zero blocks', () => {
    const tar = writeTar(entries, 1_777_593_600);
    expect(tar.length % 512).toBe(0);
    expect(tar.length).toBe(512 + 512 + 512 + 1536 + 512 + 512 + 512 + 1024);
    expect(readTar(tar).map((e) => [e.name, e.data.toString('hex')])).toEqual(entries.map((e) => [e.name, e.data.toString('hex')]));
  });

  it('is deterministic', () => {
    expect(writeTar(entries, 1).equals(writeTar(entries, 1))).toBe(true);
  });

  it('refuses names a bundle must not contain', () => {
    expect(() => writeTar([{ name: '../x', data: Buffer.alloc(0) }], 0)).toThrow(/not allowed|only letters/);
    expect(() => writeTar([{ name: 'a'.repeat(101), data: Buffer.alloc(0) }], 0)).toThrow(/100 bytes/);
    expect(() => writeTar([{ name: 'osv/Debian:12.json', data: Buffer.alloc(0) }], 0)).toThrow(/only letters/);
  });

  it('names the check: truncated, bad checksum, bytes after the end, non-zero padding, duplicates', () => {
    const tar = writeTar(entries, 0);
    expect(refusal(() => readTar(tar.subarray(0, tar.length - 1))).check).toBe('truncated');
    expect(refusal(() => readTar(tar.subarray(0, 700))).check).toBe('truncated');
    expect(refusal(() => readTar(Buffer.alloc(0))).check).toBe('truncated');
    const bad = Buffer.from(tar);
    bad[10]! ^= 1;
    expect(refusal(() => readTar(bad)).message).toMatch(/header at byte 0 fails its checksum/);
    expect(refusal(() => readTar(Buffer.concat([tar, Buffer.from([1])]))).message).toMatch(/bytes after the end/);
    const pad = Buffer.from(tar);
    pad[512 + 9] = 1; // first padding byte after the 8-byte manifest.json
    expect(refusal(() => readTar(pad)).message).toMatch(/padding after "manifest.json"/);
    const dup = writeTar([entries[0]!, entries[0]!], 0);
    expect(refusal(() => readTar(dup)).message).toMatch(/appears twice/);
  });
});

const haveTar = toolAvailable('tar', ['--version']);
if (!haveTar) console.warn('SKIPPED: GNU tar interoperability — tar is not installed; CI=true turns this into a failure');

describe('ustar against GNU tar', () => {
  it.runIf(!haveTar && process.env.CI === 'true')('tar must be installed in CI', () => {
    expect.fail('tar is not installed but CI=true');
  });

  it.skipIf(!haveTar)('GNU tar lists and extracts what we write, byte for byte', () => {
    const file = join(dir, 'ours.tar');
    writeFileSync(file, writeTar(entries, 1_777_593_600));
    const list = spawnSync('tar', ['-tvf', file], { encoding: 'utf8' });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n').map((l) => l.split(/\s+/).pop())).toEqual(entries.map((e) => e.name));
    const out = join(dir, 'x');
    mkdirSync(out);
    const x = spawnSync('tar', ['-xf', file, '-C', out], { encoding: 'utf8' });
    expect(x.status, x.stderr).toBe(0);
    for (const e of entries) expect(readFileSync(join(out, e.name)).equals(e.data)).toBe(true);
  });

  it.skipIf(!haveTar)('we read a ustar archive GNU tar wrote', () => {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'osv'), { recursive: true });
    writeFileSync(join(src, 'manifest.json'), '{"b":2}\n');
    writeFileSync(join(src, 'osv', 'Debian_12.json'), 'x'.repeat(2000));
    const file = join(dir, 'gnu.tar');
    const c = spawnSync('tar', ['--format=ustar', '-cf', file, '-C', src, 'manifest.json', 'osv/Debian_12.json'], { encoding: 'utf8' });
    expect(c.status, c.stderr).toBe(0);
    const read = readTar(readFileSync(file));
    expect(read.map((e) => [e.name, e.data.length])).toEqual([['manifest.json', 8], ['osv/Debian_12.json', 2000]]);
  });
});
