/**
 * Parser for Windows Installer activity (text in, installer actions out, no I/O): the JSON printed by
 *
 *   Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = 'MsiInstaller';
 *     Id = 1033, 1034, 1035, 1036; StartTime = <from> } -ErrorAction SilentlyContinue |
 *     Select-Object TimeCreated, Id, @{ n = 'Properties'; e = { $_.Properties.Value } } |
 *     ConvertTo-Json -Compress
 *
 * Events 1033 (installed), 1034 (removed), 1035 (reconfigured) and 1036 (updated) carry, in this
 * order, ProductName, ProductVersion, LanguageId, Status (0 = success), Manufacturer. `TimeCreated`
 * is `/Date(<ms>)/` from Windows PowerShell 5.1 and an ISO-8601 string from PowerShell 7;
 * ConvertTo-Json prints a single event as an object, several as an array.
 *
 * Written from Microsoft's documentation of these events, not yet checked against output recorded
 * on a Windows host (FIM uses it to mark changes under Program Files as installer work; nothing
 * runs it on Windows yet): see docs/fim.md.
 */

export type MsiAction = 'installed' | 'removed' | 'reconfigured' | 'updated';

const ACTION_OF: Record<number, MsiAction> = { 1033: 'installed', 1034: 'removed', 1035: 'reconfigured', 1036: 'updated' };

export interface MsiInstallerEvent {
  /** Milliseconds since the epoch. */
  time: number;
  eventId: number;
  action: MsiAction;
  product: string;
  version?: string;
  manufacturer?: string;
  /** Windows Installer's status: 0 is success. */
  status?: number;
}

function timeOf(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const legacy = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(v);
    if (legacy) return Number(legacy[1]);
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  // Some serialisations give DateTime as { value: "...", DateTime: "..." }.
  if (v && typeof v === 'object' && 'value' in v) return timeOf((v as { value: unknown }).value);
  return undefined;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim().length > 0 ? v.trim() : typeof v === 'number' ? String(v) : undefined);

export function parseMsiInstallerEvents(json: string): MsiInstallerEvent[] {
  const trimmed = json.trim();
  if (trimmed.length === 0) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    return [];
  }
  const items = Array.isArray(doc) ? doc : [doc];
  const out: MsiInstallerEvent[] = [];
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    const o = item as { TimeCreated?: unknown; Id?: unknown; Properties?: unknown };
    const eventId = typeof o.Id === 'number' ? o.Id : undefined;
    const action = eventId === undefined ? undefined : ACTION_OF[eventId];
    const time = timeOf(o.TimeCreated);
    const props = Array.isArray(o.Properties) ? o.Properties : [];
    const product = text(props[0]);
    if (eventId === undefined || !action || time === undefined || !product) continue;
    const e: MsiInstallerEvent = { time, eventId, action, product };
    const version = text(props[1]);
    const manufacturer = text(props[4]);
    const status = Number(props[3]);
    if (version !== undefined) e.version = version;
    if (manufacturer !== undefined) e.manufacturer = manufacturer;
    if (props[3] !== undefined && Number.isInteger(status)) e.status = status;
    out.push(e);
  }
  return out;
}

/** Successful installer actions between `from` and `to` (ms): the products Windows Installer changed. */
export function msiActivity(events: readonly MsiInstallerEvent[], from: number, to: number): MsiInstallerEvent[] {
  return events.filter((e) => e.time >= from && e.time <= to && (e.status === undefined || e.status === 0));
}
