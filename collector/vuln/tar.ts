/**
 * The small part of POSIX ustar that feed bundles use: regular files only, names up to 100
 * bytes, no extensions. Written deterministically (mode 0644, owner 0, fixed mtime) so the
 * same inputs give the same bytes; GNU tar lists and extracts it.
 *
 * The reader is strict because every byte of a bundle must be accounted for: header
 * checksums, the ustar magic, zero padding after each file and the two zero blocks that end
 * the archive are all checked, so a flipped byte anywhere is caught (by this reader, or by
 * the manifest signature and digests for bytes inside files).
 */
import { FeedError } from './errors.js';

const BLOCK = 512;
const NAME = /^[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/;

export interface TarEntry {
  name: string;
  data: Buffer;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

export function checkEntryName(name: string): string | undefined {
  if (Buffer.byteLength(name) > 100) return 'longer than 100 bytes';
  if (!NAME.test(name) || name.split('/').some((p) => p === '.' || p === '..')) return 'only letters, digits and . _ + - in /-separated parts are allowed';
  return undefined;
}

/** A ustar archive of `entries`, in the given order. */
export function writeTar(entries: readonly TarEntry[], mtimeSeconds: number): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const problem = checkEntryName(e.name);
    if (problem !== undefined) throw new Error(`tar entry name "${e.name}": ${problem}`);
    parts.push(header(e.name, e.data.length, mtimeSeconds), e.data);
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(parts);
}

function isZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

function field(buf: Buffer, start: number, length: number): string {
  const raw = buf.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? length : nul).toString('utf8');
}

function parseOctal(buf: Buffer, start: number, length: number, what: string, at: number): number {
  const text = buf.subarray(start, start + length).toString('ascii').replace(/[\0 ]+$/, '');
  if (!/^[0-7]+$/.test(text)) throw new FeedError('format', `the tar header at byte ${at} has a malformed ${what} field`);
  return parseInt(text, 8);
}

/** Reads a bundle's ustar archive; throws FeedError(format|truncated). */
export function readTar(buf: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  const names = new Set<string>();
  let at = 0;
  for (;;) {
    if (at + BLOCK > buf.length) {
      throw new FeedError('truncated', `the archive ends at byte ${buf.length}, inside or before a header (expected the end-of-archive blocks)`);
    }
    if (isZero(buf, at, at + BLOCK)) {
      if (at + 2 * BLOCK > buf.length) throw new FeedError('truncated', `the archive ends at byte ${buf.length}, inside the end-of-archive blocks`);
      if (!isZero(buf, at + BLOCK, at + 2 * BLOCK)) throw new FeedError('format', `the block at byte ${at + BLOCK} should be the second end-of-archive block but is not empty`);
      if (!isZero(buf, at + 2 * BLOCK, buf.length)) throw new FeedError('format', `there are bytes after the end of the archive (byte ${at + 2 * BLOCK})`);
      return entries;
    }
    let sum = 0;
    for (let i = at; i < at + BLOCK; i++) sum += i >= at + 148 && i < at + 156 ? 32 : buf[i]!;
    // The checksum field is left out of the sum, so it must also read exactly as written.
    const expected = sum.toString(8).padStart(6, '0') + '\0 ';
    if (buf.toString('latin1', at + 148, at + 156) !== expected) throw new FeedError('format', `the tar header at byte ${at} fails its checksum`);
    if (buf.toString('ascii', at + 257, at + 263) !== 'ustar\0' || buf.toString('ascii', at + 263, at + 265) !== '00') {
      throw new FeedError('format', `the header at byte ${at} is not a ustar header`);
    }
    const type = buf[at + 156];
    if (type !== 0x30 && type !== 0) throw new FeedError('format', `the entry at byte ${at} is not a regular file`);
    const prefix = field(buf, at + 345, 155);
    const name = (prefix === '' ? '' : `${prefix}/`) + field(buf, at + 0, 100);
    const problem = checkEntryName(name);
    if (problem !== undefined) throw new FeedError('format', `the entry name "${name}" at byte ${at} is not allowed: ${problem}`);
    if (names.has(name)) throw new FeedError('format', `"${name}" appears twice in the archive`);
    names.add(name);
    const size = parseOctal(buf, at + 124, 12, 'size', at);
    const start = at + BLOCK;
    const end = start + size;
    const padded = start + Math.ceil(size / BLOCK) * BLOCK;
    if (padded > buf.length) throw new FeedError('truncated', `"${name}" should have ${size} bytes from byte ${start} but the archive ends at byte ${buf.length}`);
    if (!isZero(buf, end, padded)) throw new FeedError('format', `the padding after "${name}" (bytes ${end}–${padded - 1}) is not zero`);
    entries.push({ name, data: buf.subarray(start, end) });
    at = padded;
  }
}
