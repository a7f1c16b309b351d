/**
 * Parsers for what rpm knows about packages' files (text in, data out, no I/O):
 * - `rpm -qa --qf RPM_INSTALLTIME_FORMAT`: when each package was last installed or upgraded;
 * - `rpm -q --qf RPM_FILES_FORMAT <package>…`: each package's files with the digest the package
 *   ships for them (`FILEDIGESTALGO` 8 = SHA-256, the default since RHEL 8), so a changed file can
 *   be checked against its package without reading it again — the check `rpm -V` makes, without
 *   its exit status 1 for any difference hiding the answer.
 */

export const RPM_INSTALLTIME_FORMAT = '%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\n';
export const RPM_FILES_FORMAT = '@@\\t%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\t%{FILEDIGESTALGO}\\n[%{FILENAMES}\\t%{FILEDIGESTS}\\n]';

/** rpm's PGPHASHALGO numbers for the digests we can compare with FIM's SHA-256. */
export const RPM_DIGEST_SHA256 = 8;

export interface RpmInstall {
  name: string;
  /** `epoch:version-release`. */
  version: string;
  arch: string;
  /** Seconds since the epoch. */
  installTime: number;
}

export function parseRpmInstallTimes(text: string): RpmInstall[] {
  const out: RpmInstall[] = [];
  for (const line of text.split('\n')) {
    const [name, version, arch, time] = line.split('\t');
    if (!name || !version || arch === undefined || !time || !/^\d+$/.test(time)) continue;
    out.push({ name, version, arch, installTime: Number(time) });
  }
  return out;
}

export interface RpmPackageFiles extends RpmInstall {
  /** PGPHASHALGO of the digests (8: SHA-256); absent when rpm has none (`(none)`). */
  digestAlgo?: number;
  /** Path → hex digest; '' for directories, symlinks and ghosts. */
  files: Map<string, string>;
}

export function parseRpmFiles(text: string): RpmPackageFiles[] {
  const out: RpmPackageFiles[] = [];
  let cur: RpmPackageFiles | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('@@\t')) {
      const [, name, version, arch, time, algo] = line.split('\t');
      cur = undefined;
      if (!name || !version || arch === undefined || !time || !/^\d+$/.test(time)) continue;
      cur = { name, version, arch, installTime: Number(time), files: new Map() };
      if (algo !== undefined && /^\d+$/.test(algo)) cur.digestAlgo = Number(algo);
      out.push(cur);
      continue;
    }
    if (!cur || !line.startsWith('/')) continue;
    const tab = line.lastIndexOf('\t');
    if (tab < 0) continue;
    cur.files.set(line.slice(0, tab), line.slice(tab + 1).toLowerCase());
  }
  return out;
}
