/**
 * Parser for `Get-HotFix | ConvertTo-Json` (Win32_QuickFixEngineering), also after
 * `Select-Object HotFixId, Description, InstalledOn, InstalledBy, …`. Text in, hotfixes out, no I/O.
 *
 * The id property is `HotFixID` from Get-HotFix and `HotFixId` after Select-Object: matched without
 * case. InstalledOn is a `/Date(ms)/` string or PowerShell's `{ value, DateTime }` wrapper (the
 * DateTime text is localised and ignored); it is often missing. Get-HotFix lists only component-based
 * servicing updates: it is not the whole update history (update-history.ts reads that).
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

export function parseHotfixes(text: string): HotfixParse {
  const hotfixes: WindowsHotfix[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const id = psString(psGet(row, 'HotFixID'));
    if (id === undefined) { malformed++; continue; }
    const h: WindowsHotfix = { id: id.toUpperCase() };
    const description = psString(psGet(row, 'Description'));
    const installedBy = psString(psGet(row, 'InstalledBy'));
    const installedOn = psDate(psGet(row, 'InstalledOn'));
    if (description !== undefined) h.description = description;
    if (installedBy !== undefined) h.installedBy = installedBy;
    if (installedOn !== undefined) h.installedOn = installedOn;
    hotfixes.push(h);
  }
  return { hotfixes, malformed };
}
