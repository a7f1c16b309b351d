/**
 * Parser for `ufw status verbose` (LC_ALL=C): status, default policies and the rule table.
 * Text in, data out, no I/O.
 */

export interface UfwRule {
  /** `22/tcp`, `80,443/tcp`, `Anywhere`, `OpenSSH`, `22/tcp (v6)` as printed. */
  to: string;
  /** `ALLOW IN`, `DENY IN`, `LIMIT IN`, `REJECT IN`, `ALLOW OUT`, `ALLOW FWD` … */
  action: string;
  from: string;
  v6: boolean;
}

export interface UfwStatus {
  active: boolean;
  logging?: string;
  /** `deny`, `allow`, `reject` per direction, when ufw is active. */
  defaults: { incoming?: string; outgoing?: string; routed?: string };
  rules: UfwRule[];
}

export function parseUfwStatus(text: string): UfwStatus {
  const out: UfwStatus = { active: false, defaults: {}, rules: [] };
  let inTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    let m: RegExpExecArray | null;
    if ((m = /^Status:\s*(\S+)/.exec(line))) {
      out.active = m[1] === 'active';
    } else if ((m = /^Logging:\s*(.+)$/.exec(line))) {
      out.logging = m[1]!;
    } else if ((m = /^Default:\s*(.+)$/.exec(line))) {
      for (const part of m[1]!.split(',')) {
        const d = /^\s*(\S+)\s+\((incoming|outgoing|routed)\)/.exec(part);
        if (d) out.defaults[d[2] as 'incoming' | 'outgoing' | 'routed'] = d[1]!;
      }
    } else if (/^To\s+Action\s+From/.test(line)) {
      inTable = true;
    } else if (inTable && line && !/^-+(\s|$)/.test(line)) {
      // Columns are padded to 27 characters but a long `To` pushes them, so split on the action word.
      const r = /^(.+?)\s+((?:ALLOW|DENY|REJECT|LIMIT)(?: (?:IN|OUT|FWD))?)(?:\s+(.*))?$/.exec(line);
      if (!r) continue;
      const to = r[1]!.trim();
      const from = (r[3] ?? '').trim();
      out.rules.push({ to, action: r[2]!, from, v6: /\(v6\)/.test(to) || /\(v6\)/.test(from) });
    }
  }
  return out;
}
