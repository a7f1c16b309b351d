import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { defaultWatchSet } from './defaults.js';

export const MiB = 1024 * 1024;

const absolute = z.string().min(1).refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be an absolute path');
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM (24 h)');
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const FIM_ACTIONS = ['created', 'modified', 'deleted', 'attributes_changed', 'renamed'] as const;

export const maintenanceWindow = z.object({
  name: z.string().min(1).max(64).describe('Shown in fim.maintenance of the changes it explains.'),
  days: z.array(z.enum(WEEKDAYS)).min(1).default([...WEEKDAYS]).describe('Days the window opens on (local time).'),
  start: clock.describe('Local time the window opens, HH:MM.'),
  end: clock.describe('Local time it closes, HH:MM; earlier than start means the next day.'),
  paths: z.array(z.string().min(1)).default([]).describe('Glob patterns of the paths it covers (absolute, `/opt/app/**`); empty = every path.'),
}).strict();

export const ignoreRule = z.object({
  path: z.string().min(1).describe('Glob pattern of the paths (absolute, `/var/www/uploads/**`).'),
  actions: z.array(z.enum(FIM_ACTIONS)).default([...FIM_ACTIONS]).describe('Which actions to leave unreported.'),
}).strict();

const defaults = defaultWatchSet();

export const fimConfig = z.object({
  paths: z.array(absolute).min(1).max(256)
    .default(defaults.paths)
    .describe('Files and directories to watch, absolute; `*` as a whole segment stands for every name there (`/home/*/.ssh`). Directories are watched recursively; symbolic links are recorded, never followed. The default is the set for the operating system the agent runs on (see "What it watches").'),
  exclude: z.array(z.string().min(1)).max(1024).default([])
    .describe('Glob patterns of paths to leave out. A pattern with a slash matches the absolute path (`/etc/ssl/certs/**`); one without matches the file name anywhere (`*.swp`). An excluded directory is not descended into.'),
  include: z.array(z.string().min(1)).max(1024).default(defaults.include)
    .describe('Glob patterns of the files to take (directories are always walked). A pattern without a slash applies everywhere (`*.exe`); one with a slash only below its literal start (`C:/Program Files/**/*.exe` restricts Program Files and nothing else). Empty: every file.'),
  max_hash_bytes: z.number().int().min(0).max(16 * 1024 * MiB).default(64 * MiB)
    .describe('Files larger than this are not hashed: their content counts as changed when size or mtime change.'),
  threads: z.number().int().min(0).max(64).default(0)
    .describe('Worker threads that read and hash files; 0 = one per core.'),
  debounce_ms: z.number().int().min(0).max(60_000).default(500)
    .describe('Real-time changes to a path are reported once it has been quiet this long (writes in progress fold into one event). A deletion and a creation of the same file (inode or SHA-256) that become quiet together are one `renamed`.'),
  rescan: z.string().refine((c) => validCron(c), 'must be a cron expression, e.g. "0 * * * *"').default('0 * * * *')
    .describe('Cron expression for full rescans (`collect()`), which catch what real-time watching cannot: changes made while the agent was stopped, and on file systems without notifications.'),
  package_attribution: z.enum(['auto', 'off']).default('auto')
    .describe('auto: a change to a file that the package manager (dpkg, rpm) installed in the same window, with the content the package ships, is marked fim.expected with fim.package and fim.package_version. off: never asked.'),
  package_window_s: z.number().int().min(1).max(86_400).default(300)
    .describe('How far (seconds) a file change may lie from the package manager\'s work on its package and still be its doing.'),
  maintenance: z.array(maintenanceWindow).max(64).default([])
    .describe('Maintenance windows: changes made inside one (by the file\'s change time) are marked fim.expected with fim.maintenance. Items: name, days (mon…sun), start and end (HH:MM, local), paths (globs; empty = all).'),
  ignore: z.array(ignoreRule).max(1024).default([])
    .describe('Changes not to report (the baseline still follows them). Items: path (glob), actions (default all).'),
  storm_threshold: z.number().int().min(1).max(1_000_000).default(200)
    .describe('Changes under one path prefix within storm_window_s reported one by one; beyond that they are counted into one change_storm event ("1,240 changes under /var/lib/x in 60 s").'),
  storm_window_s: z.number().int().min(1).max(3_600).default(60)
    .describe('The window of storm_threshold, in seconds; a storm that goes on is summarised once per window.'),
  storm_prefix_depth: z.number().int().min(1).max(16).default(3)
    .describe('How many leading path components make the prefix a storm is counted under (3: /var/lib/x).'),
}).strict();

export type FimConfig = z.output<typeof fimConfig>;
export type MaintenanceWindow = z.output<typeof maintenanceWindow>;
export type IgnoreRule = z.output<typeof ignoreRule>;
