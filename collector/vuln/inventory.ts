/** An installed package as the collector knows it from a `package` finding. */
import type { Fields } from '../../common/finding.js';

export interface InstalledPackage {
  /** Binary package name (dpkg Package, rpm NAME). */
  name: string;
  /** Installed version in the package manager's own order. */
  version: string;
  architecture?: string | undefined;
  /** deb, rpm, … */
  type?: string | undefined;
  /** The source package the binary was built from (Debian/Ubuntu advisories are keyed by it). */
  source?: { name?: string | undefined; version?: string | undefined } | undefined;
}

/** From the ECS fields of a `package` finding (`package.name`, `package.source.version`, …). */
export function packageFromFields(f: Fields): InstalledPackage | undefined {
  const name = f['package.name'];
  const version = f['package.version'];
  if (typeof name !== 'string' || typeof version !== 'string') return undefined;
  const str = (k: string): string | undefined => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  const sourceName = str('package.source.name');
  const sourceVersion = str('package.source.version');
  return {
    name,
    version,
    architecture: str('package.architecture'),
    type: str('package.type'),
    source: sourceName === undefined && sourceVersion === undefined ? undefined : { name: sourceName, version: sourceVersion },
  };
}
