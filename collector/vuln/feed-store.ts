/**
 * The imported feeds in a data directory:
 *
 *   <data dir>/feed-trust/*.pub        trusted signing keys (operator-managed)
 *   <data dir>/feed/<id>/              one verified feed: manifest.json, manifest.sig,
 *                                      imported.json and the bundle's files
 *   <data dir>/feed/current            the id of the active feed (one line)
 *
 * Import verifies the whole bundle first, writes it to `<id>.tmp/`, renames that to `<id>/`,
 * then replaces `current` by renaming a new pointer file over it. Both renames are atomic,
 * so a crash or an error at any point leaves the previous feed active. The previous feed is
 * kept (for a quick switch back); older ones are removed.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { takePidLock } from '../../common/pid-lock.js';
import { FeedError, VulnCodes, VulnError } from './errors.js';
import { manifestSchema, sha256, verifyBundle, type FeedFile, type FeedManifest, type FeedSource } from './bundle.js';
import { parseKev, type KevCatalog } from './kev.js';
import { parseLifecycle, type LifecycleEntry } from './lifecycle.js';
import { buildFeedIndex, type FeedIndex } from './match.js';
import { parseOsvArray, type OsvRecord } from './osv.js';
import { parseWindowsBuilds, type WindowsBuilds } from './windows.js';
import type { TrustedKey } from './trust.js';

export interface ImportProgress {
  step: 'read' | 'verify' | 'write' | 'activate' | 'done';
  /** Files written so far (step "write"). */
  done?: number;
  total?: number;
}

export type FeedStatus =
  | { active: false; reason: string }
  | {
    active: true;
    id: string;
    builtAt: string;
    importedAt: string;
    /** Whole days since the feed was built. */
    ageDays: number;
    keyId: string;
    sources: FeedSource[];
    files: FeedFile[];
    records: number;
    previous: string | undefined;
    /** Set when this feed was imported over a newer one with --allow-older. */
    rollback: { replaced: string; replacedBuiltAt: string; kind: 'older' | 'same-time'; actor?: string; reason?: string } | undefined;
  };

export interface ImportResult {
  /** "imported": a new feed is active; "unchanged": this feed was already the active one. */
  outcome: 'imported' | 'unchanged';
  status: Extract<FeedStatus, { active: true }>;
  /** Set when an older (or same-time, different) feed replaced the active one because the operator allowed it. */
  rollback?: Rollback;
}

/** An import that would replace the active feed with one built earlier, or at the same time with other content. */
export interface Rollback {
  /** The active feed the import would replace. */
  active: { id: string; builtAt: string };
  /** The bundle being imported. */
  incoming: { id: string; builtAt: string };
  /** "older": built before the active feed; "same-time": built at the same time with different content. */
  kind: 'older' | 'same-time';
}

export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void;
  /**
   * Import a bundle built before the active feed (or at the same time with different content).
   * Without it such an import is refused with COLLECTOR_FEED_ROLLBACK (an old feed hides every
   * advisory published since: a replayed bundle is an attack, an accidental one a blind spot).
   */
  allowOlder?: boolean;
  /**
   * Called, with `allowOlder`, before a rollback is activated — the caller records it in the audit
   * trail. If it throws, nothing is activated and the previous feed stays active.
   */
  onRollback?: (r: Rollback) => Promise<void> | void;
  /** Who allowed a rollback and why; kept in the feed's imported.json. */
  rollbackBy?: { actor: string; reason: string };
}

const importedSchema = z.object({
  imported_at: z.string(),
  key_id: z.string(),
  bundle: z.string(),
  previous: z.string().optional(),
  rollback: z.object({
    replaced: z.string(), replaced_built_at: z.string(), kind: z.enum(['older', 'same-time']),
    actor: z.string().optional(), reason: z.string().optional(),
  }).optional(),
});

function feedRoot(dataDir: string): string {
  return join(dataDir, 'feed');
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function writeDurable(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data, { mode: 0o644 });
  fsyncPath(path);
}

async function readCurrent(dataDir: string): Promise<string | undefined> {
  try {
    const id = (await readFile(join(feedRoot(dataDir), 'current'), 'utf8')).trim();
    return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The import lock (`.import.lock`, common/pid-lock.ts): two imports never both hold it — they would both
 * pass the rollback check against the same active feed and the last to activate would win, unaudited.
 */
function acquireLock(root: string): () => void {
  const lock = join(root, '.import.lock');
  return takePidLock(lock, {
    busy: (who) => new VulnError(VulnCodes.FEED_BUSY, `another feed import is running (${who})`, { where: lock, hint: 'wait for it to finish, then run this import again' }),
  });
}

/** Removes feeds other than the current and previous ones, and leftovers of failed imports. */
async function prune(root: string, keep: ReadonlySet<string>): Promise<void> {
  for (const name of await readdir(root)) {
    if (name === 'current' || name.startsWith('.') || keep.has(name)) continue;
    await rm(join(root, name), { recursive: true, force: true });
  }
}

/**
 * Verifies a bundle file and makes it the active feed. On any failure the previous feed
 * stays active and nothing of the new one is left behind. `keys` are the trusted keys
 * (usually `loadTrustedKeys(trustDir(dataDir))`).
 */
export async function importBundle(file: string, dataDir: string, keys: readonly TrustedKey[], options: ImportOptions | ((p: ImportProgress) => void) = {}): Promise<ImportResult> {
  const o = typeof options === 'function' ? { onProgress: options } : options;
  o.onProgress?.({ step: 'read' });
  return importBundleBytes(await readBundleFile(file), basename(file), dataDir, keys, o);
}

/** Reads a bundle file (COLLECTOR_FEED_IMPORT when it cannot be read). */
export async function readBundleFile(file: string): Promise<Buffer> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(file);
  } catch (e) {
    throw new VulnError(VulnCodes.FEED_IMPORT, 'cannot read the bundle file', { where: file, cause: e });
  }
  // A device or pipe (/dev/zero, a FIFO) would be read without end; a file past the limit would not fit in memory.
  if (!st.isFile()) throw new VulnError(VulnCodes.FEED_IMPORT, 'the bundle is not a regular file', { where: file, hint: 'give the path of the .cgfeed file itself' });
  if (st.size > MAX_BUNDLE_BYTES) {
    throw new VulnError(VulnCodes.FEED_IMPORT, `the bundle has ${st.size} bytes, more than the ${MAX_BUNDLE_BYTES} a feed bundle may have`, { where: file, hint: 'is this the right file? a full feed is a few hundred MB' });
  }
  try {
    return await readFile(file);
  } catch (e) {
    throw new VulnError(VulnCodes.FEED_IMPORT, 'cannot read the bundle file', { where: file, cause: e });
  }
}

/** The largest bundle file import reads (it is verified in memory): 2 GiB − 1, Node's largest single read. */
export const MAX_BUNDLE_BYTES = 2 ** 31 - 1;

/**
 * `importBundle` for bytes already read: the caller that decided which keys to trust from these
 * bytes imports exactly them (no second read of a file that could have changed in between).
 */
export async function importBundleBytes(bytes: Buffer, name: string, dataDir: string, keys: readonly TrustedKey[], options: ImportOptions | ((p: ImportProgress) => void) = {}): Promise<ImportResult> {
  const o = typeof options === 'function' ? { onProgress: options } : options;
  const progress = o.onProgress ?? (() => undefined);
  progress({ step: 'verify' });
  const verified = verifyBundle(bytes, keys);
  const { manifest } = verified;

  const root = feedRoot(dataDir);
  await mkdir(root, { recursive: true });
  const release = acquireLock(root);
  const tmp = join(root, `${manifest.id}.tmp`);
  try {
    const previous = await readCurrent(dataDir);
    if (previous === manifest.id) {
      const status = await feedStatus(dataDir);
      if (status.active) return { outcome: 'unchanged', status };
    }
    const rollback = previous === undefined ? undefined : await rollbackOf(dataDir, previous, manifest);
    if (rollback && !o.allowOlder) throw rollbackError(rollback);
    if (rollback) {
      try {
        await o.onRollback?.(rollback);
      } catch (e) {
        throw new VulnError(VulnCodes.FEED_IMPORT, `the rollback to ${rollback.incoming.id} could not be recorded in the audit trail: ${(e as Error).message}`, {
          cause: e, hint: `nothing was changed: ${rollback.active.id} stays active; make the store reachable and try again`,
        });
      }
    }
    const final = join(root, manifest.id);
    await rm(tmp, { recursive: true, force: true });
    await rm(final, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const total = verified.files.size + 3;
    let done = 0;
    const put = async (name: string, data: Buffer | string): Promise<void> => {
      await writeDurable(join(tmp, name), data);
      progress({ step: 'write', done: ++done, total });
    };
    await put('manifest.json', verified.manifestBytes);
    await put('manifest.sig', verified.signatureBytes);
    for (const [path, data] of verified.files) await put(path, data);
    const imported = {
      imported_at: new Date().toISOString(), key_id: verified.keyId, bundle: name, ...(previous !== undefined ? { previous } : {}),
      ...(rollback ? { rollback: { replaced: rollback.active.id, replaced_built_at: rollback.active.builtAt, kind: rollback.kind, ...o.rollbackBy } } : {}),
    };
    await put('imported.json', JSON.stringify(imported, null, 2) + '\n');
    fsyncPath(tmp);

    progress({ step: 'activate' });
    await rename(tmp, final);
    const pointer = join(root, 'current.tmp');
    await writeDurable(pointer, `${manifest.id}\n`);
    // The rollback check was made against `previous`: activate only over that same feed.
    const now = await readCurrent(dataDir);
    if (now !== previous) throw new VulnError(VulnCodes.FEED_BUSY, `the active feed changed during this import (${previous ?? 'none'} → ${now ?? 'none'}): another import ran`, { where: root, hint: 'nothing of this import was activated; run it again' });
    await rename(pointer, join(root, 'current'));
    fsyncPath(root);
    await prune(root, new Set([manifest.id, ...(previous !== undefined ? [previous] : [])]));
    const status = await feedStatus(dataDir);
    if (!status.active) throw new VulnError(VulnCodes.FEED_IMPORT, `the imported feed cannot be read back: ${status.reason}`, { where: root });
    progress({ step: 'done' });
    return { outcome: 'imported', status, ...(rollback ? { rollback } : {}) };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    await rm(join(root, 'current.tmp'), { force: true });
    if (e instanceof VulnError) throw e;
    throw new VulnError(VulnCodes.FEED_IMPORT, `the feed could not be written: ${(e as Error).message}`, { where: root, cause: e, hint: 'the previous feed is still active; check free space and permissions of the data directory' });
  } finally {
    release();
  }
}

/**
 * Whether activating `incoming` would roll the active feed back: built earlier, or at the same
 * instant with other content (ids differ). An active feed that cannot be read is no reference
 * (its build time is unknown), so it never blocks an import that repairs it.
 */
async function rollbackOf(dataDir: string, activeId: string, incoming: FeedManifest): Promise<Rollback | undefined> {
  let active: FeedManifest;
  try {
    // manifest.json only (the signed part): imported.json is our own note and no reason to skip the check.
    active = manifestSchema.parse(JSON.parse(await readFile(join(feedRoot(dataDir), activeId, 'manifest.json'), 'utf8')));
  } catch {
    return undefined;
  }
  const a = Date.parse(active.built_at);
  const b = Date.parse(incoming.built_at);
  if (b > a || active.id === incoming.id) return undefined;
  return { active: { id: active.id, builtAt: active.built_at }, incoming: { id: incoming.id, builtAt: incoming.built_at }, kind: b < a ? 'older' : 'same-time' };
}

function rollbackError(r: Rollback): VulnError {
  const what = r.kind === 'older'
    ? `it was built at ${r.incoming.builtAt}, before the active feed ${r.active.id} (built ${r.active.builtAt})`
    : `it was built at ${r.incoming.builtAt}, the same time as the active feed ${r.active.id}, but its content differs (${r.incoming.id})`;
  return new VulnError(VulnCodes.FEED_ROLLBACK, `feed bundle refused: rollback check failed: ${what}; an older feed hides the advisories published since`, {
    hint: 'the active feed stays active. If you really mean to go back (a bad feed was published), run again with --allow-older --reason "why"; the rollback is recorded in the audit trail',
  });
}

async function readManifest(dir: string): Promise<{ manifest: FeedManifest; imported: z.infer<typeof importedSchema> }> {
  const manifest = manifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const imported = importedSchema.parse(JSON.parse(await readFile(join(dir, 'imported.json'), 'utf8')));
  return { manifest, imported };
}

/** What feed is active in a data directory, when it was built and imported, and what it holds. */
export async function feedStatus(dataDir: string, now: Date = new Date()): Promise<FeedStatus> {
  const id = await readCurrent(dataDir);
  if (id === undefined) return { active: false, reason: 'no feed has been imported' };
  let m: Awaited<ReturnType<typeof readManifest>>;
  try {
    m = await readManifest(join(feedRoot(dataDir), id));
  } catch (e) {
    return { active: false, reason: `the active feed ${id} cannot be read: ${(e as Error).message}` };
  }
  const { manifest, imported } = m;
  return {
    active: true,
    id,
    builtAt: manifest.built_at,
    importedAt: imported.imported_at,
    ageDays: Math.floor((now.getTime() - Date.parse(manifest.built_at)) / 86_400_000),
    keyId: imported.key_id,
    sources: manifest.sources,
    files: manifest.files,
    records: manifest.files.filter((f) => f.kind === 'osv').reduce((n, f) => n + f.records, 0),
    previous: imported.previous,
    rollback: imported.rollback
      ? {
        replaced: imported.rollback.replaced, replacedBuiltAt: imported.rollback.replaced_built_at, kind: imported.rollback.kind,
        ...(imported.rollback.actor !== undefined ? { actor: imported.rollback.actor } : {}),
        ...(imported.rollback.reason !== undefined ? { reason: imported.rollback.reason } : {}),
      }
      : undefined,
  };
}

export interface LoadedFeed {
  status: Extract<FeedStatus, { active: true }>;
  osv: Map<string, OsvRecord[]>;
  kev: KevCatalog | undefined;
  /** The bundle's OS lifecycle table (eol.json), when it has one. */
  eol: LifecycleEntry[] | undefined;
  /** The bundle's Windows fixed-build table (windows-builds.json), when it has one. */
  windows: WindowsBuilds | undefined;
  index: FeedIndex;
}

/**
 * Reads the active feed and builds its matching index. Every file is checked against the
 * manifest's digest again (the data directory could have been damaged since the import).
 */
export async function loadFeed(dataDir: string): Promise<LoadedFeed> {
  const status = await feedStatus(dataDir);
  if (!status.active) throw new VulnError(VulnCodes.FEED_NONE, status.reason, { where: feedRoot(dataDir), hint: 'import a feed bundle: canhgac feed import <file>' });
  const dir = join(feedRoot(dataDir), status.id);
  const osv = new Map<string, OsvRecord[]>();
  let kev: KevCatalog | undefined;
  let eol: LifecycleEntry[] | undefined;
  let windows: WindowsBuilds | undefined;
  for (const f of status.files) {
    const data = await readFile(join(dir, f.path));
    if (sha256(data) !== f.sha256) throw new FeedError('digest', `${f.path} of the active feed ${status.id} no longer matches its manifest`, { where: join(dir, f.path) });
    const value: unknown = JSON.parse(data.toString('utf8'));
    if (f.kind === 'osv') osv.set(f.ecosystem!, parseOsvArray(value, f.path));
    else if (f.kind === 'kev') kev = parseKev(value, f.path);
    else if (f.kind === 'eol') eol = parseLifecycle(value, f.path);
    else if (f.kind === 'windows-builds') windows = parseWindowsBuilds(value, f.path);
  }
  const all: OsvRecord[] = [];
  for (const records of osv.values()) all.push(...records);
  return { status, osv, kev, eol, windows, index: buildFeedIndex(all, kev, windows) };
}
