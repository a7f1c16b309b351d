/**
 * Renames: a deletion and a creation found together (one rescan, or paths that became quiet
 * together in real time) are one `renamed` event when they are the same file — the same inode on
 * the same device with the same modification time (what `mv` keeps), or else the same non-empty
 * content (a copy and a delete, across file systems). Pure.
 */
import { extname, basename } from 'node:path';
import { diffEntries, type Change, type Entry } from './entry.js';
import type { FimEvent } from './event-fields.js';

const inodeKey = (e: Entry): string => `${e.type}:${e.dev}:${e.ino}:${e.mtimeNs}`;
const contentKey = (e: Entry): string | undefined => (e.type === 'file' && e.sha256 !== undefined && e.size > 0 ? e.sha256 : undefined);

/** Keys that appear exactly once on each side. */
function unique<T>(items: T[], key: (t: T) => string | undefined): Map<string, T> {
  const seen = new Map<string, T | null>();
  for (const t of items) {
    const k = key(t);
    if (k === undefined) continue;
    seen.set(k, seen.has(k) ? null : t);
  }
  const out = new Map<string, T>();
  for (const [k, v] of seen) if (v !== null) out.set(k, v);
  return out;
}

function renamedEvent(from: FimEvent, to: FimEvent): FimEvent {
  const before = from.before!;
  const after = to.after!;
  const changes: Change[] = ['name'];
  if (extname(basename(from.path)).toLowerCase() !== extname(basename(to.path)).toLowerCase()) changes.push('extension');
  const d = diffEntries(before, after);
  if (d) changes.push(...d.changes);
  return { path: to.path, action: 'renamed', before, after, changes, fromPath: from.path };
}

/**
 * Replaces pairs of deleted + created events that are one file moved by `renamed` events. Other
 * events pass through unchanged, in their order.
 */
export function pairRenames(events: readonly FimEvent[]): FimEvent[] {
  const deleted = events.filter((e) => e.action === 'deleted' && e.before);
  const created = events.filter((e) => e.action === 'created' && e.after);
  if (deleted.length === 0 || created.length === 0) return [...events];
  const pairs = new Map<FimEvent, FimEvent>(); // created → deleted
  const used = new Set<FimEvent>();
  for (const key of [(e: Entry) => inodeKey(e), contentKey]) {
    const gone = unique(deleted.filter((e) => !used.has(e)), (e) => key(e.before!));
    const came = unique(created.filter((e) => !pairs.has(e)), (e) => key(e.after!));
    for (const [k, c] of came) {
      const d = gone.get(k);
      if (!d || d.before!.type !== c.after!.type) continue;
      pairs.set(c, d);
      used.add(d);
    }
  }
  if (pairs.size === 0) return [...events];
  const out: FimEvent[] = [];
  for (const e of events) {
    if (used.has(e)) continue;
    const from = pairs.get(e);
    out.push(from ? renamedEvent(from, e) : e);
  }
  return out;
}
