/** inventory: one `host` state item describing the machine (OS, kernel, hardware, addresses). */
import type { Check, CollectResult } from '../check.js';
import { readSystemFacts, type SystemFacts } from '../../host/system.js';
import { readRebootFacts } from '../../host/reboot.js';
import type { RebootFacts } from '../../host/linux/reboot.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { parseCheckConfig } from '../parse-config.js';
import { inventoryConfig, type InventoryConfig } from './config.js';
import { hostFields } from './host-fields.js';

export interface InventoryDeps {
  readFacts: () => Promise<SystemFacts>;
  /** Pending reboot (Linux); undefined elsewhere. */
  readReboot: () => Promise<RebootFacts | undefined>;
}

export function createInventoryCheck(deps: Partial<InventoryDeps> = {}): Check {
  const readFacts = deps.readFacts ?? readSystemFacts;
  const readReboot = deps.readReboot ?? (() => readRebootFacts());
  let config: InventoryConfig | undefined;
  return {
    name: 'inventory',
    kinds: ['host'],
    init(raw: unknown) {
      config = parseCheckConfig('inventory', inventoryConfig, raw);
    },
    async collect(ctx): Promise<CollectResult> {
      if (!config) throw new AgentError(AgentCodes.CHECK_NOT_INITIALIZED, 'check "inventory" used before init()');
      const [facts, reboot] = await Promise.all([readFacts(), readReboot().catch((e: unknown) => {
        ctx.log.warn('pending reboot not readable', { error: (e as Error).message });
        return undefined;
      })]);
      const fields = hostFields(facts, config, reboot);
      return { snapshots: [{ kind: 'host', items: [{ kind: 'host', stateKey: 'host', fields }] }], events: [] };
    },
  };
}
