/**
 * Parsers for net.exe's `label: value` reports: `net accounts` (the local password and lockout
 * policy) and `net user <name>`. Text in, data out.
 *
 * net.exe prints its labels in the system's display language. `parseNetAccounts` keeps whatever
 * labels it finds; `parseNetAccountsPolicy` returns the policy under net.exe's English labels and,
 * when none of them is present (another display language), falls back to the line order, which is
 * the same in every language (one message template): its values are then trusted only when they are
 * numbers, since the words (`Never`, `Unlimited`, `None`) are localized too.
 */
export function parseNetAccounts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const m = /^(.+?):\s{2,}(.*)$/.exec(raw.trim()) ?? /^([^:]+):\s*(.*)$/.exec(raw.trim());
    if (!m || /command completed/i.test(raw)) continue;
    out.set(m[1]!.trim(), m[2]!.trim());
  }
  return out;
}

/** `net accounts` lines in the order net.exe prints them (English labels). */
export const NET_ACCOUNTS_LABELS = [
  'Force user logoff how long after time expires?',
  'Minimum password age (days)',
  'Maximum password age (days)',
  'Minimum password length',
  'Length of password history maintained',
  'Lockout threshold',
  'Lockout duration (minutes)',
  'Lockout observation window (minutes)',
  'Computer role',
] as const;

export interface NetAccountsPolicy {
  /** English label → value as printed. */
  values: Map<string, string>;
  /** True when the labels were not English and the values were taken by line order. */
  byPosition: boolean;
}

export function parseNetAccountsPolicy(text: string): NetAccountsPolicy {
  const all = parseNetAccounts(text);
  const english = new Map([...all].filter(([k]) => (NET_ACCOUNTS_LABELS as readonly string[]).includes(k)));
  if (english.size) return { values: english, byPosition: false };
  // Localized: only the `label:   value` lines (net.exe pads labels to one column), in order.
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => /^(.+?):\s{2,}(\S.*)$/.exec(l.trim())).filter((m) => m !== null);
  if (rows.length < NET_ACCOUNTS_LABELS.length - 1) return { values: new Map(), byPosition: true };
  return { values: new Map(NET_ACCOUNTS_LABELS.map((l, i) => [l, rows[i]?.[2]?.trim() ?? ''] as [string, string]).filter(([, v]) => v !== '')), byPosition: true };
}
