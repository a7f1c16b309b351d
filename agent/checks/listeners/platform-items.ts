/** Listeners on Windows (Get-NetTCPConnection) and macOS (lsof) → `listener` state items. Pure. */
import type { Fields } from '../../../common/finding.js';
import type { Observation } from '../check.js';
import { NO_ACCOUNTS } from '../../host/accounts.js';
import type { LsofSocket } from '../../host/darwin/lsof.js';
import type { SsSocket } from '../../host/linux/ss.js';
import type { WindowsTcpListener } from '../../host/windows/net-tcp-connection.js';
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

export interface WindowsExposure { verdict: 'reachable' | 'unknown'; reason: string }

/** Windows: TCP only (no UDP parser: see README). Exposure beyond loopback comes from `beyondLoopback`. */
export function windowsItems(listeners: readonly WindowsTcpListener[], config: ListenersConfig, beyondLoopback: WindowsExposure): Observation[] {
  if (!config.transports.includes('tcp')) return [];
  const byKey = new Map<string, Observation>();
  for (const l of listeners) {
    const s = { transport: 'tcp', ip: l.ip, port: l.port, family: l.family, dualStack: false } as const;
    const exposure = exposureOf(s);
    if (!config.scopes.includes(exposure.scope)) continue;
    const key = listenerKey({ ...s, state: 'LISTEN', mapped: false, processes: [] });
    if (byKey.has(key)) continue;
    const verdict = exposure.scope === 'loopback' ? exposure : beyondLoopback;
    const f: Fields = {
      'server.ip': l.ip, 'server.port': l.port, 'network.transport': 'tcp', 'network.type': l.family,
      'exposure.bind_scope': exposure.scope, 'exposure.verdict': verdict.verdict, 'exposure.reason': verdict.reason,
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
