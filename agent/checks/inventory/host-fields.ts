/** SystemFacts → the ECS fields of the `host` finding. Pure. */
import type { Fields } from '../../../common/finding.js';
import type { SystemFacts } from '../../host/system.js';
import { osFamily } from '../../host/linux/os-release.js';
import type { InventoryConfig } from './config.js';
import type { HostRebootFacts } from '../../host/reboot.js';
import type { WindowsOsVersion } from '../../host/windows/os-version.js';

const OS_TYPE: Partial<Record<NodeJS.Platform, string>> = { linux: 'linux', win32: 'windows', darwin: 'macos' };

/** ECS wants MACs as upper-case, hyphen-separated octets (RFC 7042). */
export function ecsMac(mac: string): string {
  return mac.toUpperCase().replace(/:/g, '-');
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** host.reboot.* (Linux and Windows) and host.os.kernel_installed (Linux) from the pending-reboot facts. */
export function rebootFields(r: HostRebootFacts): Fields {
  const f: Fields = { 'host.reboot.required': r.required };
  if (r.reasons.length > 0) f['host.reboot.reasons'] = [...r.reasons];
  if (r.pendingSince !== undefined) f['host.reboot.pending_since'] = r.pendingSince;
  if (r.packages.length > 0) f['host.reboot.packages'] = [...r.packages];
  if ('newestKernel' in r && r.newestKernel !== undefined) f['host.os.kernel_installed'] = r.newestKernel;
  return f;
}

export function hostFields(facts: SystemFacts, config: InventoryConfig, reboot?: HostRebootFacts): Fields {
  const rel = facts.osRelease ?? {};
  const linux = facts.platform === 'linux';
  const f: Fields = {
    'host.name': facts.hostname,
    'host.hostname': facts.hostname,
    'host.architecture': facts.machine,
    'host.os.type': OS_TYPE[facts.platform] ?? 'unix',
    'host.os.family': (linux ? osFamily(rel) : undefined) ?? (facts.platform === 'win32' ? 'windows' : facts.platform === 'darwin' ? 'macos' : facts.platform),
    'host.os.platform': linux ? (rel.ID ?? 'linux') : facts.platform === 'win32' ? 'windows' : facts.platform,
    'host.os.name': (linux ? rel.NAME : undefined) ?? facts.distro,
    'host.os.version': (linux ? rel.VERSION_ID : undefined) ?? facts.release,
    'host.os.kernel': facts.kernel,
    'host.uptime': facts.uptimeSeconds,
    'host.boot.time': new Date(facts.bootTime * 1000).toISOString(),
    'host.cpu.cores': facts.cpuCores,
    'host.cpu.model': facts.cpuModel,
    'host.memory.total': facts.memoryTotal,
  };
  const full = (linux ? rel.PRETTY_NAME : undefined) ?? [facts.distro, facts.release].filter(Boolean).join(' ');
  if (full) f['host.os.full'] = full;
  if (facts.build) f['host.os.build'] = facts.build;
  if (facts.machineId) f['host.id'] = facts.machineId;
  if (facts.bootId) f['host.boot.id'] = facts.bootId;
  if (facts.fqdn.startsWith(`${facts.hostname}.`)) f['host.domain'] = facts.fqdn.slice(facts.hostname.length + 1);

  const kept = facts.addresses.filter((a) => config.addresses === 'all' || !a.internal);
  const ips = sortedUnique(kept.map((a) => a.address));
  const macs = sortedUnique(kept.map((a) => a.mac).filter((m) => m && !/^(00[:-]){5}00$/.test(m)).map(ecsMac));
  if (ips.length > 0) f['host.ip'] = ips;
  if (macs.length > 0) f['host.mac'] = macs;
  if (reboot !== undefined) Object.assign(f, rebootFields(reboot));
  return f;
}

/**
 * What the CurrentVersion registry key says, over systeminformation's Windows facts:
 * host.os.version `10.0.<build>.<UBR>` (what Windows vulnerability data compares), host.os.build
 * `<build>.<UBR>`, DisplayVersion (23H2), and the product name, where "Windows 10" becomes
 * "Windows 11" on client builds ≥ 22000 (ProductName was never updated for Windows 11).
 */
export function windowsOsFields(v: WindowsOsVersion): Fields {
  const f: Fields = { 'host.os.version': v.version, 'host.os.build': `${v.build}.${v.ubr}` };
  if (v.displayVersion !== undefined) f['host.os.display_version'] = v.displayVersion;
  if (v.editionId !== undefined) f['host.os.edition'] = v.editionId;
  if (v.productName !== undefined) {
    const name = v.windows11 ? v.productName.replace(/\bWindows 10\b/, 'Windows 11') : v.productName;
    f['host.os.name'] = name;
    f['host.os.full'] = v.displayVersion ? `${name} ${v.displayVersion}` : name;
  }
  return f;
}
