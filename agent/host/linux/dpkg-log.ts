/**
 * Parser for dpkg's own log, `/var/log/dpkg.log` (text in, package actions out, no I/O):
 *
 *   2026-11-28 01:02:22 upgrade cg-fimtest:all 1.0 1.1
 *   2026-11-28 01:02:22 status installed cg-fimtest:all 1.1
 *
 * Actions (`install`, `upgrade`, `remove`, `purge`, `configure`, `trigproc`) name the package, the
 * version before and the version after (`<none>` when there is none); `status` lines give the state
 * a package reached and its version. Times are the host's local time, to the second. Other lines
 * (`startup archives unpack`, `conffile …`) are skipped.
 */

export const DPKG_ACTIONS = ['install', 'upgrade', 'remove', 'purge', 'configure', 'trigproc', 'status'] as const;
export type DpkgAction = (typeof DPKG_ACTIONS)[number];

export interface DpkgLogEntry {
  /** Milliseconds since the epoch, read as local time. */
  time: number;
  action: DpkgAction;
  /** Package name without the architecture. */
  name: string;
  /** `amd64`, `all`…; absent in logs of dpkg before multi-arch. */
  arch?: string;
  /** For actions: the version before (absent for `<none>`). */
  from?: string;
  /** For actions: the version after (absent for `<none>`); for status lines: the version. */
  to?: string;
  /** For status lines: `installed`, `unpacked`, `half-configured`, `not-installed`, … */
  status?: string;
}

const LINE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (\S+) (.*)$/;
const ACTIONS: ReadonlySet<string> = new Set(DPKG_ACTIONS);
const version = (v: string | undefined): string | undefined => (v === undefined || v === '<none>' ? undefined : v);

function splitPackage(p: string): { name: string; arch?: string } {
  const i = p.indexOf(':');
  return i < 0 ? { name: p } : { name: p.slice(0, i), arch: p.slice(i + 1) };
}

export function parseDpkgLog(text: string): DpkgLogEntry[] {
  const out: DpkgLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || !ACTIONS.has(m[7]!)) continue;
    const time = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
    const words = m[8]!.trim().split(/\s+/);
    const action = m[7] as DpkgAction;
    if (action === 'status') {
      const [status, pkg, ver] = words;
      if (!status || !pkg) continue;
      const e: DpkgLogEntry = { time, action, ...splitPackage(pkg), status };
      const v = version(ver);
      if (v !== undefined) e.to = v;
      out.push(e);
      continue;
    }
    const [pkg, from, to] = words;
    if (!pkg) continue;
    const e: DpkgLogEntry = { time, action, ...splitPackage(pkg) };
    const f = version(from);
    const t = version(to);
    if (f !== undefined) e.from = f;
    if (t !== undefined) e.to = t;
    out.push(e);
  }
  return out;
}

export interface DpkgActivity {
  name: string;
  arch?: string;
  /** First and last log line of the package inside the window. */
  first: number;
  last: number;
  /** The version it ended up with in the window (absent when removed). */
  version?: string;
  /** The version it had before, when the log says (upgrade, remove). */
  previous?: string;
  /** Whether its files were taken away in the window (remove, purge). */
  removed: boolean;
}

/** Per package (name:arch): what dpkg did to it between `from` and `to` (ms, inclusive). */
export function dpkgActivity(entries: readonly DpkgLogEntry[], from: number, to: number): Map<string, DpkgActivity> {
  const out = new Map<string, DpkgActivity>();
  for (const e of entries) {
    if (e.time < from || e.time > to) continue;
    const key = e.arch ? `${e.name}:${e.arch}` : e.name;
    let a = out.get(key);
    if (!a) {
      a = { name: e.name, first: e.time, last: e.time, removed: false };
      if (e.arch !== undefined) a.arch = e.arch;
      out.set(key, a);
    }
    a.last = Math.max(a.last, e.time);
    a.first = Math.min(a.first, e.time);
    if (e.action === 'remove' || e.action === 'purge') {
      a.removed = true;
      if (e.from !== undefined) a.previous = e.from;
      delete a.version;
    } else if (e.action === 'install' || e.action === 'upgrade') {
      a.removed = false;
      if (e.from !== undefined) a.previous = e.from;
      if (e.to !== undefined) a.version = e.to;
    } else if (e.action === 'status' && e.to !== undefined && e.status !== 'not-installed' && e.status !== 'config-files') {
      a.version = e.to;
    }
  }
  return out;
}
