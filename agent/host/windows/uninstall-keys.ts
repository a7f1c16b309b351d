/**
 * Parser for the installed-programs inventory: the Uninstall registry keys read with
 * `Get-ItemProperty <key>\* | Select-Object DisplayName, DisplayVersion, Publisher, … | ConvertTo-Json`
 * (HKLM, HKLM\…\WOW6432Node and each HKU\<SID>). Text in, programs out, no I/O.
 *
 * Keys without a DisplayName are not programs Windows lists (components, patches, leftovers); they
 * print as rows of nulls and are counted in `hidden`, not returned. InstallDate, when selected, is
 * the registry's `yyyyMMdd` string and is kept as text. EstimatedSize is in KiB.
 */
import { psGet, psInt, psRows, psString } from './powershell-json.js';

export interface WindowsProgram {
  name: string;
  version?: string;
  publisher?: string;
  /** `yyyyMMdd` as the installer wrote it. */
  installDate?: string;
  estimatedSizeKiB?: number;
  installSource?: string;
  uninstallString?: string;
}

export interface UninstallParse { programs: WindowsProgram[]; hidden: number }

export function parseUninstallKeys(text: string): UninstallParse {
  const programs: WindowsProgram[] = [];
  let hidden = 0;
  for (const row of psRows(text)) {
    const name = psString(psGet(row, 'DisplayName'));
    if (name === undefined) { hidden++; continue; }
    const p: WindowsProgram = { name };
    const version = psString(psGet(row, 'DisplayVersion'));
    const publisher = psString(psGet(row, 'Publisher'));
    const installDate = psString(psGet(row, 'InstallDate'));
    const size = psInt(psGet(row, 'EstimatedSize'));
    const source = psString(psGet(row, 'InstallSource'));
    const uninstall = psString(psGet(row, 'UninstallString'));
    if (version !== undefined) p.version = version;
    if (publisher !== undefined) p.publisher = publisher;
    if (installDate !== undefined) p.installDate = installDate;
    if (size !== undefined) p.estimatedSizeKiB = size;
    if (source !== undefined) p.installSource = source;
    if (uninstall !== undefined) p.uninstallString = uninstall;
    programs.push(p);
  }
  return { programs, hidden };
}
