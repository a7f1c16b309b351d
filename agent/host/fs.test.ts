import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLinkIfPossible, readSystemFile, writeFileDurable } from './fs.js';

describe('system file reads', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cg-fs-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('read /proc files (which report size 0) completely', async () => {
    const text = await readSystemFile(`/proc/${process.pid}/status`);
    expect(text).toMatch(/^Name:/);
    expect(text).toMatch(/^Uid:/m);
    expect(text).toMatch(/^Cpus_allowed_list:/m); // near the end: nothing was cut off
  });

  it('are undefined for what does not exist, and refuse what is too large', async () => {
    expect(await readSystemFile(join(dir, 'nope'))).toBeUndefined();
    expect(await readSystemFile('/proc/999999999/status')).toBeUndefined();
    writeFileSync(join(dir, 'big'), Buffer.alloc(200 * 1024, 97));
    await expect(readSystemFile(join(dir, 'big'), 100 * 1024)).rejects.toMatchObject({ code: 'AGENT_HOST_READ_FAILED' });
    expect((await readSystemFile(join(dir, 'big'), 300 * 1024))!.length).toBe(200 * 1024);
    await expect(readSystemFile(dir)).rejects.toMatchObject({ code: 'AGENT_HOST_READ_FAILED' });
  });

  it('read links, and give undefined when there is none', async () => {
    expect(await readLinkIfPossible(`/proc/${process.pid}/exe`)).toBe(realpathSync(process.execPath));
    expect(await readLinkIfPossible(join(dir, 'nope'))).toBeUndefined();
  });
});

describe('writeFileDurable', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cg-fs-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file whole, mode 0600, leaving no temp file', async () => {
    const p = join(dir, 'state.json');
    writeFileSync(p, 'old');
    await writeFileDurable(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    await writeFileDurable(p, ['a', 'b', 'c'][Symbol.iterator]());
    expect(readFileSync(p, 'utf8')).toBe('abc');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('fails with a code and leaves the old file when it cannot write', async () => {
    await expect(writeFileDurable(join(dir, 'missing-dir', 'x'), 'x')).rejects.toMatchObject({ code: 'AGENT_HOST_WRITE_FAILED' });
    const p = join(dir, 'keep');
    writeFileSync(p, 'old');
    function* broken(): Generator<string> {
      yield 'partial';
      throw new Error('serialiser failed');
    }
    await expect(writeFileDurable(p, broken())).rejects.toMatchObject({ code: 'AGENT_HOST_WRITE_FAILED' });
    expect(readFileSync(p, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['keep']);
  });
});
