import { describe, expect, it } from 'vitest';
import type { Entry } from './entry.js';
import { EntryStore } from './entry-store.js';

const file: Entry = { type: 'file', size: 3, mode: 0o4755, uid: 0, gid: 0, mtimeNs: '1732740000123456789', ctimeNs: '1732740000987654321', ino: '12345', dev: '2049', sha256: 'ab'.repeat(32) };

describe('EntryStore', () => {
  it('gives back exactly what was stored: 64-bit inodes, nanosecond times, modes, devices, targets, hashes', () => {
    const s = new EntryStore();
    const big: Entry = { ...file, ino: '18446744073709551615', dev: '18446744073709551000', mtimeNs: '-1000000001', uid: 4294967294, gid: 65534, size: 2 ** 40 };
    const link: Entry = { type: 'symlink', size: 7, mode: 0o777, uid: 1000, gid: 1000, mtimeNs: '1', ctimeNs: '2', ino: '3', dev: '2049', target: '../ä/ß 🙂' };
    const dir: Entry = { type: 'dir', size: 4096, mode: 0o2775, uid: 0, gid: 50, mtimeNs: '5', ctimeNs: '6', ino: '7', dev: '2050' };
    s.set('/a/file', file).set('/a/big', big).set('/a/ünïcode 🙂', link).set('/a', dir);
    expect(s.size).toBe(4);
    expect(s.get('/a/file')).toEqual(file);
    expect(s.get('/a/big')).toEqual(big);
    expect(s.get('/a/ünïcode 🙂')).toEqual(link);
    expect(s.get('/a')).toEqual(dir);
    expect(s.get('/a/missing')).toBeUndefined();
    expect([...s.keys()]).toEqual(['/a/file', '/a/big', '/a/ünïcode 🙂', '/a']);
    // get returns a copy: changing it does not change the store
    s.get('/a/file')!.size = 99;
    expect(s.get('/a/file')!.size).toBe(3);
  });

  it('replaces, deletes and revives, keeping size and iteration right', () => {
    const s = new EntryStore();
    s.set('/x', file);
    s.set('/x', { ...file, sha256: undefined, size: 9 } as Entry);
    expect(s.size).toBe(1);
    expect(s.get('/x')).toMatchObject({ size: 9 });
    expect(s.get('/x')!.sha256).toBeUndefined();
    expect(s.delete('/x')).toBe(true);
    expect(s.delete('/x')).toBe(false);
    expect(s.has('/x')).toBe(false);
    expect(s.size).toBe(0);
    expect([...s]).toEqual([]);
    s.set('/x', { ...file, type: 'symlink', target: 't' } as Entry);
    expect(s.size).toBe(1);
    expect(s.get('/x')!.target).toBe('t');
    s.set('/x', file);
    expect(s.get('/x')!.target).toBeUndefined();
  });

  it('holds many paths (table growth, probing) and finds each', () => {
    const s = new EntryStore();
    for (let i = 0; i < 20_000; i++) s.set(`/usr/share/doc/pkg-${i}/copyright`, { ...file, ino: String(i) });
    expect(s.size).toBe(20_000);
    for (let i = 0; i < 20_000; i += 997) expect(s.get(`/usr/share/doc/pkg-${i}/copyright`)!.ino).toBe(String(i));
    expect(s.has('/usr/share/doc/pkg-20000/copyright')).toBe(false);
    expect(EntryStore.from(s).size).toBe(20_000);
  });
});
