/**
 * Parser for `Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' | Select-Object
 * CurrentBuild, UBR, DisplayVersion, EditionID, ProductName, InstallationType, … | ConvertTo-Json`:
 * the OS build `10.0.<CurrentBuild>.<UBR>` that vulnerability matching compares. Text in, data out.
 *
 * CurrentBuild is a REG_SZ (a JSON string), UBR a REG_DWORD (a JSON number): both forms are accepted.
 * ProductName still says "Windows 10" on Windows 11, so `windows11` is decided by the build
 * (≥ 22000) on client installations only (InstallationType "Client"; servers have their own names).
 */
import { PowerShellJsonError, psGet, psInt, psRows, psString } from './powershell-json.js';

export interface WindowsOsVersion {
  build: number;
  ubr: number;
  /** `10.0.<build>.<ubr>`. */
  version: string;
  displayVersion?: string;
  editionId?: string;
  productName?: string;
  installationType?: string;
  /** True for a client installation with build ≥ 22000; undefined when InstallationType is missing. */
  windows11?: boolean;
}

export function parseCurrentVersion(text: string): WindowsOsVersion {
  const rows = psRows(text);
  if (rows.length !== 1) throw new PowerShellJsonError(`expected one CurrentVersion object, found ${rows.length}`);
  const row = rows[0]!;
  const build = psInt(psGet(row, 'CurrentBuild'));
  const ubr = psInt(psGet(row, 'UBR'));
  if (build === undefined || ubr === undefined) throw new PowerShellJsonError('CurrentVersion has no CurrentBuild or UBR');
  const v: WindowsOsVersion = { build, ubr, version: `10.0.${build}.${ubr}` };
  const displayVersion = psString(psGet(row, 'DisplayVersion'));
  const editionId = psString(psGet(row, 'EditionID'));
  const productName = psString(psGet(row, 'ProductName'));
  const installationType = psString(psGet(row, 'InstallationType'));
  if (displayVersion !== undefined) v.displayVersion = displayVersion;
  if (editionId !== undefined) v.editionId = editionId;
  if (productName !== undefined) v.productName = productName;
  if (installationType !== undefined) {
    v.installationType = installationType;
    v.windows11 = installationType === 'Client' && build >= 22000;
  }
  return v;
}
