/** Parsers for /etc/passwd and /etc/group: id → name. Text in, maps out, no I/O. */

function parseIdFile(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    // Comments and NIS/compat entries (`+`, `-`) name no local account.
    if (line.length === 0 || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const cols = line.split(':');
    const name = cols[0];
    const idText = cols[2];
    if (!name || idText === undefined || !/^\d+$/.test(idText)) continue;
    const id = Number(idText);
    // The first entry wins, as for getpwuid(3).
    if (!out.has(id)) out.set(id, name);
  }
  return out;
}

/** `root:x:0:0:root:/root:/bin/bash` → 0 → "root". */
export function parsePasswd(text: string): Map<number, string> {
  return parseIdFile(text);
}

/** `root:x:0:` → 0 → "root". */
export function parseGroup(text: string): Map<number, string> {
  return parseIdFile(text);
}
