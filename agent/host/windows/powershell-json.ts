/**
 * What every `… | ConvertTo-Json` output needs before it can be read (text in, rows out, no I/O).
 *
 * Quirks of PowerShell's JSON, seen in the recordings under fixtures/:
 * - one result is printed as a bare object, several as an array, none as nothing at all (empty
 *   output, not `[]`): `psRows` always returns an array;
 * - Windows PowerShell 5.1 writes a UTF-8 BOM when output is redirected to a file, and `\r\n` line
 *   ends; the BOM is stripped, JSON does not care about the line ends;
 * - DateTime values are `"\/Date(1666572250000)\/"` (milliseconds since the epoch, sometimes with a
 *   `+0200` offset that does not change the instant), or, for properties that PowerShell adapts
 *   (Get-HotFix's InstalledOn), an object `{ "value": "/Date(…)/", "DateTime": "<localised text>" }`:
 *   only the `/Date(…)/` part is read, never the localised text;
 * - enums are numbers (`"State": 2`), unless PowerShell 7 was asked for `-EnumsAsStrings`: callers
 *   accept both;
 * - ConvertTo-Json's default depth is 2: deeper values arrive as their type name in a string
 *   (`"CimSystemProperties": "Microsoft.Management.Infrastructure.CimSystemProperties"`), so only
 *   top-level scalar properties are relied on.
 */

export class PowerShellJsonError extends Error {}

export type PsRow = Record<string, unknown>;

/** The rows of a ConvertTo-Json output: [] for empty output or `null`, [obj] for a single object. */
export function psRows(text: string): PsRow[] {
  const body = text.replace(/^\uFEFF/, '').trim();
  if (body === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new PowerShellJsonError(`PowerShell output is not JSON: ${(err as Error).message}`);
  }
  if (value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is PsRow => typeof v === 'object' && v !== null && !Array.isArray(v));
}

/** A property by name, ignoring case (Get-HotFix says `HotFixID`, `Select-Object HotFixId` says `HotFixId`). */
export function psGet(row: PsRow, name: string): unknown {
  if (Object.hasOwn(row, name)) return row[name];
  const lower = name.toLowerCase();
  const key = Object.keys(row).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : row[key];
}

/** A non-empty string, or undefined (null, missing, blank or not a string). */
export function psString(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  return s === '' ? undefined : s;
}

/**
 * A list property in any of the forms PowerShell prints it: a string or number (one value), an
 * array, or Windows PowerShell 5.1's `{ "value": [...], "Count": n }` (an array it had wrapped).
 * Blank and non-scalar items are dropped; undefined when nothing is left.
 */
export function psList(value: unknown): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'object' && !Array.isArray(value)) return psList((value as PsRow)['value']);
  const items = (Array.isArray(value) ? value : [value])
    .map((v) => (typeof v === 'number' ? String(v) : psString(v)))
    .filter((v): v is string => v !== undefined);
  return items.length > 0 ? items : undefined;
}

/** An integer from a number or a decimal string (registry values come as either), or undefined. */
export function psInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** A `/Date(ms)/` value (bare, or in PowerShell's `{ value, DateTime }` wrapper) as a Date, or undefined. */
export function psDate(value: unknown): Date | undefined {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return psDate((value as PsRow)['value']);
  if (typeof value !== 'string') return undefined;
  const m = /^\\?\/Date\((-?\d+)(?:[+-]\d{4})?\)\\?\/$/.exec(value.trim());
  if (!m) return undefined;
  const d = new Date(Number(m[1]));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * An enum property as its name: numbers are looked up in `names`, strings (PowerShell 7
 * `-EnumsAsStrings`) are matched case-insensitively against the same names. Undefined when unknown.
 */
export function psEnum<T extends string>(value: unknown, names: Readonly<Record<number, T>>): T | undefined {
  if (typeof value === 'number') return Object.hasOwn(names, value) ? names[value] : undefined;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    return Object.values(names).find((n) => n.toLowerCase() === lower);
  }
  return undefined;
}
