/** Plain text tables for people: columns padded by display width, long cells cut with an ellipsis. */
function width(s: string): number {
  // Vietnamese text is mostly precomposed; combining marks take no column.
  return [...s.normalize('NFC')].filter((c) => !/\p{M}/u.test(c)).length;
}

function cut(s: string, max: number): string {
  if (width(s) <= max) return s;
  return [...s].slice(0, Math.max(1, max - 1)).join('') + '…';
}

export function table(headers: string[], rows: (string | number | undefined)[][], maxCell = 60): string {
  const cells = rows.map((r) => r.map((c) => cut(c === undefined ? '' : String(c), maxCell)));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]): string => r.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)].join('\n');
}
