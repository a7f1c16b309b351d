/**
 * Reading the downloads a feed is built from: OSV dumps (`all.zip`, a folder of record
 * files, or one JSON file holding a record or an array of them) and the KEV catalogue.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readZip } from './zip.js';

export interface LoadedInput {
  /** Parsed JSON values, one per OSV record found. */
  values: Array<{ value: unknown; where: string }>;
  /** SHA-256 of what was read: the file, or for a folder the sorted list of "name digest" lines. */
  sha256: string;
  /** Modification time of the file or folder. */
  mtime: Date;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function parse(data: Buffer, where: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
}

function pushRecords(out: LoadedInput['values'], value: unknown, where: string): void {
  if (Array.isArray(value)) value.forEach((v, i) => out.push({ value: v, where: `${where}[${i}]` }));
  else out.push({ value, where });
}

function walk(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files.push(...walk(p));
    else if (name.endsWith('.json')) files.push(p);
  }
  return files;
}

/** OSV records from an `all.zip`, a folder of `*.json`, or one `.json` file. */
export function loadOsvInput(path: string): LoadedInput {
  const st = statSync(path);
  const values: LoadedInput['values'] = [];
  if (st.isDirectory()) {
    const lines: string[] = [];
    for (const file of walk(path)) {
      const data = readFileSync(file);
      const name = relative(path, file);
      lines.push(`${name} ${sha256(data)}\n`);
      pushRecords(values, parse(data, name), name);
    }
    return { values, sha256: sha256(lines.join('')), mtime: st.mtime };
  }
  const data = readFileSync(path);
  if (path.endsWith('.zip')) {
    for (const entry of readZip(data)) {
      if (entry.name.endsWith('.json')) pushRecords(values, parse(entry.data, entry.name), entry.name);
    }
  } else {
    pushRecords(values, parse(data, path), path);
  }
  return { values, sha256: sha256(data), mtime: st.mtime };
}

/** A JSON file (KEV catalogue, Windows builds, end-of-life table) with its digest. */
export function loadJsonInput(path: string): { value: unknown; sha256: string; mtime: Date } {
  const data = readFileSync(path);
  return { value: parse(data, path), sha256: sha256(data), mtime: statSync(path).mtime };
}
