/** inventory: one `host` state item describing the machine (OS, kernel, hardware, addresses). */
import type { Check, CollectResult } from '../check.js';
import { readSystemFacts, type SystemFacts } from '../../host/system.js';
import { createWindowsRebootReader, readRebootFacts, type HostRebootFacts } from '../../host/reboot.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { parseCheckConfig } from '../parse-config.js';
import { inventoryConfig, type InventoryConfig } from './config.js';
import { hostFields, windowsOsFields } from './host-fields.js';
import { runCommand, type CommandId, type Runner } from '../../host/run.js';
import { runPowerShell } from '../../host/windows/powershell.js';
import { parseCurrentVersion, type WindowsOsVersion } from '../../host/windows/os-version.js';

export interface InventoryDeps {
  readFacts: () => Promise<SystemFacts>;
  /** Pending reboot (Linux: files; Windows: registry markers through the runner); undefined elsewhere. */
  readReboot: () => Promise<HostRebootFacts | undefined>;
  /** Windows: the allowlisted runner, for the CurrentVersion query (build and UBR) and the reboot markers. */
  run: Runner<CommandId>;
  platform: NodeJS.Platform;
}

export function createInventoryCheck(deps: Partial<InventoryDeps> = {}): Check {
  const readFacts = deps.readFacts ?? readSystemFacts;
  const run = deps.run ?? runCommand;
  const platform = deps.platform ?? process.platform;
  const readReboot = deps.readReboot ?? (platform === 'win32' ? createWindowsRebootReader(run) : () => readRebootFacts());
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
      if (platform === 'win32') {
        // The build with its update revision; without it the item still goes out with what systeminformation knows.
        const os = await runPowerShell(run, 'os-version').then(parseCurrentVersion).catch((e: unknown): WindowsOsVersion | undefined => {
          ctx.log.warn('windows build not readable', { error: (e as Error).message });
          return undefined;
        });
        if (os) Object.assign(fields, windowsOsFields(os));
      }
      return { snapshots: [{ kind: 'host', items: [{ kind: 'host', stateKey: 'host', fields }] }], events: [] };
    },
  };
}
