/**
 * Change storms: more than `threshold` changes under one path prefix (`/var/lib/x`) within
 * `windowMs` are not reported one by one. The first `threshold` are; the rest are counted into one
 * summary per window ("1,240 changes under /var/lib/x in 60 s"), so nothing is dropped silently and
 * nothing floods. Pure: the caller gives the clock and decides when to close windows.
 */
import { sep } from 'node:path';
import type { Action } from './entry.js';
import type { FimEvent } from './event-fields.js';

export interface StormOptions {
  threshold: number;
  windowMs: number;
  /** Leading path components that make a prefix (3: /var/lib/x). */
  depth: number;
}

export interface StormSummary {
  prefix: string;
  /** Changes counted into it (not reported one by one). */
  count: number;
  /** Changes under the prefix reported one by one in the window before the storm began. */
  reported: number;
  byAction: Partial<Record<Action, number>>;
  /** How many of them were expected (package manager, maintenance). */
  expected: number;
  /** A few of the paths, the first ones seen. */
  sample: string[];
  /** When the first counted change came, and how long the summary covers (ms). */
  startedAt: number;
  spanMs: number;
  /** The events it stands for, for the caller to take into its baseline once the summary is out. */
  events: FimEvent[];
}

const SAMPLE = 10;

/** `/var/lib/x/y/z` → `/var/lib/x` (depth 3); Windows paths keep their drive: `C:\Users\a`. */
export function prefixOf(path: string, depth: number): string {
  const parts = path.split(sep);
  const lead = parts[0] === '' ? 1 : 0; // POSIX paths start with an empty part
  const kept = parts.slice(0, lead + depth + (lead === 0 ? 1 : 0));
  if (kept.length >= parts.length) return parts.slice(0, -1).join(sep) || sep;
  return kept.join(sep) || sep;
}

interface Window {
  /**
   * Times of the latest changes under the prefix (at most `threshold` of them): when the oldest is
   * still inside the window, there were `threshold` changes in it, and the prefix is storming.
   */
  times: number[];
  open?: Omit<StormSummary, 'spanMs'>;
}

export interface StormLimiter {
  /** Splits events into those to report now and those counted into a storm. */
  admit(events: readonly FimEvent[], now: number): FimEvent[];
  /** Summaries whose window has ended by `now` (all of them with `force`). */
  close(now: number, force?: boolean): StormSummary[];
  /** When the next open summary's window ends, if any. */
  nextClose(): number | undefined;
  /** Events counted into summaries not closed yet (the caller must not lose them). */
  held(): FimEvent[];
}

export function createStormLimiter(o: StormOptions): StormLimiter {
  const windows = new Map<string, Window>();

  const prune = (w: Window, now: number): void => {
    let i = 0;
    while (i < w.times.length && w.times[i]! <= now - o.windowMs) i++;
    if (i > 0) w.times.splice(0, i);
  };

  return {
    admit(events, now) {
      const out: FimEvent[] = [];
      for (const ev of events) {
        const prefix = prefixOf(ev.path, o.depth);
        let w = windows.get(prefix);
        if (!w) {
          w = { times: [] };
          windows.set(prefix, w);
        }
        prune(w, now);
        const inWindow = w.times.length;
        const storming = w.open !== undefined || inWindow >= o.threshold;
        w.times.push(now);
        if (w.times.length > o.threshold) w.times.shift();
        if (!storming) {
          out.push(ev);
          continue;
        }
        const s = w.open ?? (w.open = { prefix, count: 0, reported: inWindow, byAction: {}, expected: 0, sample: [], startedAt: now, events: [] });
        s.count++;
        s.byAction[ev.action] = (s.byAction[ev.action] ?? 0) + 1;
        if (ev.expected) s.expected++;
        if (s.sample.length < SAMPLE) s.sample.push(ev.path);
        s.events.push(ev);
      }
      return out;
    },

    close(now, force = false) {
      const out: StormSummary[] = [];
      for (const [prefix, w] of windows) {
        prune(w, now);
        if (w.open && (force || now >= w.open.startedAt + o.windowMs)) {
          out.push({ ...w.open, spanMs: Math.max(0, Math.min(o.windowMs, now - w.open.startedAt)) });
          // If it goes on (the latest changes still fill the window), the next one opens at once.
          w.open = undefined;
        }
        if (!w.open && w.times.length === 0) windows.delete(prefix);
      }
      return out;
    },

    nextClose() {
      let next: number | undefined;
      for (const w of windows.values()) if (w.open && (next === undefined || w.open.startedAt + o.windowMs < next)) next = w.open.startedAt + o.windowMs;
      return next;
    },

    held() {
      return [...windows.values()].flatMap((w) => w.open?.events ?? []);
    },
  };
}

/** "1,240 changes under /var/lib/x in 60 s" (real time) or "… found by a rescan". */
export function stormMessage(s: Pick<StormSummary, 'count' | 'reported' | 'prefix' | 'spanMs'>, rescan: boolean): string {
  const total = (s.count + s.reported).toLocaleString('en-US');
  const when = rescan ? 'found by a rescan' : `in ${Math.max(1, Math.round(s.spanMs / 1000))} s`;
  return `${total} changes under ${s.prefix} ${when} (${s.reported.toLocaleString('en-US')} reported one by one, ${s.count.toLocaleString('en-US')} counted here)`;
}
