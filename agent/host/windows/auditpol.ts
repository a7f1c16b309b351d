/**
 * Parser for `auditpol /get /category:* /r` (CSV: Machine Name, Policy Target, Subcategory,
 * Subcategory GUID, Inclusion Setting, Exclusion Setting), one row per subcategory. Text in, data out.
 *
 * The subcategory names (and, on a non-English system, the header and the setting words) are in the
 * display language; the GUID is not. So rows are located by the GUID column (by header name when the
 * header is English, else by position, which auditpol does not change), and callers should look a
 * subcategory up by GUID. The setting is decoded only from auditpol's English words; any other text
 * is kept as is and reported as not understood.
 */
export interface AuditSetting {
  subcategory: string;
  /** Upper case, with braces: `{0CCE9215-69AE-11D9-BED3-505054503030}`. */
  guid: string;
  /** The Inclusion Setting column as printed (`Success and Failure`, `No Auditing`…). */
  inclusion: string;
  /** Decoded from the English words; undefined when the text is not one of them (another display language). */
  success?: boolean | undefined;
  failure?: boolean | undefined;
}

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

const GUID = /^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/i;

const WORDS: Record<string, [boolean, boolean]> = {
  'success and failure': [true, true],
  success: [true, false],
  failure: [false, true],
  'no auditing': [false, false],
};

/** Decodes auditpol's English inclusion words; undefined for anything else. */
export function decodeInclusion(text: string): { success: boolean; failure: boolean } | undefined {
  const w = WORDS[text.trim().toLowerCase()];
  return w ? { success: w[0], failure: w[1] } : undefined;
}

export function parseAuditpolCsv(text: string): AuditSetting[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim());
  if (!lines.length) return [];
  const header = csvLine(lines[0]!).map((h) => h.trim());
  // English header: by name. Otherwise (localized header) the fixed column order of auditpol /r.
  const named = header.indexOf('Subcategory GUID') >= 0;
  const sub = named ? header.indexOf('Subcategory') : 2;
  const guid = named ? header.indexOf('Subcategory GUID') : 3;
  const inc = named ? header.indexOf('Inclusion Setting') : 4;
  const out: AuditSetting[] = [];
  for (const l of lines.slice(1)) {
    const cols = csvLine(l).map((c) => c.trim());
    const g = cols[guid] ?? '';
    if (!GUID.test(g)) continue;
    const inclusion = cols[inc] ?? '';
    const d = decodeInclusion(inclusion);
    out.push({ subcategory: cols[sub] ?? '', guid: g.toUpperCase(), inclusion, success: d?.success, failure: d?.failure });
  }
  return out;
}
