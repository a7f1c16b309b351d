/**
 * Parser for `net accounts` (net.exe, English output): the local password and lockout policy as
 * `label → value` (`Minimum password length` → `14`, `Lockout threshold` → `Never`). Text in, data out.
 * The agent runs it with the system's display language; non-English labels are not recognised and
 * make the probe not applicable (its evidence says so).
 */
export function parseNetAccounts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /^(.+?):\s{2,}(.*)$/.exec(raw.trim()) ?? /^([^:]+):\s*(.*)$/.exec(raw.trim());
    if (!m || /command completed/i.test(raw)) continue;
    out.set(m[1]!.trim(), m[2]!.trim());
  }
  return out;
}
