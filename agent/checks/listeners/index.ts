/**
 * listeners: every listening TCP and bound UDP socket, with its process, as one `listener` snapshot
 * (Linux: ss; macOS: lsof; Windows: Get-NetTCPConnection and Get-NetUDPEndpoint).
 */
import type { Check, CollectResult } from '../check.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { loadAccounts, type Accounts } from '../../host/accounts.js';
import { parseSs } from '../../host/linux/ss.js';
import { readProcessFacts, type ProcessFacts } from '../../host/proc.js';
import { runCommand, type CommandId, type Runner } from '../../host/run.js';
import { evaluateExposure, type ListenerAddress } from '../firewall/exposure.js';
import { readLinuxFirewall, type LinuxFirewall } from '../firewall/state.js';
import { parseCheckConfig } from '../parse-config.js';
import { listenersConfig, type ListenersConfig } from './config.js';
import { listenerItem, mainProcess, mergeSockets } from './listener-items.js';
import { darwinItems, windowsItems } from './platform-items.js';
import { LSOF_LISTEN_ARGS, parseLsof } from '../../host/darwin/lsof.js';
import { runPowerShell } from '../../host/windows/powershell.js';
import { parseNetTcpListeners } from '../../host/windows/net-tcp-connection.js';
import { parseNetUdpEndpoints } from '../../host/windows/net-udp-endpoint.js';
import { readWindowsFirewall, type WindowsFirewall } from '../firewall/windows.js';
import { windowsListenerExposure } from '../firewall/windows-exposure.js';
import type { Exposure } from '../firewall/exposure.js';
import { darwinExposure, readDarwinFirewall, type DarwinFirewall } from '../firewall/darwin.js';

export interface ListenersDeps {
  run: Runner<CommandId>;
  processFacts: (pid: number) => Promise<ProcessFacts>;
  accounts: () => Promise<Accounts>;
  platform: NodeJS.Platform;
  /** The host firewall, for the exposure verdict (the firewall check's reader). */
  firewall: () => Promise<LinuxFirewall>;
  /** Windows Defender Firewall, for the exposure verdict on Windows. */
  windowsFirewall: () => Promise<WindowsFirewall>;
  /** macOS application firewall, for the exposure verdict on macOS. */
  darwinFirewall: () => Promise<DarwinFirewall>;
}

export function createListenersCheck(deps: Partial<ListenersDeps> = {}): Check {
  const run = deps.run ?? runCommand;
  const processFacts = deps.processFacts ?? ((pid: number) => readProcessFacts(pid));
  const accounts = deps.accounts ?? (() => loadAccounts());
  const platform = deps.platform ?? process.platform;
  const firewall = deps.firewall ?? (() => readLinuxFirewall(run));
  const windowsFirewall = deps.windowsFirewall ?? (() => readWindowsFirewall(run, 'exposure'));
  const darwinFirewall = deps.darwinFirewall ?? (() => readDarwinFirewall(run));
  let config: ListenersConfig | undefined;
  return {
    name: 'listeners',
    kinds: ['listener'],
    init(raw: unknown) {
      config = parseCheckConfig('listeners', listenersConfig, raw);
    },
    async collect(ctx): Promise<CollectResult> {
      if (!config) throw new AgentError(AgentCodes.CHECK_NOT_INITIALIZED, 'check "listeners" used before init()');
      if (platform === 'win32') {
        const wants = (t: 'tcp' | 'udp') => config!.transports.includes(t);
        const [tcp, udp, fw] = await Promise.all([
          wants('tcp') ? runPowerShell(run, 'tcp-listeners').then(parseNetTcpListeners) : { listeners: [], malformed: 0 },
          wants('udp') ? runPowerShell(run, 'udp-listeners').then(parseNetUdpEndpoints) : { endpoints: [], malformed: 0 },
          windowsFirewall().catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
        ]);
        if (tcp.malformed > 0) ctx.log.warn('unparsed Get-NetTCPConnection rows', { rows: tcp.malformed });
        if (udp.malformed > 0) ctx.log.warn('unparsed Get-NetUDPEndpoint rows', { rows: udp.malformed });
        const exposure = fw instanceof Error
          ? (): Exposure => ({ verdict: 'unknown', reason: `cannot read Windows Firewall: ${fw.message}` })
          : (l: Parameters<typeof windowsListenerExposure>[0]) => windowsListenerExposure(l, fw);
        return { snapshots: [{ kind: 'listener', items: windowsItems({ tcp: tcp.listeners, udp: udp.endpoints }, config, exposure) }], events: [] };
      }
      if (platform === 'darwin') {
        const { stdout } = await run('lsof', LSOF_LISTEN_ARGS, { okExitCodes: [1] });
        const parsed = parseLsof(stdout);
        if (parsed.malformed > 0) ctx.log.warn('unparsed lsof lines', { lines: parsed.malformed });
        const items = darwinItems(parsed.sockets, config);
        // Beyond loopback, the verdict is the application firewall's (agent/checks/firewall/darwin.ts).
        const fw = await darwinFirewall().catch((e: unknown) => e as Error);
        for (const item of items) {
          if (item.fields['exposure.bind_scope'] === 'loopback') continue;
          const e = fw instanceof Error
            ? { verdict: 'unknown', reason: `cannot read the application firewall: ${fw.message}` }
            : darwinExposure(fw, { transport: item.fields['network.transport'] as 'tcp' | 'udp', port: Number(item.fields['server.port']), processName: item.fields['process.name'] as string | undefined });
          item.fields['exposure.verdict'] = e.verdict;
          item.fields['exposure.reason'] = e.reason;
        }
        return { snapshots: [{ kind: 'listener', items }], events: [] };
      }
      if (platform !== 'linux') {
        throw new AgentError(AgentCodes.CHECK_UNSUPPORTED_PLATFORM, `check "listeners" cannot list sockets on ${platform} yet`);
      }
      const [{ stdout }, users, fw] = await Promise.all([run('ss', ['-Hlntup']), accounts(), firewall()]);
      const parsed = parseSs(stdout);
      if (parsed.malformed > 0) ctx.log.warn('unparsed ss lines', { lines: parsed.malformed });
      const sockets = mergeSockets(parsed.sockets, config);
      const pids = new Set(sockets.map((s) => mainProcess(s.processes)?.pid).filter((p): p is number => p !== undefined));
      const facts = new Map(await Promise.all([...pids].map(async (pid) => [pid, await processFacts(pid)] as const)));
      const items = sockets.map((s) => {
        const pid = mainProcess(s.processes)?.pid;
        const item = listenerItem(s, pid === undefined ? undefined : facts.get(pid), users);
        // Beyond loopback, the verdict is the firewall's (agent/checks/firewall/exposure.ts).
        const scope = item.fields['exposure.bind_scope'] as ListenerAddress['scope'];
        if (scope !== 'loopback') {
          const e = evaluateExposure({ ip: s.ip, port: s.port, transport: s.transport, family: s.family, dualStack: s.dualStack, scope, ...(s.iface ? { iface: s.iface } : {}) }, fw);
          item.fields['exposure.verdict'] = e.verdict;
          item.fields['exposure.reason'] = e.reason;
        }
        return item;
      });
      return { snapshots: [{ kind: 'listener', items }], events: [] };
    },
  };
}
