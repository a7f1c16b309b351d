/**
 * Plain text tables for people: columns padded by display width, long cells cut with an ellipsis.
 * Cells are shown in NFC, so Vietnamese typed or stored decomposed (macOS file names are NFD) looks and
 * aligns the same as precomposed text; combining marks take no column, East Asian wide characters two.
 */

/** Terminal columns one code point takes: 0 for combining marks and zero-width characters, 2 for wide ones. */
function charWidth(c: string): number {
  if (/[\p{M}\u200B-\u200F\u2060\uFEFF]/u.test(c)) return 0;
  const cp = c.codePointAt(0)!;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Display width of an NFC string. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const c of s) w += charWidth(c);
  return w;
}

/** At most `max` columns: the string itself, or its head and an ellipsis (never splitting a letter from its marks). */
function cut(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  const room = Math.max(1, max - 1);
  let out = '';
  let w = 0;
  for (const c of s) {
    const cw = charWidth(c);
    if (w + cw > room) break;
    out += c;
    w += cw;
  }
  return `${out}…`;
}

export function table(headers: string[], rows: (string | number | undefined)[][], maxCell = 60): string {
  const cells = rows.map((r) => r.map((c) => cut(c === undefined ? '' : String(c).normalize('NFC'), maxCell)));
  const heads = headers.map((h) => h.normalize('NFC'));
  const widths = heads.map((h, i) => Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: string[]): string => r.map((c, i) => c + ' '.repeat(Math.max(0, widths[i]! - displayWidth(c)))).join('  ').trimEnd();
  return [line(heads), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)].join('\n');
}
