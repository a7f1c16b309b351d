/** Parsed sockets + process facts → `listener` state items. Pure. */
import type { Fields } from '../../../common/finding.js';
import type { Observation } from '../check.js';
import type { SsProcess, SsSocket } from '../../host/linux/ss.js';
import type { ProcessFacts } from '../../host/proc.js';
import type { Accounts } from '../../host/accounts.js';
import type { ListenersConfig } from './config.js';
import { exposureOf } from './exposure.js';

/** `tcp:0.0.0.0:22`, `udp:::5353`, `udp:127.0.0.53%lo:53` (the device only when bound to one). */
export function listenerKey(s: SsSocket): string {
  return `${s.transport}:${s.ip}${s.iface ? `%${s.iface}` : ''}:${s.port}`;
}

/**
 * Merges sockets with the same key (SO_REUSEPORT servers open one per worker) and keeps the
 * configured transports and scopes.
 */
export function mergeSockets(sockets: readonly SsSocket[], config: ListenersConfig): SsSocket[] {
  const byKey = new Map<string, SsSocket>();
  for (const s of sockets) {
    if (!config.transports.includes(s.transport)) continue;
    if (!config.scopes.includes(exposureOf(s).scope)) continue;
    const key = listenerKey(s);
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...s, processes: [...s.processes] });
    else for (const p of s.processes) if (!seen.processes.some((q) => q.pid === p.pid)) seen.processes.push(p);
  }
  return [...byKey.values()];
}

/** The process a listener is reported with: the lowest pid (a pre-forking server's parent). */
export function mainProcess(processes: readonly SsProcess[]): SsProcess | undefined {
  return [...processes].sort((a, b) => a.pid - b.pid)[0];
}

export function listenerFields(s: SsSocket, facts: ProcessFacts | undefined, accounts: Accounts): Fields {
  const exposure = exposureOf(s);
  const f: Fields = {
    'server.ip': s.ip,
    'server.port': s.port,
    'network.transport': s.transport,
    'network.type': s.family,
    'exposure.bind_scope': exposure.scope,
    'exposure.verdict': exposure.verdict,
    'exposure.reason': exposure.reason,
  };
  const p = mainProcess(s.processes);
  if (p) {
    f['process.pid'] = p.pid;
    f['process.name'] = p.name;
  }
  if (facts?.executable) f['process.executable'] = facts.executable;
  if (facts?.uid !== undefined) {
    f['user.id'] = String(facts.uid);
    const name = accounts.userName(facts.uid);
    if (name) f['user.name'] = name;
  }
  if (facts?.unit) f['service.name'] = facts.unit;
  return f;
}

export function listenerItem(s: SsSocket, facts: ProcessFacts | undefined, accounts: Accounts): Observation {
  return { kind: 'listener', stateKey: listenerKey(s), fields: listenerFields(s, facts, accounts) };
}
