/**
 * The checks the agent runs, with their config schemas and default schedules (DESIGN §2: one explicit
 * list). Each check lives in its own folder; this file only wires them to the agent's config and cron.
 */
import type { CheckEntry } from '../config.js';
import { inventoryConfig } from './inventory/config.js';
import { createInventoryCheck } from './inventory/index.js';

export const CHECK_ENTRIES: readonly CheckEntry[] = [
  { name: 'inventory', configSchema: inventoryConfig, defaultSchedule: '17 */6 * * *', create: () => createInventoryCheck() },
];
