/**
 * Parser for the Debian/Ubuntu package inventory: the output of
 * `dpkg-query -W -f=<DPKG_QUERY_FORMAT>` (text in, packages out, no I/O).
 */

/** `${source:Package}`/`${source:Version}` are worked out by dpkg-query from the `Source:` field. */
export const DPKG_QUERY_FORMAT = '${db:Status-Abbrev}\t${Package}\t${Version}\t${source:Package}\t${source:Version}\t${Architecture}\n';

export interface DpkgPackage {
  name: string;
  /** With epoch when there is one (`1:3.0.11-1~deb12u2`), exactly as dpkg has it. */
  version: string;
  architecture: string;
  sourceName: string;
  sourceVersion: string;
  /** Selection state: u(nknown) i(nstall) h(old) r(emove) p(urge). */
  want: string;
  /**
   * Package state: n(ot-installed) c(onfig-files) H(alf-installed) U(npacked) F (half-configured)
   * W (triggers-awaited) t (triggers-pending) i(nstalled).
   */
  state: string;
  /** Error flag: empty, or R (reinstall required). */
  error: string;
}

export interface DpkgParse {
  packages: DpkgPackage[];
  /** Lines that did not have the six columns (counted, never guessed at). */
  malformed: number;
}

export function parseDpkgQuery(text: string): DpkgParse {
  const packages: DpkgPackage[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const cols = line.split('\t');
    const [abbrev, name, version, sourceName, sourceVersion, architecture] = cols;
    if (cols.length !== 6 || !abbrev || abbrev.length < 2 || !name || architecture === undefined || version === undefined) {
      malformed++;
      continue;
    }
    packages.push({
      name,
      version,
      architecture,
      sourceName: sourceName || name,
      sourceVersion: sourceVersion || version,
      want: abbrev[0]!,
      state: abbrev[1]!,
      error: (abbrev[2] ?? '').trim(),
    });
  }
  return { packages, malformed };
}

/** States in which the package is fully installed (possibly waiting for triggers). */
export const DPKG_INSTALLED_STATES: ReadonlySet<string> = new Set(['i', 'W', 't']);
/** States in which the package's files are on disk, configured or not. */
export const DPKG_ON_DISK_STATES: ReadonlySet<string> = new Set(['i', 'W', 't', 'F', 'U', 'H']);
