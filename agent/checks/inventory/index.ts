/** inventory: one `host` state item describing the machine (OS, kernel, hardware, addresses). */
import type { Check, CollectResult } from '../check.js';
import { readSystemFacts, type SystemFacts } from '../../host/system.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { parseCheckConfig } from '../parse-config.js';
import { inventoryConfig, type InventoryConfig } from './config.js';
import { hostFields } from './host-fields.js';

export interface InventoryDeps {
  readFacts: () => Promise<SystemFacts>;
}

export function createInventoryCheck(deps: Partial<InventoryDeps> = {}): Check {
  const readFacts = deps.readFacts ?? readSystemFacts;
  let config: InventoryConfig | undefined;
  return {
    name: 'inventory',
    kinds: ['host'],
    init(raw: unknown) {
      config = parseCheckConfig('inventory', inventoryConfig, raw);
    },
    async collect(): Promise<CollectResult> {
      if (!config) throw new AgentError(AgentCodes.CHECK_NOT_INITIALIZED, 'check "inventory" used before init()');
      const fields = hostFields(await readFacts(), config);
      return { snapshots: [{ kind: 'host', items: [{ kind: 'host', stateKey: 'host', fields }] }], events: [] };
    },
  };
}
