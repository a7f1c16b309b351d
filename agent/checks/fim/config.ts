import { validate as validCron } from 'node-cron';
import { z } from 'zod';

export const MiB = 1024 * 1024;

export const fimConfig = z.object({
  paths: z.array(z.string().min(1).refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be an absolute path'))
    .min(1).max(256)
    .default(['/etc', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/boot'])
    .describe('Files and directories to watch, absolute. Directories are watched recursively; symbolic links are recorded, never followed (list /usr/bin, not /bin, on merged-/usr systems).'),
  exclude: z.array(z.string().min(1)).max(1024).default([])
    .describe('Glob patterns of paths to leave out. A pattern with a slash matches the absolute path (`/etc/ssl/certs/**`); one without matches the file name anywhere (`*.swp`). An excluded directory is not descended into.'),
  max_hash_bytes: z.number().int().min(0).max(16 * 1024 * MiB).default(64 * MiB)
    .describe('Files larger than this are not hashed: their content counts as changed when size or mtime change.'),
  debounce_ms: z.number().int().min(0).max(60_000).default(500)
    .describe('Real-time changes to a path are reported once it has been quiet this long (writes in progress fold into one event).'),
  rescan: z.string().refine((c) => validCron(c), 'must be a cron expression, e.g. "0 * * * *"').default('0 * * * *')
    .describe('Cron expression for full rescans (`collect()`), which catch what real-time watching cannot: changes made while the agent was stopped, and on file systems without notifications.'),
}).strict();

export type FimConfig = z.output<typeof fimConfig>;
