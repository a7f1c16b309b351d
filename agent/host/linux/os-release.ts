/** Parser for os-release(5) (/etc/os-release, /usr/lib/os-release). Text in, keys out, no I/O. */

/** Undoes the shell-style quoting os-release allows: "…" (with \\ \" \$ \` escapes) or '…'. */
function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  }
  return value;
}

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = unquote(m[2]!);
  }
  return out;
}

/**
 * The OS family in ECS terms (`debian`, `redhat`, `suse`, `arch`…): the distribution's own ID when it
 * is a root family, else the first ID_LIKE that is one, else the ID.
 */
const FAMILIES: Record<string, string> = {
  debian: 'debian', ubuntu: 'debian',
  rhel: 'redhat', fedora: 'redhat', centos: 'redhat', rocky: 'redhat', almalinux: 'redhat', ol: 'redhat',
  suse: 'suse', opensuse: 'suse', sles: 'suse', 'opensuse-leap': 'suse', 'opensuse-tumbleweed': 'suse',
  arch: 'arch', alpine: 'alpine', gentoo: 'gentoo',
};

export function osFamily(release: Record<string, string>): string | undefined {
  const id = release.ID?.toLowerCase();
  const like = (release.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  for (const candidate of [id, ...like]) {
    if (candidate && FAMILIES[candidate]) return FAMILIES[candidate];
  }
  return id;
}
