/**
 * Parser for a PAM service file (/etc/pam.d/<service>): `type control module [args]`, with
 * `[…]` controls, `-type` (silently skipped when missing) and `@include` lines kept as includes for
 * the reader to expand. Text in, data out.
 */
export interface PamLine {
  type: string;
  control: string;
  /** `pam_pwquality.so` (a path is reduced to its file name). */
  module: string;
  /** `minlen=14` → minlen: '14'; a bare word (`try_first_pass`) → ''. */
  args: Map<string, string>;
}

export type PamEntry = { include: string } | PamLine;

export function parsePam(text: string): PamEntry[] {
  const out: PamEntry[] = [];
  // Backslash-newline continues a line.
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const inc = /^@include\s+(\S+)/.exec(line);
    if (inc) { out.push({ include: inc[1]! }); continue; }
    const m = /^(-?\w+)\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const args = new Map<string, string>();
    for (const a of m[4]!.match(/\[[^\]]*\]|\S+/g) ?? []) {
      const eq = a.indexOf('=');
      if (eq < 0) args.set(a, '');
      else args.set(a.slice(0, eq), a.slice(eq + 1));
    }
    out.push({ type: m[1]!.replace(/^-/, ''), control: m[2]!, module: m[3]!.split('/').pop()!, args });
  }
  return out;
}
