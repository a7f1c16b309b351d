/**
 * Parser for `Get-HotFix | ConvertTo-Json` (Win32_QuickFixEngineering), also after
 * `Select-Object HotFixId, Description, InstalledOn, InstalledBy, …`. Text in, hotfixes out, no I/O.
 *
 * The id property is `HotFixID` from Get-HotFix and `HotFixId` after Select-Object: matched without
 * case. InstalledOn is, from the agent's query, WMI's own string: `M/d/yyyy` (a calendar day, read as
 * UTC midnight of that day) or, before Windows 7, 16 hex digits (a FILETIME). Get-HotFix's own
 * InstalledOn property is not used by the query: it parses that string with the host's culture (on a
 * d/M/yyyy culture such as vi-VN it fails, an error under 'Stop', or swaps day and month) and makes it
 * local midnight, the day before in UTC east of Greenwich. A `/Date(ms)/` string or PowerShell's
 * `{ value, DateTime }` wrapper (other scripts' output; the DateTime text is localised and ignored) is
 * read too. It is often missing. Get-HotFix lists only component-based servicing updates: it is not
 * the whole update history (update-history.ts reads that).
 */
import { psDate, psGet, psRows, psString } from './powershell-json.js';

export interface WindowsHotfix {
  /** `KB4470788`, upper-cased. */
  id: string;
  description?: string;
  installedBy?: string;
  installedOn?: Date;
}

export interface HotfixParse { hotfixes: WindowsHotfix[]; malformed: number }

/** A calendar day as UTC midnight, undefined when it does not exist. */
function calendarDay(year: number, month: number, day: number): Date | undefined {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? d : undefined;
}

/** Milliseconds between 1601-01-01 (FILETIME's epoch) and 1970-01-01. */
const FILETIME_EPOCH_MS = 11_644_473_600_000n;

/** Win32_QuickFixEngineering.InstalledOn in any form it reaches the parser (see the header). */
export function hotfixInstalledOn(value: unknown): Date | undefined {
  const s = psString(value);
  if (s !== undefined) {
    const mdy = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
    if (mdy) {
      const [a, b] = [Number(mdy[1]), Number(mdy[2])];
      // WMI writes month first; a first number above 12 can only be a day.
      return a > 12 ? calendarDay(Number(mdy[3]), b, a) : calendarDay(Number(mdy[3]), a, b);
    }
    if (/^[0-9a-f]{16}$/i.test(s)) {
      const d = new Date(Number(BigInt(`0x${s}`) / 10_000n - FILETIME_EPOCH_MS));
      return Number.isNaN(d.getTime()) ? undefined : d;
    }
  }
  return psDate(value);
}

export function parseHotfixes(text: string): HotfixParse {
  const hotfixes: WindowsHotfix[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const id = psString(psGet(row, 'HotFixID'));
    if (id === undefined) { malformed++; continue; }
    const h: WindowsHotfix = { id: id.toUpperCase() };
    const description = psString(psGet(row, 'Description'));
    const installedBy = psString(psGet(row, 'InstalledBy'));
    const installedOn = hotfixInstalledOn(psGet(row, 'InstalledOn'));
    if (description !== undefined) h.description = description;
    if (installedBy !== undefined) h.installedBy = installedBy;
    if (installedOn !== undefined) h.installedOn = installedOn;
    hotfixes.push(h);
  }
  return { hotfixes, malformed };
}
