/**
 * Parser for the RHEL/Rocky/Alma package inventory: the output of `rpm -qa --qf <RPM_QUERY_FORMAT>`
 * (text in, packages out, no I/O).
 */

export const RPM_QUERY_FORMAT = '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n';

export interface RpmPackage {
  name: string;
  /** `epoch:version-release`, the epoch always present (`0:` when the package has none). */
  version: string;
  /** Absent for rpm's pseudo-packages (`gpg-pubkey`), whose arch is `(none)`. */
  architecture?: string;
  /** From the source rpm file name; absent for pseudo-packages. */
  sourceName?: string;
  /** `epoch:version-release` of the source rpm (rpm keeps one epoch for a source and its binaries). */
  sourceVersion?: string;
}

export interface RpmParse {
  packages: RpmPackage[];
  malformed: number;
}

/** `openssl-3.0.7-27.el9.src.rpm` → name `openssl`, version `3.0.7`, release `27.el9`. */
export function parseSourceRpm(file: string): { name: string; version: string; release: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(file);
  if (!m) return undefined;
  return { name: m[1]!, version: m[2]!, release: m[3]! };
}

const NONE = '(none)';

export function parseRpmQuery(text: string): RpmParse {
  const packages: RpmPackage[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const cols = line.split('\t');
    const [name, evr, arch, srpm] = cols;
    const epoch = evr === undefined ? undefined : /^(\d+):./.exec(evr)?.[1];
    if (cols.length !== 4 || !name || !evr || epoch === undefined || arch === undefined || srpm === undefined) {
      malformed++;
      continue;
    }
    const pkg: RpmPackage = { name, version: evr };
    if (arch && arch !== NONE) pkg.architecture = arch;
    const src = srpm === NONE ? undefined : parseSourceRpm(srpm);
    if (src) {
      pkg.sourceName = src.name;
      pkg.sourceVersion = `${epoch}:${src.version}-${src.release}`;
    }
    packages.push(pkg);
  }
  return { packages, malformed };
}
