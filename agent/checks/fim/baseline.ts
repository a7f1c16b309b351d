/**
 * The FIM baseline on disk: `<stateDir>/fim-baseline.json`, replaced atomically (temp + fsync +
 * rename). It remembers the scope it was taken with, so a configuration change adds or drops paths
 * silently instead of reporting them as created or deleted.
 */
import { join } from 'node:path';
import { AgentCodes, AgentError } from '../../errors.js';
import { readSystemFile, writeFileDurable } from '../../host/fs.js';
import type { Entry, TrackedType } from './entry.js';
import { EntryStore } from './entry-store.js';
import type { Scope } from './scope.js';

export const BASELINE_FILE = 'fim-baseline.json';
const FORMAT = 'canhgac-fim-baseline';
const VERSION = 1;

export interface Baseline {
  scope: Scope;
  createdAt: string;
  entries: EntryStore;
}

/** [type, size, mode, uid, gid, mtimeNs, ctimeNs, ino, dev, sha256|null, target|null] */
type Row = [TrackedType, number, number, number, number, string, string, string, string, string | null, string | null];

const TYPES = new Set(['file', 'dir', 'symlink']);

function toRow(e: Entry): Row {
  return [e.type, e.size, e.mode, e.uid, e.gid, e.mtimeNs, e.ctimeNs, e.ino, e.dev, e.sha256 ?? null, e.target ?? null];
}

function fromRow(row: unknown): Entry | undefined {
  if (!Array.isArray(row) || row.length !== 11) return undefined;
  const [type, size, mode, uid, gid, mtimeNs, ctimeNs, ino, dev, sha256, target] = row as unknown[];
  if (typeof type !== 'string' || !TYPES.has(type)) return undefined;
  if (![size, mode, uid, gid].every((n) => typeof n === 'number' && Number.isInteger(n))) return undefined;
  if (![mtimeNs, ctimeNs, ino, dev].every((s) => typeof s === 'string' && /^\d+$/.test(s))) return undefined;
  if (sha256 !== null && !(typeof sha256 === 'string' && /^[0-9a-f]{64}$/.test(sha256))) return undefined;
  if (target !== null && typeof target !== 'string') return undefined;
  const e: Entry = {
    type: type as TrackedType, size: size as number, mode: mode as number, uid: uid as number, gid: gid as number,
    mtimeNs: mtimeNs as string, ctimeNs: ctimeNs as string, ino: ino as string, dev: dev as string,
  };
  if (sha256 !== null) e.sha256 = sha256 as string;
  if (target !== null) e.target = target as string;
  return e;
}

/** The baseline file as JSON text in chunks of 250 entries (never one big string). */
export function* baselineChunks(b: Baseline): Generator<string> {
  const head = JSON.stringify({
    format: FORMAT,
    version: VERSION,
    created_at: b.createdAt,
    saved_at: new Date().toISOString(),
    scope: { roots: b.scope.roots, exclude: b.scope.exclude, ...(b.scope.include?.length ? { include: b.scope.include } : {}) },
  });
  yield `${head.slice(0, -1)},"entries":{`;
  // In the store's order, 250 entries a chunk: no array of every path is ever built.
  let part: string[] = [];
  let first = true;
  for (const [p, e] of b.entries) {
    part.push(`${JSON.stringify(p)}:${JSON.stringify(toRow(e))}`);
    if (part.length === 250) {
      yield (first ? '' : ',') + part.join(',');
      first = false;
      part = [];
    }
  }
  if (part.length > 0) yield (first ? '' : ',') + part.join(',');
  yield '}}';
}

export function serialiseBaseline(b: Baseline): string {
  return [...baselineChunks(b)].join('');
}

function corrupt(file: string, why: string, cause?: unknown): AgentError {
  return new AgentError(AgentCodes.FIM_BASELINE_CORRUPT, `FIM baseline ${file} is unreadable: ${why}`, {
    where: file,
    ...(cause === undefined ? {} : { cause }),
    hint: 'the check starts a new baseline; changes made since the old one was written are not reported',
  });
}

export function parseBaseline(text: string, file: string): Baseline {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw corrupt(file, 'not JSON', e);
  }
  const d = doc as { format?: unknown; version?: unknown; created_at?: unknown; scope?: { roots?: unknown; exclude?: unknown; include?: unknown }; entries?: unknown };
  if (d?.format !== FORMAT || d.version !== VERSION) throw corrupt(file, 'unknown format or version');
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (!d.scope || !strings(d.scope.roots) || !strings(d.scope.exclude)) throw corrupt(file, 'no scope');
  if (d.scope.include !== undefined && !strings(d.scope.include)) throw corrupt(file, 'bad include patterns');
  if (typeof d.entries !== 'object' || d.entries === null) throw corrupt(file, 'no entries');
  const entries = new EntryStore();
  for (const [path, row] of Object.entries(d.entries as Record<string, unknown>)) {
    const e = fromRow(row);
    if (!e) throw corrupt(file, `bad entry for ${path}`);
    entries.set(path, e);
  }
  const scope: Scope = { roots: d.scope.roots, exclude: d.scope.exclude };
  if (d.scope.include !== undefined && d.scope.include.length > 0) scope.include = d.scope.include;
  return {
    scope,
    createdAt: typeof d.created_at === 'string' ? d.created_at : new Date(0).toISOString(),
    entries,
  };
}

export async function loadBaseline(stateDir: string): Promise<Baseline | undefined> {
  const file = join(stateDir, BASELINE_FILE);
  const text = await readSystemFile(file, 512 * 1024 * 1024);
  return text === undefined ? undefined : parseBaseline(text, file);
}

export async function saveBaseline(stateDir: string, b: Baseline): Promise<void> {
  await writeFileDurable(join(stateDir, BASELINE_FILE), baselineChunks(b));
}
