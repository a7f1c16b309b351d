/**
 * Parser for `KEY value` / `KEY=value` configuration files: /etc/login.defs, /etc/default/useradd,
 * /etc/security/pwquality.conf, /etc/security/faillock.conf. Comments (`#`) and blank lines are
 * skipped; the last occurrence of a key wins, as in the programs that read these files.
 */
export function parseKeyValue(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9_.-]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim().replace(/^"(.*)"$/, '$1'));
    else out.set(line, '');
  }
  return out;
}
