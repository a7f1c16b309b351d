import { z } from 'zod';

export const inventoryConfig = z.object({
  addresses: z.enum(['non_loopback', 'all']).default('non_loopback').describe(
    'Which interface addresses go into `host.ip` and `host.mac`: `non_loopback` leaves out loopback interfaces (127.0.0.0/8, ::1); `all` keeps them.',
  ),
}).strict();

export type InventoryConfig = z.output<typeof inventoryConfig>;
