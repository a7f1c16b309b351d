/**
 * Parsers for what dpkg knows about files (text in, data out, no I/O):
 * - `dpkg --verify <package>…`: one line per file that does not match the package database,
 *   `??5?????? c /etc/app.conf` (rpm-style flags: `5` = the MD5 differs; `c` = a conffile) or
 *   `missing     /usr/lib/app/tool`;
 * - `dpkg -S <path>…`: `package[, package…]: /path`, plus `diversion by …` lines (and, on stderr,
 *   `no path found matching pattern` for paths no package owns; exit status 1 then).
 */

export interface DpkgVerifyProblem {
  path: string;
  /** The 9 check flags (`??5??????`), or `missing`. */
  flags: string;
  conffile: boolean;
  missing: boolean;
  /** The content differs from what the package shipped (MD5 flag set). */
  digestDiffers: boolean;
}

const VERIFY = /^(missing|[?.A-Z0-9]{9}) +(c )? *(\/.*)$/;

export function parseDpkgVerify(text: string): DpkgVerifyProblem[] {
  const out: DpkgVerifyProblem[] = [];
  for (const line of text.split('\n')) {
    const m = VERIFY.exec(line);
    if (!m) continue;
    const flags = m[1]!;
    const missing = flags === 'missing';
    out.push({ path: m[3]!, flags, conffile: m[2] !== undefined, missing, digestDiffers: !missing && flags[2] === '5' });
  }
  return out;
}

/** `dpkg -S` output: path → owning packages (architecture qualifiers kept: `libc6:amd64`). */
export function parseDpkgSearch(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('diversion by ')) continue;
    const i = line.indexOf(': /');
    if (i < 0) continue;
    out.set(line.slice(i + 2), line.slice(0, i).split(', ').filter((p) => p.length > 0));
  }
  return out;
}

/** Whether dpkg -S takes the path literally (it reads `*`, `?`, `[` and `\\` as glob syntax). */
export function dpkgSearchable(path: string): boolean {
  return path.startsWith('/') && !/[*?[\]\\\n]/.test(path);
}

/** Names dpkg gives files it is in the middle of installing or has set aside. */
const DPKG_TEMP = /\.(dpkg-new|dpkg-tmp|dpkg-old|dpkg-dist|dpkg-bak|dpkg-remove|ucf-new|ucf-old|ucf-dist)$/;

/** `/usr/bin/x.dpkg-new` → `/usr/bin/x`; undefined for other names. */
export function dpkgTempTarget(path: string): string | undefined {
  const m = DPKG_TEMP.exec(path);
  return m ? path.slice(0, m.index) : undefined;
}

/**
 * On merged-/usr systems dpkg still records `/bin/ls` for what is found at `/usr/bin/ls` (and the
 * reverse on some): the other spelling of a path, if it has one.
 */
export function usrMergeAlias(path: string): string | undefined {
  for (const d of ['/bin/', '/sbin/', '/lib/', '/lib32/', '/lib64/', '/libx32/']) {
    if (path.startsWith(d)) return `/usr${path}`;
    if (path.startsWith(`/usr${d}`)) return path.slice(4);
  }
  return undefined;
}
