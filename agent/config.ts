/** The agent's configuration file (agent.yaml), one zod schema; check options come from each check's schema. */
import { platform } from 'node:os';
import { z } from 'zod';
import { validate as validCron } from 'node-cron';

export interface CheckEntry {
  name: string;
  /** The check's own options (a strict zod object with defaults). */
  configSchema: z.ZodObject;
  /** cron expression used when the config does not give one. */
  defaultSchedule: string;
  create(): import('./checks/check.js').Check;
}

export function defaultDataDir(): string {
  if (platform() === 'win32') return 'C:\\ProgramData\\CanhGac\\agent';
  if (platform() === 'darwin') return '/Library/Application Support/CanhGac/agent';
  return '/var/lib/canhgac-agent';
}

const cron = z.string().refine((s) => validCron(s), { message: 'not a valid cron expression (minute hour day month weekday, optional seconds first)' });

export function agentConfigSchema(checks: readonly CheckEntry[]) {
  const checkShape: Record<string, z.ZodType> = {};
  for (const c of checks) {
    // A check with its own schedule option (fim's `rescan`) keeps it; the others get `schedule`.
    const ownSchedule = 'rescan' in c.configSchema.shape;
    const schema = z.object({
      enabled: z.enum(['on', 'off']).default('on').describe(`Run the ${c.name} check.`),
      ...(ownSchedule ? {} : { schedule: cron.default(c.defaultSchedule).describe('When to run it (cron; the agent also runs every check once at start).') }),
    }).extend(c.configSchema.shape).strict();
    checkShape[c.name] = schema.prefault({}).describe(`The ${c.name} check.`);
  }
  return z.object({
    collector: z.string().optional().describe('HOST:PORT of the collector; set by enrollment, overridable here.'),
    data_dir: z.string().default(defaultDataDir()).describe('Where the agent keeps its identity, outbox and check state (mode 0700).'),
    outbox: z.object({
      max_entries: z.number().int().min(1000).default(500_000).describe('Most findings kept while the collector is unreachable; beyond it the oldest are dropped and a gap finding reports them.'),
      max_bytes: z.number().int().min(1 << 20).default(256 * 1024 * 1024).describe('Most bytes of encoded findings kept in the outbox.'),
    }).strict().prefault({}).describe('The durable on-disk outbox.'),
    transport: z.object({
      batch_max_findings: z.number().int().min(1).max(1000).default(500).describe('Findings per batch sent to the collector.'),
      batch_max_bytes: z.number().int().min(4096).max(4 * 1024 * 1024).default(1024 * 1024).describe('Encoded bytes per batch (the collector refuses messages over 4 MiB).'),
      window: z.number().int().min(1).max(64).default(4).describe('Batches in flight without an acknowledgement.'),
      backoff_initial_ms: z.number().int().min(10).default(1000).describe('First reconnect delay; doubles on each failure, with jitter.'),
      backoff_max_ms: z.number().int().min(100).default(60_000).describe('Longest reconnect delay.'),
      heartbeat_s: z.number().int().min(1).default(30).describe('Seconds between heartbeats.'),
    }).strict().prefault({}).describe('How findings travel to the collector.'),
    checks: z.object(checkShape).strict().prefault({}).describe('Per-check settings.'),
  }).strict();
}

export type AgentConfig = {
  collector?: string | undefined;
  data_dir: string;
  outbox: { max_entries: number; max_bytes: number };
  transport: { batch_max_findings: number; batch_max_bytes: number; window: number; backoff_initial_ms: number; backoff_max_ms: number; heartbeat_s: number };
  checks: Record<string, { enabled: 'on' | 'off'; schedule?: string } & Record<string, unknown>>;
};
