/**
 * Parser for `firewall-cmd --list-all` (firewalld ≥ 0.9, LC_ALL=C): the default zone's name, target,
 * interfaces, sources, services, ports and rich rules. Text in, data out, no I/O.
 */
export interface FirewalldZone {
  zone: string;
  /** `(active)` after the zone name: the zone has interfaces or sources bound. */
  active: boolean;
  /** `default`, `ACCEPT`, `DROP`, `REJECT`, `%%REJECT%%`. */
  target?: string;
  interfaces: string[];
  sources: string[];
  services: string[];
  ports: string[];
  richRules: string[];
}

const LISTS = { interfaces: 'interfaces', sources: 'sources', services: 'services', ports: 'ports' } as const;

export function parseFirewallCmdListAll(text: string): FirewalldZone | undefined {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => l.trim() !== '');
  if (head < 0) return undefined;
  const m = /^(\S+)(?:\s+\((active|default)(?:,\s*(active|default))?\))?\s*$/.exec(lines[head]!.trim());
  if (!m) return undefined;
  const zone: FirewalldZone = { zone: m[1]!, active: m[2] === 'active' || m[3] === 'active', interfaces: [], sources: [], services: [], ports: [], richRules: [] };
  let inRich = false;
  for (const raw of lines.slice(head + 1)) {
    if (!raw.trim()) continue;
    const kv = /^\s{2}([a-z -]+):\s*(.*)$/.exec(raw);
    if (kv) {
      const key = kv[1]!.trim();
      const value = kv[2]!.trim();
      inRich = key === 'rich rules';
      if (key === 'target') zone.target = value;
      else if (key in LISTS) zone[LISTS[key as keyof typeof LISTS]] = value ? value.split(/\s+/) : [];
      if (inRich && value) zone.richRules.push(value);
      continue;
    }
    if (inRich) zone.richRules.push(raw.trim());
  }
  return zone;
}
