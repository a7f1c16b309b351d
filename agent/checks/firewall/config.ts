import { z } from 'zod';

export const firewallConfig = z.object({
  products: z.array(z.enum(['nftables', 'iptables', 'ufw', 'firewalld'])).min(1).default(['nftables', 'iptables', 'ufw', 'firewalld']).describe(
    'Which firewall products to report as `firewall` items (Linux). Listener exposure always reads nftables and iptables, whatever this says.',
  ),
}).strict();

export type FirewallConfig = z.output<typeof firewallConfig>;
