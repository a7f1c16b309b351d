import { z } from 'zod';

export const packagesConfig = z.object({
  manager: z.enum(['auto', 'dpkg', 'rpm']).default('auto').describe(
    'Which package database to read: `auto` reads every one whose tool is installed (dpkg-query, rpm); `dpkg` or `rpm` reads only that one and fails when its tool is missing.',
  ),
  dpkg_states: z.enum(['on_disk', 'installed']).default('on_disk').describe(
    'Which dpkg packages count: `on_disk` every package whose files are on disk, including unpacked and half-configured ones (vulnerable code is there all the same); `installed` only fully installed ones (states i, W, t). Removed packages with config files left are never reported.',
  ),
}).strict();

export type PackagesConfig = z.output<typeof packagesConfig>;
