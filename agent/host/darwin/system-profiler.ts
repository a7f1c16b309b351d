/**
 * Parser for the macOS application inventory: the output of
 * `system_profiler -nospawn -xml SPApplicationsDataType -detailLevel full` (text in, applications
 * out, no I/O). XML rather than `-json`: every macOS version has it (`-json` came with 10.15), and
 * the keys are not localised (application names are: "Aperçu" for Preview on a French Mac).
 */
import { parsePlist, type PlistValue } from './plist.js';

export const SYSTEM_PROFILER_APPS_ARGS = ['-nospawn', '-xml', 'SPApplicationsDataType', '-detailLevel', 'full'] as const;

export interface MacApp {
  /** Display name (localised by macOS). */
  name: string;
  /** CFBundleShortVersionString as system_profiler reports it; absent for some bundles. */
  version?: string;
  path: string;
  /** apple, mac_app_store, identified_developer, unknown. */
  obtainedFrom?: string;
  /** Developer ID team name ("Microsoft Corporation") or "Apple" for Apple-signed bundles. */
  vendor?: string;
  /** arch_arm_i64, arch_i64, arch_i32, arch_other… */
  archKind?: string;
  lastModified?: string;
}

const str = (v: PlistValue | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** "Developer ID Application: Microsoft Corporation (UBF8T346G9)" → "Microsoft Corporation". */
export function vendorOf(signedBy: readonly string[], obtainedFrom: string | undefined): string | undefined {
  const dev = signedBy.map((s) => /^Developer ID Application: (.+?)(?: \([A-Z0-9]{10}\))?$/.exec(s)?.[1]).find((x) => x !== undefined);
  if (dev !== undefined) return dev;
  if (obtainedFrom === 'apple' || obtainedFrom === 'mac_app_store') return obtainedFrom === 'apple' ? 'Apple' : undefined;
  return undefined;
}

export interface MacAppsParse {
  apps: MacApp[];
  /** Items without a name or path (counted, never guessed at). */
  malformed: number;
}

export function parseSystemProfilerApps(xml: string): MacAppsParse {
  const root = parsePlist(xml);
  const reports = Array.isArray(root) ? root : [root];
  const apps: MacApp[] = [];
  let malformed = 0;
  for (const report of reports) {
    if (typeof report !== 'object' || report === null || Array.isArray(report) || report instanceof Date) continue;
    if (report._dataType !== 'SPApplicationsDataType') continue;
    const items = report._items;
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      if (typeof item !== 'object' || item === null || Array.isArray(item) || item instanceof Date) { malformed++; continue; }
      const name = str(item._name);
      const path = str(item.path);
      if (name === undefined || path === undefined) { malformed++; continue; }
      const signedBy = Array.isArray(item.signed_by) ? item.signed_by.filter((s): s is string => typeof s === 'string') : [];
      const app: MacApp = { name, path };
      const version = str(item.version);
      if (version !== undefined) app.version = version;
      const from = str(item.obtained_from);
      if (from !== undefined) app.obtainedFrom = from;
      const vendor = vendorOf(signedBy, from);
      if (vendor !== undefined) app.vendor = vendor;
      const arch = str(item.arch_kind);
      if (arch !== undefined) app.archKind = arch;
      if (item.lastModified instanceof Date) app.lastModified = item.lastModified.toISOString();
      apps.push(app);
    }
  }
  return { apps, malformed };
}
