/**
 * Parser for `reg query "<KEY>" /v <Name>` (reg.exe, Windows): the value's type and data.
 * Numbers (REG_DWORD/REG_QWORD, printed as 0x… hex) become decimal strings. Text in, data out.
 * The format is reg.exe's: the key on its own line, then `    Name    REG_TYPE    data` per value.
 * An empty string value is printed as `    Name    REG_SZ    ` (nothing after the type but
 * padding): it is kept, with data "", so it reads as set-but-empty rather than not set.
 */
export interface RegValue { name: string; type: string; data: string }

export function parseRegQuery(text: string): RegValue[] {
  const out: RegValue[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s{2,}(.+?)\s{2,}(REG_[A-Z_]+)(?:\s{2,}(.*))?$/.exec(raw.replace(/\s+$/, ''));
    if (!m) continue;
    let data = (m[3] ?? '').trim();
    if ((m[2] === 'REG_DWORD' || m[2] === 'REG_QWORD') && /^0x[0-9a-f]+$/i.test(data)) data = BigInt(data).toString();
    out.push({ name: m[1]!.trim(), type: m[2]!, data });
  }
  return out;
}
