import { z } from 'zod';

export const listenersConfig = z.object({
  transports: z.array(z.enum(['tcp', 'udp'])).min(1).default(['tcp', 'udp']).describe(
    'Which sockets to report: listening TCP sockets, bound UDP sockets, or both.',
  ),
  scopes: z.array(z.enum(['loopback', 'all', 'specific'])).min(1).default(['loopback', 'all', 'specific']).describe(
    'Which bind scopes to report: `loopback` (127.0.0.0/8, ::1, bound to lo), `all` (0.0.0.0, ::), `specific` (one address or interface).',
  ),
}).strict();

export type ListenersConfig = z.output<typeof listenersConfig>;
