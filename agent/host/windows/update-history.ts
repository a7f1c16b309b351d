/**
 * Parser for the Windows Update Agent history (`IUpdateSearcher.QueryHistory` → Select-Object Date,
 * Operation, ResultCode, Title, UpdateID, ClientApplicationID, SupportUrl → ConvertTo-Json). Text in,
 * events and installed KBs out, no I/O.
 *
 * Get-HotFix lists only component-based servicing packages; this history also has what Windows
 * Update, WSUS or Configuration Manager installed through the agent (.NET cumulative updates,
 * Defender platform, MSRT…). Nothing here reads localised text for meaning:
 * - the KB number comes from the Title with a pattern that only looks for `KB` followed by digits,
 *   wherever it sits (a Vietnamese title "Bản cập nhật tích lũy … (KB5034441)", a Japanese one
 *   "2022-12 x64 (KB5021088) 向け …" put it in different places); a title without one (feature
 *   updates, drivers, Store apps) gives no KB;
 * - Operation (1 installation, 2 uninstallation) and ResultCode (0 not started, 1 in progress,
 *   2 succeeded, 3 succeeded with errors, 4 failed, 5 aborted) are numbers from the COM enums; their
 *   English names (PowerShell 7 `-EnumsAsStrings`, or scripts that translate them) are accepted too;
 * - Date is the `u` format (`2018-06-12 01:48:16Z`) the query writes, or PowerShell's `/Date(ms)/`.
 *
 * A KB counts as installed when its latest successful operation (results 2 and 3) is an installation:
 * an update that was installed and later uninstalled does not count.
 */
import { psDate, psEnum, psGet, psRows, psString, type PsRow } from './powershell-json.js';

export type UpdateOperation = 'installation' | 'uninstallation';
export type UpdateResult = 'not-started' | 'in-progress' | 'succeeded' | 'succeeded-with-errors' | 'failed' | 'aborted';

const OPERATIONS: Readonly<Record<number, string>> = { 1: 'Installation', 2: 'Uninstallation' };
const RESULTS: Readonly<Record<number, string>> = {
  0: 'NotStarted', 1: 'InProgress', 2: 'Succeeded', 3: 'SucceededWithErrors', 4: 'Failed', 5: 'Aborted',
};
const OPERATION_OF: Readonly<Record<string, UpdateOperation>> = { Installation: 'installation', Uninstallation: 'uninstallation' };
const RESULT_OF: Readonly<Record<string, UpdateResult>> = {
  NotStarted: 'not-started', InProgress: 'in-progress', Succeeded: 'succeeded',
  SucceededWithErrors: 'succeeded-with-errors', Failed: 'failed', Aborted: 'aborted',
};

export interface UpdateHistoryEvent {
  /** KB ids found in the title (`KB5034441`, upper-cased), in order; often none. */
  kbs: string[];
  title?: string;
  operation?: UpdateOperation;
  result?: UpdateResult;
  date?: Date;
  updateId?: string;
  clientApplicationId?: string;
  supportUrl?: string;
}

export interface InstalledUpdate {
  /** `KB5034441`. */
  id: string;
  /** Start of the current installed spell: the first successful installation after the last uninstallation. */
  installedOn?: Date;
  /** Title of the latest successful installation (localised by Windows). */
  title?: string;
  supportUrl?: string;
}

export interface UpdateHistoryParse {
  events: UpdateHistoryEvent[];
  /** KBs whose latest successful operation is an installation, in order of first appearance. */
  installed: InstalledUpdate[];
  /** Rows without a title, an operation or a result code that can be read. */
  malformed: number;
}

/** `KB` and 5–8 digits, not inside a longer word or number; case and surrounding script do not matter. */
const KB_PATTERN = /(?<![A-Za-z0-9])KB ?(\d{5,8})(?![0-9])/gi;

/** Every KB id in a Windows Update title, upper-cased, without repeats. */
export function kbIdsInTitle(title: string): string[] {
  const ids: string[] = [];
  for (const m of title.matchAll(KB_PATTERN)) {
    const id = `KB${m[1]}`;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** Names with spaces (`Succeeded With Errors`, as some scripts print them) match the enum names without. */
function enumName(value: unknown, names: Readonly<Record<number, string>>): string | undefined {
  return psEnum(typeof value === 'string' ? value.replace(/[\s_-]/g, '') : value, names);
}

/** `2018-06-12 01:48:16Z` (.NET `u`, UTC) or `/Date(ms)/`. */
export function historyDate(value: unknown): Date | undefined {
  const s = psString(value);
  const m = s === undefined ? null : /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})Z$/.exec(s);
  if (m) {
    const d = new Date(`${m[1]}T${m[2]}Z`);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return psDate(value);
}

/** One history row → an event; undefined when it has neither a readable operation nor result code. */
export function historyEvent(row: PsRow): UpdateHistoryEvent | undefined {
  const op = enumName(psGet(row, 'Operation'), OPERATIONS);
  const res = enumName(psGet(row, 'ResultCode'), RESULTS);
  const title = psString(psGet(row, 'Title'));
  if (op === undefined || res === undefined || title === undefined) return undefined;
  const e: UpdateHistoryEvent = { kbs: kbIdsInTitle(title), title, operation: OPERATION_OF[op]!, result: RESULT_OF[res]! };
  const date = historyDate(psGet(row, 'Date'));
  // UpdateID at the top (the query's calculated property) or inside UpdateIdentity (a bare entry).
  const identity = psGet(row, 'UpdateIdentity');
  const updateId = psString(psGet(row, 'UpdateID'))
    ?? (typeof identity === 'object' && identity !== null ? psString(psGet(identity as PsRow, 'UpdateID')) : undefined);
  const client = psString(psGet(row, 'ClientApplicationID'));
  const url = psString(psGet(row, 'SupportUrl'));
  if (date !== undefined) e.date = date;
  if (updateId !== undefined) e.updateId = updateId;
  if (client !== undefined) e.clientApplicationId = client;
  if (url !== undefined) e.supportUrl = url;
  return e;
}

const succeeded = (e: UpdateHistoryEvent): boolean => e.result === 'succeeded' || e.result === 'succeeded-with-errors';

/**
 * The KBs installed now, from events in any order: oldest first by date (events without a date keep
 * their place relative to each other and go first), the latest successful operation per KB decides.
 */
export function installedUpdates(events: readonly UpdateHistoryEvent[]): InstalledUpdate[] {
  const ordered = events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => ((a.e.date?.getTime() ?? -Infinity) - (b.e.date?.getTime() ?? -Infinity)) || a.i - b.i)
    .map(({ e }) => e);
  const state = new Map<string, InstalledUpdate | null>();
  const firstSeen: string[] = [];
  for (const e of ordered) {
    if (!succeeded(e)) continue;
    for (const id of e.kbs) {
      if (!state.has(id)) firstSeen.push(id);
      if (e.operation === 'uninstallation') { state.set(id, null); continue; }
      const current = state.get(id);
      const u: InstalledUpdate = { id };
      const since = current ? (current.installedOn ?? e.date) : e.date;
      if (since !== undefined) u.installedOn = since;
      if (e.title !== undefined) u.title = e.title;
      if (e.supportUrl !== undefined) u.supportUrl = e.supportUrl;
      state.set(id, u);
    }
  }
  return firstSeen.map((id) => state.get(id)).filter((u): u is InstalledUpdate => u !== null && u !== undefined);
}

export function parseUpdateHistory(text: string): UpdateHistoryParse {
  const events: UpdateHistoryEvent[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const e = historyEvent(row);
    if (e === undefined) malformed++;
    else events.push(e);
  }
  return { events, installed: installedUpdates(events), malformed };
}
