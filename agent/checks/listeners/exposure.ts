/**
 * How far a bound socket reaches, from its address alone. A later step adds firewall analysis; until
 * then anything not on loopback is `unknown`, never `exposed`: we do not claim what we did not check.
 */
import type { SsSocket } from '../../host/linux/ss.js';

export type BindScope = 'loopback' | 'all' | 'specific';
export type Verdict = 'local-only' | 'unknown';

export interface Exposure {
  scope: BindScope;
  verdict: Verdict;
  reason: string;
}

const NO_FIREWALL = 'firewall not analysed yet';

export function isLoopbackIp(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

export function exposureOf(s: Pick<SsSocket, 'ip' | 'iface' | 'family' | 'dualStack'>): Exposure {
  if (s.iface === 'lo') {
    return { scope: 'loopback', verdict: 'local-only', reason: `bound to the loopback interface (lo), address ${s.ip}: reachable only from this host` };
  }
  if (isLoopbackIp(s.ip)) {
    return { scope: 'loopback', verdict: 'local-only', reason: `listens on loopback address ${s.ip}: reachable only from this host` };
  }
  if (s.ip === '0.0.0.0' || s.ip === '::') {
    if (s.iface) {
      return { scope: 'specific', verdict: 'unknown', reason: `listens on all addresses of interface ${s.iface} only; ${NO_FIREWALL}` };
    }
    const which = s.dualStack ? 'all IPv4 and IPv6 addresses' : s.family === 'ipv4' ? 'all IPv4 addresses (0.0.0.0)' : 'all IPv6 addresses (::, IPv6 only)';
    return { scope: 'all', verdict: 'unknown', reason: `listens on ${which}; ${NO_FIREWALL}` };
  }
  const on = s.iface ? `${s.ip} on interface ${s.iface}` : s.ip;
  return { scope: 'specific', verdict: 'unknown', reason: `listens on ${on} only; ${NO_FIREWALL}` };
}
