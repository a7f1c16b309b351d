/**
 * Reading system files (/etc/passwd, /proc/<pid>/status, /etc/os-release…) and writing the agent's
 * own state durably. Reads are bounded; a file that vanished (a process that exited) is `undefined`,
 * not an error.
 */
import { randomBytes } from 'node:crypto';
import { open, readlink, rename, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { AgentCodes, AgentError } from '../errors.js';

const GONE = new Set(['ENOENT', 'ENOTDIR', 'ESRCH']);

function isGone(e: unknown): boolean {
  return GONE.has((e as NodeJS.ErrnoException).code ?? '');
}

/** Reads a text file of at most `maxBytes`; undefined when it does not exist. */
export async function readSystemFile(path: string, maxBytes = 4 * 1024 * 1024): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (isGone(e)) return undefined;
    throw new AgentError(AgentCodes.HOST_READ_FAILED, `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    // /proc files report size 0, so read in chunks until EOF rather than trusting stat.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) {
        throw new AgentError(AgentCodes.HOST_READ_FAILED, `${path} is larger than ${maxBytes} bytes`);
      }
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (e) {
    if (e instanceof AgentError) throw e;
    if (isGone(e)) return undefined;
    throw new AgentError(AgentCodes.HOST_READ_FAILED, `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    await fh.close();
  }
}

/** The target of a symbolic link (e.g. /proc/<pid>/exe); undefined when gone or not permitted. */
export async function readLinkIfPossible(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}

/**
 * Replaces `path` with `data` so that after a crash the file holds either the old or the new content:
 * write a temp file beside it, fsync it, rename it over, fsync the directory. `data` may be a
 * sequence of string chunks, so large state never has to exist as one string.
 */
export async function writeFileDurable(path: string, data: string | Uint8Array | Iterable<string>, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await fh.writeFile(data);
      else for (const chunk of data) await fh.write(chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    if (process.platform !== 'win32') {
      // The rename itself is only durable once the directory entry is on disk.
      const dir = await open(dirname(path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new AgentError(AgentCodes.HOST_WRITE_FAILED, `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}
