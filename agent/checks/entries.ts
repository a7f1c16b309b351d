/**
 * The registry's checks as the agent's config and scheduler see them: each with its default cron
 * schedule. (The list of checks itself is agent/checks/registry.ts.)
 */
import type { z } from 'zod';
import type { CheckEntry } from '../config.js';
import { CHECKS } from './registry.js';

/** How often each check runs by default (the agent also runs every check once at start). */
const DEFAULT_SCHEDULES: Record<string, string> = {
  inventory: '17 */6 * * *',
  packages: '7 * * * *',
  listeners: '*/5 * * * *',
  fim: '0 * * * *',
  firewall: '*/15 * * * *',
  sca: '23 */4 * * *',
};

export const CHECK_ENTRIES: readonly CheckEntry[] = CHECKS.map((c) => ({
  name: c.name,
  configSchema: c.configSchema as z.ZodObject,
  defaultSchedule: DEFAULT_SCHEDULES[c.name] ?? '0 * * * *',
  create: () => c.create(),
}));
