/** FIM events as ECS fields. Pure. */
import { basename, dirname, extname } from 'node:path';
import type { Fields } from '../../../common/finding.js';
import type { Accounts } from '../../host/accounts.js';
import { SETGID, SETUID, type Action, type Change, type Entry } from './entry.js';
import { stormMessage, type StormSummary } from './storm.js';

export type Source = 'rescan' | 'realtime';

const EVENT_TYPE: Record<Action, string> = {
  created: 'creation', modified: 'change', attributes_changed: 'change', deleted: 'deletion', renamed: 'change',
};

/** "0755", "4755": the permission bits as four octal digits. */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** ISO-8601 (millisecond precision) from nanoseconds since the epoch. */
export function nsToIso(ns: string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
}

/** `executable` (a regular file with any x bit), `setuid`, `setgid`. */
export function attributesOf(e: Entry): string[] {
  const out: string[] = [];
  if (e.type === 'file' && e.mode & 0o111) out.push('executable');
  if (e.mode & SETUID) out.push('setuid');
  if (e.mode & SETGID) out.push('setgid');
  return out;
}

function pathFields(path: string, type: Entry['type']): Fields {
  const f: Fields = {
    'file.path': path,
    'file.name': basename(path),
    'file.directory': dirname(path),
    'file.type': type,
  };
  const ext = extname(basename(path));
  if (type === 'file' && ext.length > 1) f['file.extension'] = ext.slice(1).toLowerCase();
  return f;
}

function currentFields(e: Entry, accounts: Accounts): Fields {
  const f: Fields = {
    'file.mode': octalMode(e.mode),
    'file.uid': String(e.uid),
    'file.gid': String(e.gid),
    'file.inode': e.ino,
    'file.mtime': nsToIso(e.mtimeNs),
    'file.ctime': nsToIso(e.ctimeNs),
  };
  if (e.type !== 'dir') f['file.size'] = e.size;
  const owner = accounts.userName(e.uid);
  const group = accounts.groupName(e.gid);
  if (owner) f['file.owner'] = owner;
  if (group) f['file.group'] = group;
  if (e.sha256) f['file.hash.sha256'] = e.sha256;
  if (e.target !== undefined) f['file.target_path'] = e.target;
  const attrs = attributesOf(e);
  if (attrs.length) f['file.attributes'] = attrs;
  return f;
}

function beforeFields(e: Entry): Fields {
  const f: Fields = {
    'file.before.mode': octalMode(e.mode),
    'file.before.uid': String(e.uid),
    'file.before.gid': String(e.gid),
    'file.before.mtime': nsToIso(e.mtimeNs),
  };
  if (e.type !== 'dir') f['file.before.size'] = e.size;
  if (e.sha256) f['file.before.hash.sha256'] = e.sha256;
  if (e.type !== 'dir' && e.target !== undefined) f['file.before.target_path'] = e.target;
  return f;
}

/** Why a change is expected: a package-manager transaction or a maintenance window. */
export interface Expected {
  reason: 'package' | 'maintenance';
  package?: string;
  packageVersion?: string;
  maintenance?: string;
}

export interface FimEvent {
  path: string;
  action: Action;
  before?: Entry;
  after?: Entry;
  changes?: Change[];
  /** renamed: where it was. */
  fromPath?: string;
  expected?: Expected;
  /** The package that owns the path, when known (also for changes it does not explain). */
  owner?: { name: string; version?: string };
}

export function eventFields(ev: FimEvent, source: Source, accounts: Accounts): Fields {
  const shown = ev.after ?? ev.before;
  if (!shown) throw new Error('a FIM event needs a before or an after');
  const f: Fields = {
    ...pathFields(ev.path, shown.type),
    'event.action': ev.action,
    'event.category': 'file',
    'event.type': EVENT_TYPE[ev.action],
    'fim.source': source,
  };
  if (ev.after) Object.assign(f, currentFields(ev.after, accounts));
  if (ev.before && ev.action !== 'created') Object.assign(f, beforeFields(ev.before));
  if (ev.changes?.length) f['fim.changes'] = ev.changes;
  if (ev.fromPath !== undefined) {
    f['file.before.path'] = ev.fromPath;
    f['file.before.name'] = basename(ev.fromPath);
    const ext = extname(basename(ev.fromPath));
    if (shown.type === 'file' && ext.length > 1) f['file.before.extension'] = ext.slice(1).toLowerCase();
  }
  f['fim.expected'] = ev.expected !== undefined;
  if (ev.expected) {
    f['fim.expected_reason'] = ev.expected.reason;
    if (ev.expected.maintenance !== undefined) f['fim.maintenance'] = ev.expected.maintenance;
  }
  const pkg = ev.expected?.package !== undefined ? { name: ev.expected.package, version: ev.expected.packageVersion } : ev.owner;
  if (pkg) {
    f['fim.package'] = pkg.name;
    if (pkg.version !== undefined) f['fim.package_version'] = pkg.version;
  }
  return f;
}

/** A change storm as one event: the prefix, the counts and a few of the paths. */
export function stormFields(s: StormSummary, source: Source, windowMs: number): Fields {
  const f: Fields = {
    'file.path': s.prefix,
    'file.name': basename(s.prefix) || s.prefix,
    'file.directory': dirname(s.prefix),
    'file.type': 'dir',
    'event.action': 'change_storm',
    'event.category': 'file',
    'event.type': 'change',
    'fim.source': source,
    'fim.storm.count': s.count,
    'fim.storm.reported': s.reported,
    'fim.storm.window_s': Math.round(windowMs / 1000),
    'fim.storm.expected': s.expected,
    'fim.storm.sample': s.sample,
    'fim.expected': s.expected === s.count,
    message: stormMessage(s, source === 'rescan'),
  };
  for (const [action, n] of Object.entries(s.byAction)) f[`fim.storm.${action}`] = n;
  return f;
}
