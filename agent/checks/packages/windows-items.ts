/**
 * Parsed Windows programs (Uninstall keys), hotfixes (Get-HotFix) and KBs installed through the
 * Windows Update Agent (its history) → `package` state items. Pure.
 */
import type { Fields } from '../../../common/finding.js';
import type { Observation } from '../check.js';
import type { WindowsHotfix } from '../../host/windows/hotfix.js';
import type { WindowsProgram } from '../../host/windows/uninstall-keys.js';
import type { InstalledUpdate } from '../../host/windows/update-history.js';
import type { PendingUpdate } from '../../host/windows/pending-updates.js';

/** Where a hotfix item was seen: `package.reported_by`. */
export type HotfixSource = 'get-hotfix' | 'wu-history';

/** `20230415` → `2023-04-15`, or undefined for anything that is not a real yyyyMMdd date. */
export function installDate(yyyymmdd: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(yyyymmdd);
  if (!m) return undefined;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(iso) ? iso : undefined;
}

export function programFields(p: WindowsProgram): Fields {
  const f: Fields = { 'package.name': p.name, 'package.type': 'program' };
  if (p.version !== undefined) f['package.version'] = p.version;
  if (p.publisher !== undefined) f['package.vendor'] = p.publisher;
  const installed = p.installDate === undefined ? undefined : installDate(p.installDate);
  if (installed !== undefined) f['package.installed'] = installed;
  if (p.estimatedSizeKiB !== undefined && p.estimatedSizeKiB >= 0) f['package.size'] = p.estimatedSizeKiB * 1024;
  return f;
}

export function hotfixFields(h: WindowsHotfix): Fields {
  const f: Fields = { 'package.name': h.id, 'package.type': 'hotfix', 'package.reported_by': ['get-hotfix'] };
  if (h.description !== undefined) f['package.description'] = h.description;
  if (h.installedOn !== undefined) f['package.installed'] = h.installedOn.toISOString();
  return f;
}

/**
 * A KB from the Windows Update history, merged into the Get-HotFix item of the same KB when there is
 * one: `package.reported_by` gets `wu-history`; Get-HotFix's description and date are kept, the
 * history fills in what it lacks (InstalledOn is often missing). Alone, its description is the
 * update's title (localised by Windows).
 */
export function mergeInstalledUpdate(existing: Fields | undefined, u: InstalledUpdate): Fields {
  const f: Fields = existing ? { ...existing } : { 'package.name': u.id, 'package.type': 'hotfix' };
  const sources = Array.isArray(f['package.reported_by']) ? (f['package.reported_by'] as string[]) : [];
  f['package.reported_by'] = [...new Set([...sources, 'wu-history'])];
  if (f['package.description'] === undefined && u.title !== undefined) f['package.description'] = u.title;
  if (f['package.installed'] === undefined && u.installedOn !== undefined) f['package.installed'] = u.installedOn.toISOString();
  if (u.supportUrl !== undefined) f['package.reference'] = u.supportUrl;
  return f;
}

/**
 * State keys: `program:<name>:<version>` (one program is often listed under both the 64-bit and the
 * WOW6432Node key, or once per user: reported once) and `hotfix:<KB>` (one item per KB, whichever
 * of Get-HotFix and the Windows Update history listed it).
 */
export function windowsItems(programs: readonly WindowsProgram[], hotfixes: readonly WindowsHotfix[], updates: readonly InstalledUpdate[] = []): Observation[] {
  const byKey = new Map<string, Observation>();
  for (const p of programs) {
    const stateKey = `program:${p.name}:${p.version ?? ''}`;
    if (!byKey.has(stateKey)) byKey.set(stateKey, { kind: 'package', stateKey, fields: programFields(p) });
  }
  for (const h of hotfixes) {
    const stateKey = `hotfix:${h.id}`;
    if (!byKey.has(stateKey)) byKey.set(stateKey, { kind: 'package', stateKey, fields: hotfixFields(h) });
  }
  for (const u of updates) {
    const stateKey = `hotfix:${u.id}`;
    byKey.set(stateKey, { kind: 'package', stateKey, fields: mergeInstalledUpdate(byKey.get(stateKey)?.fields, u) });
  }
  return [...byKey.values()];
}

/**
 * Updates the Windows Update Agent offers and the host has not installed → `update` state items,
 * state key `update:<UpdateID>` (the KB when there is no id; one KB may have several packages).
 */
export function pendingUpdateItems(updates: readonly PendingUpdate[]): Observation[] {
  const byKey = new Map<string, Observation>();
  for (const u of updates) {
    const id = u.updateId ?? u.kbs[0] ?? u.title ?? '';
    const f: Fields = { 'package.name': u.kbs[0] ?? u.title ?? id, 'package.type': 'hotfix', 'update.security': u.security };
    if (u.title !== undefined) f['package.description'] = u.title;
    if (u.kbs.length > 1) f['update.kbs'] = [...u.kbs];
    if (u.severity !== undefined) f['update.severity'] = u.severity;
    if (u.cves.length > 0) f['update.cves'] = [...u.cves];
    if (u.updateId !== undefined) f['update.id'] = u.updateId;
    if (u.rebootRequired !== undefined) f['update.reboot_required'] = u.rebootRequired;
    const stateKey = `update:${id}`;
    if (!byKey.has(stateKey)) byKey.set(stateKey, { kind: 'update', stateKey, fields: f });
  }
  return [...byKey.values()];
}
