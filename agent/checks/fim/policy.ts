/**
 * The operator's say over FIM events: ignore rules (changes never reported) and maintenance windows
 * (changes marked expected). Pure; times are the host's local time.
 */
import picomatch from 'picomatch';
import { sep } from 'node:path';
import { WEEKDAYS, type IgnoreRule, type MaintenanceWindow } from './config.js';
import type { FimEvent } from './event-fields.js';

const slashed = (p: string): string => (sep === '\\' ? p.replaceAll('\\', '/') : p);

/** When a change happened: the inode change time of what is there now, else `fallbackMs`. */
export function changeTimeMs(ev: FimEvent, fallbackMs: number): number {
  const ns = ev.after?.ctimeNs;
  return ns === undefined ? fallbackMs : Number(BigInt(ns) / 1_000_000n);
}

export function ignoreFilter(rules: readonly IgnoreRule[]): (ev: FimEvent) => boolean {
  if (rules.length === 0) return () => false;
  const compiled = rules.map((r) => ({ match: picomatch(r.path, { dot: true }), actions: new Set<string>(r.actions) }));
  return (ev) => compiled.some((r) => r.actions.has(ev.action) && (r.match(slashed(ev.path)) || (ev.fromPath !== undefined && r.match(slashed(ev.fromPath)))));
}

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
/** Date.getDay() (0 = Sunday) → mon…sun. */
const DAY_OF = (d: Date): (typeof WEEKDAYS)[number] => WEEKDAYS[(d.getDay() + 6) % 7]!;

/** Whether local time `t` is inside the window (a window that ends before it starts runs past midnight). */
export function inWindow(w: Pick<MaintenanceWindow, 'days' | 'start' | 'end'>, t: Date): boolean {
  const start = minutes(w.start);
  const end = minutes(w.end);
  const now = t.getHours() * 60 + t.getMinutes();
  const days = new Set<string>(w.days);
  if (start <= end) return days.has(DAY_OF(t)) && now >= start && now < end;
  // Overnight: after start on an open day, or before end on the day after one.
  if (now >= start) return days.has(DAY_OF(t));
  const yesterday = new Date(t.getTime() - 86_400_000);
  return now < end && days.has(DAY_OF(yesterday));
}

/** The maintenance window (its name) a change falls in, if any. */
export function maintenanceMatcher(windows: readonly MaintenanceWindow[]): (ev: FimEvent, atMs: number) => string | undefined {
  if (windows.length === 0) return () => undefined;
  const compiled = windows.map((w) => ({ w, paths: w.paths.length ? picomatch(w.paths, { dot: true }) : () => true }));
  return (ev, atMs) => {
    const t = new Date(atMs);
    for (const { w, paths } of compiled) if (paths(slashed(ev.path)) && inWindow(w, t)) return w.name;
    return undefined;
  };
}
