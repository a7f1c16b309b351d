/**
 * Just enough of the ZIP format to read OSV's per-ecosystem `all.zip` dumps: the central
 * directory (with ZIP64 for archives of more than 65,535 entries), stored and deflated
 * entries, CRC-32 checked.
 */
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  data: Buffer;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function fail(message: string): never {
  throw new Error(`not a readable zip: ${message}`);
}

function big(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) fail('an offset is too large');
  return Number(n);
}

/** Every file entry (directories skipped), in central-directory order. */
export function* readZip(buf: Buffer): Generator<ZipEntry> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65_535); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record');
  let count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  if ((count === 0xffff || offset === 0xffffffff) && eocd >= 20 && buf.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
    const at = big(buf.readBigUInt64LE(eocd - 20 + 8));
    if (buf.readUInt32LE(at) !== ZIP64_EOCD) fail('bad ZIP64 end-of-central-directory record');
    count = big(buf.readBigUInt64LE(at + 32));
    offset = big(buf.readBigUInt64LE(at + 48));
  }
  let p = offset;
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== CENTRAL) fail(`bad central directory entry at byte ${p}`);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let compressed = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extra field: the 0xffffffff fields, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = big(buf.readBigUInt64LE(q)); q += 8; }
        if (compressed === 0xffffffff) { compressed = big(buf.readBigUInt64LE(q)); q += 8; }
        if (local === 0xffffffff) { local = big(buf.readBigUInt64LE(q)); }
      }
      e += 4 + len;
    }
    p = extraEnd + commentLen;
    if (name.endsWith('/')) continue;
    if (buf.readUInt32LE(local) !== LOCAL) fail(`bad local header for ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + compressed);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) {
      try {
        data = inflateRawSync(raw);
      } catch (e) {
        fail(`${name} does not inflate (${(e as Error).message})`);
      }
    }
    else fail(`${name} uses compression method ${method} (only stored and deflate are read)`);
    if (data.length !== size) fail(`${name} inflates to ${data.length} bytes, expected ${size}`);
    if (crc32(data) !== crc) fail(`${name} fails its CRC-32`);
    yield { name, data };
  }
}
