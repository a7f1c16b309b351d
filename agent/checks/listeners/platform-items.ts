/** Listeners on Windows (Get-NetTCPConnection, Get-NetUDPEndpoint) and macOS (lsof) → `listener` state items. Pure. */
import type { Fields } from '../../../common/finding.js';
import type { Observation } from '../check.js';
import { NO_ACCOUNTS } from '../../host/accounts.js';
import type { LsofSocket } from '../../host/darwin/lsof.js';
import type { SsSocket } from '../../host/linux/ss.js';
import type { WindowsEndpoint } from '../../host/windows/net-tcp-connection.js';
import type { Exposure } from '../firewall/exposure.js';
import type { WindowsListener } from '../firewall/windows-exposure.js';
import type { ListenersConfig } from './config.js';
import { exposureOf } from './exposure.js';
import { listenerItem, listenerKey, mainProcess, mergeSockets } from './listener-items.js';

/** lsof sockets in the shape the Linux path merges and reports (no interface binding, no dual-stack flag). */
export function lsofAsSs(s: LsofSocket): SsSocket {
  return {
    transport: s.transport, state: s.transport === 'tcp' ? 'LISTEN' : 'UNCONN', ip: s.ip, port: s.port, family: s.family,
    dualStack: false, mapped: false, processes: s.processes.map((p) => ({ name: p.name, pid: p.pid, fd: Number.parseInt(p.fd, 10) || 0 })),
  };
}

/** macOS: address, process (lsof's name, at most 9 characters unless lsof was told otherwise) and its user. */
export function darwinItems(sockets: readonly LsofSocket[], config: ListenersConfig): Observation[] {
  const users = new Map(sockets.flatMap((s) => s.processes.map((p) => [p.pid, p.user] as const)));
  return mergeSockets(sockets.map(lsofAsSs), config).map((s) => {
    const item = listenerItem(s, undefined, NO_ACCOUNTS);
    const pid = mainProcess(s.processes)?.pid;
    const user = pid === undefined ? undefined : users.get(pid);
    if (user) item.fields['user.name'] = user;
    return item;
  });
}

/**
 * Windows: listening TCP (Get-NetTCPConnection) and bound UDP (Get-NetUDPEndpoint) sockets. Loopback is
 * local-only; any other socket gets `exposure(listener)` (the Windows Firewall evaluator).
 */
export function windowsItems(
  sockets: { tcp: readonly WindowsEndpoint[]; udp: readonly WindowsEndpoint[] },
  config: ListenersConfig,
  exposure: (l: WindowsListener) => Exposure,
): Observation[] {
  const byKey = new Map<string, Observation>();
  const all = [...sockets.tcp.map((e) => ['tcp', e] as const), ...sockets.udp.map((e) => ['udp', e] as const)];
  for (const [transport, l] of all) {
    if (!config.transports.includes(transport)) continue;
    const s = { transport, ip: l.ip, port: l.port, family: l.family, dualStack: false } as const;
    const bind = exposureOf(s);
    if (!config.scopes.includes(bind.scope)) continue;
    const key = listenerKey({ ...s, state: transport === 'tcp' ? 'LISTEN' : 'UNCONN', mapped: false, processes: [] });
    // Several processes can share a UDP port (SO_REUSEADDR): as on Linux, the lowest pid is reported.
    const seen = byKey.get(key);
    if (seen && (seen.fields['process.pid'] as number) <= l.pid) continue;
    const verdict = bind.scope === 'loopback' ? bind : exposure({
      ip: l.ip, port: l.port, transport, family: l.family, pid: l.pid, scope: bind.scope,
      ...(l.executable !== undefined ? { executable: l.executable } : {}), ...(l.services ? { services: l.services } : {}),
    });
    const f: Fields = {
      'server.ip': l.ip, 'server.port': l.port, 'network.transport': transport, 'network.type': l.family,
      'exposure.bind_scope': bind.scope, 'exposure.verdict': verdict.verdict, 'exposure.reason': verdict.reason,
      'process.pid': l.pid,
    };
    if (l.processName !== undefined) f['process.name'] = l.processName;
    if (l.executable !== undefined) f['process.executable'] = l.executable;
    if (l.services?.length === 1) f['service.name'] = l.services[0]!;
    if (l.services && l.services.length > 0) f['service.names'] = l.services;
    byKey.set(key, { kind: 'listener', stateKey: key, fields: f });
  }
  return [...byKey.values()];
}
