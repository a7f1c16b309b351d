import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHashPool, statKey, type HashPool, type LookOutcome } from './hash-pool.js';

const sha256sum = (p: string) => execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0]!;

describe('hash pool (worker threads)', () => {
  let dir: string;
  let pool: HashPool;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cg-pool-'));
    pool = createHashPool({ threads: 2, idleMs: 200 });
  });
  afterAll(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const look = (path: string, over: Partial<Parameters<HashPool['look']>[0]> = {}) => pool.look({ path, hash: true, list: true, maxHashBytes: 64 << 20, ...over });
  const found = (o: LookOutcome) => { if (o.kind !== 'found') throw new Error(`not found: ${JSON.stringify(o)}`); return o; };

  it('hashes like sha256sum (empty, small, several MiB), in parallel', async () => {
    const files = [['empty', Buffer.alloc(0)], ['small', Buffer.from('hello\n')], ['big', Buffer.alloc(5 * 1024 * 1024 + 3, 7)]] as const;
    for (const [n, b] of files) writeFileSync(join(dir, n), b);
    const out = await Promise.all(files.map(([n]) => look(join(dir, n))));
    out.forEach((o, i) => expect(found(o).facts.sha256).toBe(sha256sum(join(dir, files[i]![0]))));
    expect(found(out[2]!).facts).toMatchObject({ type: 'file', size: 5 * 1024 * 1024 + 3 });
  });

  it('does not read above the size limit, nor when hash is off, nor when the stat key says unchanged', async () => {
    const p = join(dir, 'limit');
    writeFileSync(p, 'x'.repeat(100));
    expect(found(await look(p, { maxHashBytes: 10 })).facts.sha256).toBeUndefined();
    expect(found(await look(p, { hash: false })).facts.sha256).toBeUndefined();
    const first = found(await look(p));
    const again = found(await look(p, { reuse: statKey(first.facts) }));
    expect(again.reused).toBe(true);
    expect(again.facts.sha256).toBeUndefined();
    writeFileSync(p, 'y'.repeat(100));
    const changed = found(await look(p, { reuse: statKey(first.facts) }));
    expect(changed.reused).toBe(false);
    expect(changed.facts.sha256).toBe(sha256sum(p));
  });

  it('lists directories as one NUL-separated string, reports symlinks without following them, FIFOs without opening them, and gone paths', async () => {
    const d = join(dir, 'tree');
    mkdirSync(d);
    writeFileSync(join(d, 'a'), 'a');
    symlinkSync('/etc/shadow', join(d, 'link'));
    execFileSync('mkfifo', [join(d, 'fifo')]);
    const listed = found(await look(d));
    expect(listed.facts.type).toBe('dir');
    expect(listed.names!.split('\0').sort()).toEqual(['a', 'fifo', 'link']);
    expect(found(await look(d, { list: false })).names).toBeUndefined();
    const link = found(await look(join(d, 'link')));
    expect(link.facts).toMatchObject({ type: 'symlink', target: '/etc/shadow' });
    expect(link.facts.sha256).toBeUndefined();
    expect(found(await look(join(d, 'fifo'))).facts.type).toBe('other');
    expect(await look(join(d, 'missing'))).toEqual({ kind: 'gone' });
    expect(await look(join(d, 'a', 'below-a-file'))).toEqual({ kind: 'gone' });
  });

  it('a closed pool answers ECANCELED instead of hanging', async () => {
    const p = createHashPool({ threads: 1 });
    await p.close();
    expect(await p.look({ path: '/etc/hostname', hash: true, list: false, maxHashBytes: 1024 })).toEqual({ kind: 'failed', code: 'ECANCELED' });
  });
});
