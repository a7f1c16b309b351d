/** What the FIM baseline remembers about one path, and how two memories differ. Pure. */
import type { FileFacts } from '../../host/files.js';

export type TrackedType = 'file' | 'dir' | 'symlink';

/** A file's facts as agent/host reads them (a tracked type only), plus its hash for regular files. */
export interface Entry extends Omit<FileFacts, 'type'> {
  type: TrackedType;
  /** Regular files no larger than max_hash_bytes. */
  sha256?: string;
}

export type Action = 'created' | 'modified' | 'deleted' | 'attributes_changed' | 'renamed';
/** `name`/`extension` only for renames. */
export type Change = 'content' | 'size' | 'mode' | 'owner' | 'setuid_added' | 'setgid_added' | 'executable_added' | 'type' | 'name' | 'extension';

export interface Difference {
  action: 'modified' | 'attributes_changed';
  changes: Change[];
}

export const SETUID = 0o4000;
export const SETGID = 0o2000;

/** Metadata unchanged: the content is taken to be unchanged too, and the old hash is reused. */
export function sameStat(a: Entry, b: Pick<Entry, 'size' | 'mtimeNs' | 'ctimeNs' | 'ino' | 'dev'> & { type: string }): boolean {
  return a.type === b.type && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

/**
 * What changed between two observations of one path, or undefined when nothing that matters did.
 * Timestamps and inode numbers alone do not matter (a `touch`, a package reinstall of identical
 * content); a directory's own content is its entries, which are reported one by one.
 */
export function diffEntries(before: Entry, after: Entry): Difference | undefined {
  if (before.type !== after.type) return { action: 'modified', changes: ['type'] };
  const changes: Change[] = [];
  if (after.type === 'file') {
    const hashed = before.sha256 !== undefined && after.sha256 !== undefined;
    const content = hashed ? before.sha256 !== after.sha256 : before.size !== after.size || before.mtimeNs !== after.mtimeNs;
    if (content) changes.push('content');
    if (before.size !== after.size) changes.push('size');
  } else if (after.type === 'symlink' && before.target !== after.target) {
    changes.push('content');
  }
  if (before.mode !== after.mode) changes.push('mode');
  if (!(before.mode & SETUID) && after.mode & SETUID) changes.push('setuid_added');
  if (!(before.mode & SETGID) && after.mode & SETGID) changes.push('setgid_added');
  if (after.type === 'file' && !(before.mode & 0o111) && after.mode & 0o111) changes.push('executable_added');
  if (before.uid !== after.uid || before.gid !== after.gid) changes.push('owner');
  if (changes.length === 0) return undefined;
  const modified = changes.includes('content') || changes.includes('size');
  return { action: modified ? 'modified' : 'attributes_changed', changes };
}
