/**
 * Looking at arbitrary files for file integrity monitoring: metadata without following symlinks,
 * streaming SHA-256 of regular files, directory listings. Nothing here writes.
 */
import { createHash } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface FileFacts {
  type: EntryType;
  size: number;
  /** Permission bits with setuid, setgid and sticky (`st_mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Nanoseconds since the epoch, decimal: exact, so "unchanged" means unchanged. */
  mtimeNs: string;
  ctimeNs: string;
  /** Inode and device numbers, decimal (they can exceed 2^53). */
  ino: string;
  dev: string;
  /** For symlinks: what the link says, not resolved. */
  target?: string;
}

export interface HashedFile {
  /** Facts of the file that was actually read (fstat of the open descriptor). */
  facts: FileFacts;
  /** Absent when the file is larger than the limit, or grew past it while being read. */
  sha256?: string;
}

const GONE = new Set(['ENOENT', 'ENOTDIR']);

function typeOf(st: BigIntStats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

function factsOf(st: BigIntStats): FileFacts {
  return {
    type: typeOf(st),
    size: Number(st.size),
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs.toString(),
    ctimeNs: st.ctimeNs.toString(),
    ino: st.ino.toString(),
    dev: st.dev.toString(),
  };
}

/** lstat: facts about the path itself (a symlink is reported, not followed). Undefined when gone. */
export async function statPath(path: string): Promise<FileFacts | undefined> {
  let st: BigIntStats;
  try {
    st = await lstat(path, { bigint: true });
  } catch (e) {
    if (GONE.has((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
  const facts = factsOf(st);
  if (facts.type === 'symlink') {
    try {
      facts.target = await readlink(path);
    } catch (e) {
      if (GONE.has((e as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw e;
    }
  }
  return facts;
}

// Never follow a link (a file swapped for a symlink between lstat and open is not read through it),
// never block on a FIFO swapped in, and on Linux do not disturb atime (evidence for investigators).
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;
const NOATIME = constants.O_NOATIME ?? 0;
const BASE_FLAGS = constants.O_RDONLY | NOFOLLOW | NONBLOCK;

async function openForHash(path: string): Promise<FileHandle> {
  if (NOATIME) {
    try {
      return await open(path, BASE_FLAGS | NOATIME);
    } catch (e) {
      // O_NOATIME is refused for files the agent does not own unless it has CAP_FOWNER.
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
  }
  return open(path, BASE_FLAGS);
}

const CHUNK = 1024 * 1024;

/**
 * Opens a regular file and hashes it (streaming, at most `maxBytes`). Returns the facts of what was
 * opened; if the path turned out not to be a regular file, the facts say so and there is no hash.
 * Undefined when the path is gone.
 */
export async function hashFile(path: string, maxBytes: number): Promise<HashedFile | undefined> {
  let fh: FileHandle;
  try {
    fh = await openForHash(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (GONE.has(code)) return undefined;
    // ELOOP: it is a symlink now; report it as one.
    if (code === 'ELOOP' || code === 'EMLINK') {
      const facts = await statPath(path);
      return facts ? { facts } : undefined;
    }
    throw e;
  }
  try {
    const facts = factsOf(await fh.stat({ bigint: true }));
    if (facts.type !== 'file' || facts.size > maxBytes) return { facts };
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(facts.size + 1, 4096)));
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) return { facts };
      hash.update(buf.subarray(0, bytesRead));
    }
    return { facts, sha256: hash.digest('hex') };
  } finally {
    await fh.close();
  }
}

/** Names in a directory; undefined when it is gone or no longer a directory. */
export async function listDir(path: string): Promise<string[] | undefined> {
  try {
    return await readdir(path);
  } catch (e) {
    if (GONE.has((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
}
