/**
 * Operating-system lifecycle: when a release stops getting free security updates. The shipped
 * table is `rules/data/os-lifecycle.yaml`; a feed bundle's `eol.json` (same shape) overrides its
 * entries. The state rules see the result as `host.os.eol` (see `lifecycleFields`).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Fields } from '../../common/finding.js';
import { VulnCodes, VulnError } from './errors.js';
import { hostOs, majorOf, platformOf } from './host-os.js';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD').refine((s) => !Number.isNaN(Date.parse(s)), 'a real date');

export const lifecycleEntrySchema = z.object({
  platform: z.string().regex(/^[a-z0-9._-]+$/, 'an os-release ID in lower case (debian, ubuntu, rocky…)'),
  version: z.string().min(1).describe('os-release VERSION_ID; the major release for the RHEL rebuilds'),
  codename: z.string().optional(),
  released: day.optional(),
  eol: day.optional().describe('End of free security support: what the end-of-life rule uses'),
  regular_end: day.optional(),
  extended_end: day.optional(),
  source: z.string().optional(),
}).strict();

export const lifecycleFileSchema = z.object({ releases: z.array(lifecycleEntrySchema) }).strict();

export type LifecycleEntry = z.infer<typeof lifecycleEntrySchema>;

/** Validates a lifecycle document (the YAML table or a bundle's eol.json). */
export function parseLifecycle(value: unknown, where: string): LifecycleEntry[] {
  const r = lifecycleFileSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new VulnError(VulnCodes.LIFECYCLE_INVALID, `not an OS lifecycle table: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid'}`, { where });
  }
  return r.data.releases;
}

export function loadLifecycleFile(path: string): LifecycleEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new VulnError(VulnCodes.LIFECYCLE_INVALID, 'cannot read the OS lifecycle table', { where: path, cause: e });
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (e) {
    throw new VulnError(VulnCodes.LIFECYCLE_INVALID, `the OS lifecycle table is not YAML: ${(e as Error).message}`, { where: path, cause: e });
  }
  return parseLifecycle(value, path);
}

export interface LifecycleTable {
  /** The entry for a platform and VERSION_ID (exact, else the major release). */
  lookup(platform: string, version: string): (LifecycleEntry & { from: string }) | undefined;
  readonly size: number;
}

/** Later layers win: `buildLifecycle([{entries: table, from: 'rules/data/…'}, {entries: eol, from: 'feed …'}])`. */
export function buildLifecycle(layers: readonly { entries: readonly LifecycleEntry[]; from: string }[]): LifecycleTable {
  const map = new Map<string, LifecycleEntry & { from: string }>();
  for (const layer of layers) for (const e of layer.entries) map.set(`${e.platform}\u0000${e.version}`, { ...e, from: e.source ?? layer.from });
  return {
    size: map.size,
    lookup(platform, version) {
      const p = platform.toLowerCase();
      const major = majorOf(version);
      return map.get(`${p}\u0000${version}`) ?? (major === undefined ? undefined : map.get(`${p}\u0000${major}`));
    },
  };
}

/**
 * What the state rules get to know about a host's OS, added to its `host` item before they run:
 * `host.os.ecosystem`, `host.os.eol` (ISO time of the end of security support) and where that
 * date comes from. Nothing is added for fields that are unknown.
 */
export function lifecycleFields(host: Fields, table: LifecycleTable): Fields {
  const out: Fields = {};
  const os = hostOs(host);
  if (os.ecosystem !== undefined) out['host.os.ecosystem'] = os.ecosystem;
  const platform = platformOf(host);
  if (platform === undefined || os.version === undefined) return out;
  const entry = table.lookup(platform, os.version);
  if (entry?.eol === undefined) return out;
  // End of the last supported day, UTC.
  out['host.os.eol'] = `${entry.eol}T23:59:59.999Z`;
  out['host.os.eol_source'] = entry.from;
  if (entry.codename !== undefined) out['host.os.codename'] = entry.codename;
  return out;
}
