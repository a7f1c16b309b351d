import { z } from 'zod';

export const packagesConfig = z.object({
  manager: z.enum(['auto', 'dpkg', 'rpm']).default('auto').describe(
    'Which package database to read: `auto` reads every one whose tool is installed (dpkg-query, rpm); `dpkg` or `rpm` reads only that one and fails when its tool is missing.',
  ),
  dpkg_states: z.enum(['on_disk', 'installed']).default('on_disk').describe(
    'Which dpkg packages count: `on_disk` every package whose files are on disk, including unpacked and half-configured ones (vulnerable code is there all the same); `installed` only fully installed ones (states i, W, t). Removed packages with config files left are never reported.',
  ),
  apt_pending_updates: z.enum(['cached', 'off']).default('cached').describe(
    'Debian/Ubuntu: `cached` also reports the upgrades apt would make (`apt-get --simulate dist-upgrade` over the package lists apt already has; the agent never runs `apt-get update` or downloads anything) as `update` items, security ones marked, with the time of the newest list so stale lists show; `off` does not.',
  ),
  windows_pending_updates: z.enum(['off', 'search']).default('off').describe(
    'Windows: `search` also asks the Windows Update Agent which updates the configured update source (Windows Update or the agency\'s WSUS) offers and the host has not installed, and reports them as `update` items; only meaningful when the host reaches that source, and a search can take minutes. `off` does not ask. Security updates pending are found from the vulnerability findings either way.',
  ),
}).strict();

export type PackagesConfig = z.output<typeof packagesConfig>;
