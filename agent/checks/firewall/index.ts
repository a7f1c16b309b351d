/**
 * firewall: the host firewall's state (product, enabled, default inbound policy, rules) as a `firewall`
 * snapshot: Linux products, Windows Defender Firewall's three profiles, or macOS's application firewall.
 */
import type { Check, CollectResult } from '../check.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { runCommand, type CommandId, type Runner } from '../../host/run.js';
import { parseCheckConfig } from '../parse-config.js';
import { firewallConfig, type FirewallConfig } from './config.js';
import { firewallItems } from './firewall-items.js';
import { readLinuxFirewall } from './state.js';
import { readWindowsFirewall, windowsFirewallItems } from './windows.js';
import { darwinFirewallItems, readDarwinFirewall } from './darwin.js';

export interface FirewallDeps {
  run: Runner<CommandId>;
  platform: NodeJS.Platform;
}

export function createFirewallCheck(deps: Partial<FirewallDeps> = {}): Check {
  const run = deps.run ?? runCommand;
  const platform = deps.platform ?? process.platform;
  let config: FirewallConfig | undefined;
  return {
    name: 'firewall',
    kinds: ['firewall'],
    init(raw: unknown) {
      config = parseCheckConfig('firewall', firewallConfig, raw);
    },
    async collect(): Promise<CollectResult> {
      if (!config) throw new AgentError(AgentCodes.CHECK_NOT_INITIALIZED, 'check "firewall" used before init()');
      if (platform === 'win32') {
        // One item per profile; the products option names Linux products and does not apply.
        return { snapshots: [{ kind: 'firewall', items: windowsFirewallItems(await readWindowsFirewall(run)) }], events: [] };
      }
      if (platform === 'darwin') {
        return { snapshots: [{ kind: 'firewall', items: darwinFirewallItems(await readDarwinFirewall(run)) }], events: [] };
      }
      if (platform !== 'linux') {
        throw new AgentError(AgentCodes.CHECK_UNSUPPORTED_PLATFORM, `check "firewall" cannot read the firewall on ${platform} yet`);
      }
      const items = firewallItems(await readLinuxFirewall(run), config);
      return { snapshots: [{ kind: 'firewall', items }], events: [] };
    },
  };
}
