/**
 * The one list of the agent's checks. A check not listed here does not exist; the order is the
 * order the agent runs and documents them in.
 */
import type { z } from 'zod';
import { AgentCodes, AgentError } from '../errors.js';
import type { Check } from './check.js';
import { fimConfig } from './fim/config.js';
import { firewallConfig } from './firewall/config.js';
import { createFirewallCheck } from './firewall/index.js';
import { createFimCheck } from './fim/index.js';
import { inventoryConfig } from './inventory/config.js';
import { createInventoryCheck } from './inventory/index.js';
import { listenersConfig } from './listeners/config.js';
import { createListenersCheck } from './listeners/index.js';
import { packagesConfig } from './packages/config.js';
import { scaConfig } from './sca/config.js';
import { createScaCheck } from './sca/index.js';
import { createPackagesCheck } from './packages/index.js';

export interface CheckDefinition {
  /** Folder name under agent/checks/, the `check` of its findings, its key in the agent's config. */
  readonly name: string;
  /** One line for people (the README's first line says the same). */
  readonly summary: string;
  /** How it runs: `polled` checks only collect(); `watcher` checks also start()/stop(). */
  readonly mode: 'polled' | 'watcher';
  /** The zod schema of its config (documented in its README, generated from this). */
  readonly configSchema: z.ZodType;
  /** A fresh, un-initialised instance. */
  create(): Check;
}

export const CHECKS: readonly CheckDefinition[] = [
  { name: 'inventory', mode: 'polled', summary: 'Host facts: OS, kernel, hardware, addresses.', configSchema: inventoryConfig, create: () => createInventoryCheck() },
  { name: 'packages', mode: 'polled', summary: 'Installed packages (dpkg, rpm) with their source packages.', configSchema: packagesConfig, create: () => createPackagesCheck() },
  { name: 'listeners', mode: 'polled', summary: 'Listening TCP and bound UDP sockets with process, user, service and bind scope.', configSchema: listenersConfig, create: () => createListenersCheck() },
  { name: 'fim', mode: 'watcher', summary: 'File integrity monitoring: baseline, rescans and real-time changes.', configSchema: fimConfig, create: () => createFimCheck() },
  { name: 'firewall', mode: 'polled', summary: 'Host firewall state (nftables, iptables, ufw, firewalld): enabled, default inbound policy, rules.', configSchema: firewallConfig, create: () => createFirewallCheck() },
  { name: 'sca', mode: 'polled', summary: 'Security configuration assessment: policies in rules/sca evaluated with typed read-only probes.', configSchema: scaConfig, create: () => createScaCheck() },
];

export function checkNames(): string[] {
  return CHECKS.map((c) => c.name);
}

export function findCheck(name: string): CheckDefinition | undefined {
  return CHECKS.find((c) => c.name === name);
}

/** A new instance of a check, initialised with `config` (validated; absent = all defaults). */
export function createCheck(name: string, config?: unknown): Check {
  const def = findCheck(name);
  if (!def) {
    throw new AgentError(AgentCodes.CHECK_UNKNOWN, `there is no check named "${name}"`, {
      where: `checks.${name}`,
      hint: `known checks: ${checkNames().join(', ')}`,
    });
  }
  const check = def.create();
  check.init(config);
  return check;
}
