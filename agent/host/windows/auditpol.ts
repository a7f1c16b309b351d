/**
 * Parser for `auditpol /get /category:* /r` (CSV: Machine Name, Policy Target, Subcategory,
 * Subcategory GUID, Inclusion Setting, Exclusion Setting): subcategory → inclusion setting
 * (`Success`, `Failure`, `Success and Failure`, `No Auditing`). Text in, data out.
 */
function csvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

export function parseAuditpolCsv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const header = csvLine(lines[0] ?? '').map((h) => h.trim());
  const sub = header.indexOf('Subcategory');
  const inc = header.indexOf('Inclusion Setting');
  if (sub < 0 || inc < 0) return out;
  for (const l of lines.slice(1)) {
    const cols = csvLine(l);
    const name = cols[sub]?.trim();
    if (name) out.set(name, cols[inc]?.trim() ?? '');
  }
  return out;
}
