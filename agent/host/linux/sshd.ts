/**
 * Parser for `sshd -T` (the effective server configuration, lower-case keywords, one per line).
 * Keywords that may repeat (listenaddress, hostkey, …) keep every value. Text in, data out.
 */
export type SshdConfig = Map<string, string[]>;

export function parseSshdT(text: string): SshdConfig {
  const out: SshdConfig = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const sp = line.search(/\s/);
    const key = (sp < 0 ? line : line.slice(0, sp)).toLowerCase();
    const value = sp < 0 ? '' : line.slice(sp + 1).trim();
    const list = out.get(key) ?? [];
    list.push(value);
    out.set(key, list);
  }
  return out;
}
