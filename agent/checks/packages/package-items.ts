/** Parsed dpkg/rpm packages → `package` state items. Pure. */
import type { Fields } from '../../../common/finding.js';
import type { Observation } from '../check.js';
import { DPKG_INSTALLED_STATES, DPKG_ON_DISK_STATES, type DpkgPackage } from '../../host/linux/dpkg.js';
import type { RpmPackage } from '../../host/linux/rpm.js';
import type { AptPendingUpdate } from '../../host/linux/apt-simulate.js';
import type { MacApp } from '../../host/darwin/system-profiler.js';
import type { PackagesConfig } from './config.js';

export function dpkgFields(p: DpkgPackage): Fields {
  return {
    'package.name': p.name,
    'package.version': p.version,
    'package.architecture': p.architecture,
    'package.type': 'deb',
    'package.source.name': p.sourceName,
    'package.source.version': p.sourceVersion,
  };
}

export function rpmFields(p: RpmPackage): Fields {
  const f: Fields = { 'package.name': p.name, 'package.version': p.version, 'package.type': 'rpm' };
  if (p.architecture) f['package.architecture'] = p.architecture;
  if (p.sourceName) f['package.source.name'] = p.sourceName;
  if (p.sourceVersion) f['package.source.version'] = p.sourceVersion;
  return f;
}

/** A macOS application bundle (system_profiler). State key: `app:<bundle path>` (names repeat, paths do not). */
export function appFields(a: MacApp): Fields {
  const f: Fields = { 'package.name': a.name, 'package.type': 'app', 'package.path': a.path };
  if (a.version !== undefined) f['package.version'] = a.version;
  if (a.vendor !== undefined) f['package.vendor'] = a.vendor;
  if (a.obtainedFrom !== undefined) f['package.obtained_from'] = a.obtainedFrom;
  return f;
}

export function appItems(apps: readonly MacApp[]): Observation[] {
  const seen = new Set<string>();
  const items: Observation[] = [];
  for (const a of apps) {
    const stateKey = `app:${a.path}`;
    if (seen.has(stateKey)) continue;
    seen.add(stateKey);
    items.push({ kind: 'package', stateKey, fields: appFields(a) });
  }
  return items;
}

export function keepDpkg(p: DpkgPackage, states: PackagesConfig['dpkg_states']): boolean {
  return (states === 'installed' ? DPKG_INSTALLED_STATES : DPKG_ON_DISK_STATES).has(p.state);
}

/**
 * State keys are `name:arch`. rpm installs some packages in several versions at once (kernels,
 * gpg-pubkey), so when a `name:arch` occurs more than once each gets `name:arch:version`; a key
 * produced by both dpkg and rpm (both tools on one host) is prefixed with the package type.
 */
export function toItems(fieldsList: readonly Fields[]): Observation[] {
  const keyOf = (f: Fields) => `${String(f['package.name'])}:${String(f['package.architecture'] ?? '')}`;
  const byKey = new Map<string, Fields[]>();
  for (const f of fieldsList) {
    const k = keyOf(f);
    byKey.set(k, [...(byKey.get(k) ?? []), f]);
  }
  const items: Observation[] = [];
  for (const [key, group] of byKey) {
    const types = new Set(group.map((f) => f['package.type']));
    for (const f of group) {
      let stateKey = key;
      if (types.size > 1) stateKey = `${String(f['package.type'])}:${stateKey}`;
      if (group.filter((g) => g['package.type'] === f['package.type']).length > 1) stateKey = `${stateKey}:${String(f['package.version'])}`;
      items.push({ kind: 'package', stateKey, fields: f });
    }
  }
  return items;
}

/**
 * Upgrades apt would make → `update` state items, state key `deb:<name>:<arch>` (one candidate per
 * installed package and architecture). `listsUpdated` is when apt's newest package list was written.
 */
export function aptUpdateItems(updates: readonly AptPendingUpdate[], listsUpdated: string | undefined): Observation[] {
  const byKey = new Map<string, Observation>();
  for (const u of updates) {
    const f: Fields = {
      'package.name': u.name, 'package.version': u.installed, 'package.architecture': u.architecture, 'package.type': 'deb',
      'update.version': u.candidate, 'update.origins': [...u.origins], 'update.security': u.security,
    };
    if (listsUpdated !== undefined) f['update.lists_updated'] = listsUpdated;
    const stateKey = `deb:${u.name}:${u.architecture}`;
    if (!byKey.has(stateKey)) byKey.set(stateKey, { kind: 'update', stateKey, fields: f });
  }
  return [...byKey.values()];
}
