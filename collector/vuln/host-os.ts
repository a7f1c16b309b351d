/**
 * Which OSV ecosystem a host's advisories live in, from its `host` finding: os-release ID and
 * VERSION_ID as the inventory check reports them (`host.os.platform`, `host.os.version`), with
 * `host.os.name` as a fallback for agents that do not send the platform.
 *
 *   debian 12         → Debian:12
 *   ubuntu 22.04      → Ubuntu:22.04:LTS   (YY.04 with an even YY is an LTS release)
 *   ubuntu 23.10      → Ubuntu:23.10
 *   rocky 9.3         → Rocky Linux:9
 *   almalinux 9.4     → AlmaLinux:9
 */
import type { Fields } from '../../common/finding.js';

export interface HostOs {
  /** os-release ID, lower case: debian, ubuntu, rocky, almalinux, rhel, centos, windows… */
  platform: string | undefined;
  /** os-release VERSION_ID as reported (12, 22.04, 9.3). */
  version: string | undefined;
  /** The OSV ecosystem, or undefined when Canh Gác has no advisories for this OS. */
  ecosystem: string | undefined;
  /** Why there is no ecosystem (for the evaluation report). */
  reason?: string;
}

const str = (f: Fields, k: string): string | undefined => (typeof f[k] === 'string' && f[k] !== '' ? (f[k] as string) : undefined);

/** os-release NAME → ID, for agents that do not send host.os.platform. */
const NAME_TO_PLATFORM: [RegExp, string][] = [
  [/^debian/i, 'debian'], [/^ubuntu/i, 'ubuntu'], [/^rocky/i, 'rocky'], [/^almalinux/i, 'almalinux'],
  [/^red hat enterprise linux/i, 'rhel'], [/^centos/i, 'centos'],
];

export function platformOf(f: Fields): string | undefined {
  const p = str(f, 'host.os.platform')?.toLowerCase();
  if (p !== undefined) return p;
  const name = str(f, 'host.os.name');
  return name === undefined ? undefined : NAME_TO_PLATFORM.find(([re]) => re.test(name))?.[1];
}

/** The major release of a VERSION_ID: "9.3" → "9", "12" → "12". */
export function majorOf(version: string): string | undefined {
  return /^(\d+)(?:\.\d+)*$/.exec(version)?.[1];
}

export function hostOs(f: Fields): HostOs {
  const platform = platformOf(f);
  const version = str(f, 'host.os.version');
  const none = (reason: string): HostOs => ({ platform, version, ecosystem: undefined, reason });
  if (platform === undefined) return none('the host inventory names no operating system');
  if (version === undefined) return none(`the host inventory gives no version for ${platform} (rolling or testing release?)`);
  const major = majorOf(version);
  switch (platform) {
    case 'debian':
      return /^\d+$/.test(version) ? { platform, version, ecosystem: `Debian:${version}` } : none(`Debian version "${version}" is not a release number`);
    case 'ubuntu': {
      const m = /^(\d\d)\.(\d\d)$/.exec(version);
      if (!m) return none(`Ubuntu version "${version}" is not YY.MM`);
      const lts = m[2] === '04' && Number(m[1]) % 2 === 0;
      return { platform, version, ecosystem: `Ubuntu:${version}${lts ? ':LTS' : ''}` };
    }
    case 'rocky':
      return major ? { platform, version, ecosystem: `Rocky Linux:${major}` } : none(`Rocky Linux version "${version}" has no major release`);
    case 'almalinux':
      return major ? { platform, version, ecosystem: `AlmaLinux:${major}` } : none(`AlmaLinux version "${version}" has no major release`);
    default:
      return none(`no OSV advisories are matched for ${platform} (Debian, Ubuntu, Rocky Linux and AlmaLinux are)`);
  }
}
