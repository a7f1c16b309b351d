/** Parsers for files under /proc/<pid>/ and /proc/stat. Text in, values out, no I/O. */

/** The `Uid:` line of /proc/<pid>/status: real, effective, saved, filesystem. */
export function parseStatusUids(text: string): { real: number; effective: number } | undefined {
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(text);
  return m ? { real: Number(m[1]), effective: Number(m[2]) } : undefined;
}

/**
 * The systemd unit a process runs in, from /proc/<pid>/cgroup: the last `*.service` in its cgroup
 * path (`0::/system.slice/ssh.service` → `ssh.service`; user units
 * `…/user@1000.service/app.slice/foo.service` → `foo.service`). cgroup v2 (`0::`) first, then the
 * v1 `name=systemd` hierarchy. Undefined outside a service (scopes, containers, no systemd).
 */
export function parseCgroupUnit(text: string): string | undefined {
  const lines = text.split('\n');
  const v2 = lines.find((l) => l.startsWith('0::'));
  const v1 = lines.find((l) => /^\d+:name=systemd:/.test(l));
  for (const line of [v2, v1]) {
    if (!line) continue;
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    const units = path.split('/').filter((seg) => seg.endsWith('.service'));
    const unit = units[units.length - 1];
    if (unit) return unit;
  }
  return undefined;
}

/** `btime` of /proc/stat: boot time in seconds since the epoch. */
export function parseBootTime(text: string): number | undefined {
  const m = /^btime\s+(\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}
