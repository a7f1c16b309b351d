/**
 * Parser for `ss -Hlntup` (iproute2): listening TCP sockets and bound UDP sockets with their
 * processes. Text in, sockets out, no I/O.
 *
 * Address forms it handles (all seen in real output, see agent/checks/listeners/fixtures/):
 *   127.0.0.1:41001            IPv4
 *   127.0.0.53%lo:53           bound to a device (SO_BINDTODEVICE): `%iface`
 *   [::1]:41004  [::]:41006    IPv6 in brackets; `[::]` is an IPv6-only socket
 *   [fe80::1]%eth0:123         scoped IPv6
 *   [::ffff:127.0.0.1]:41005   IPv4-mapped IPv6
 *   *:41003                    iproute2 ≥ 4.15: an IPv6 socket on `::` that also takes IPv4
 *   *:22 / :::22               older iproute2: `*` was IPv4 0.0.0.0 and IPv6 had no brackets
 */

export interface SsProcess {
  name: string;
  pid: number;
  fd: number;
}

export interface SsSocket {
  transport: 'tcp' | 'udp';
  /** ss's state column: LISTEN for TCP, UNCONN for UDP. */
  state: string;
  /** Address without brackets or `%iface`; `*` resolved to `::` or `0.0.0.0`; IPv4-mapped → IPv4. */
  ip: string;
  port: number;
  family: 'ipv4' | 'ipv6';
  /** The device the socket is bound to (`%lo`), if any. */
  iface?: string;
  /** Written as `*` by ss: an IPv6 wildcard socket that also accepts IPv4 (not IPV6_V6ONLY). */
  dualStack: boolean;
  /** Was written as an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`). */
  mapped: boolean;
  /** Every process holding the socket (forked servers share one), in ss's order. */
  processes: SsProcess[];
}

export interface SsParse {
  sockets: SsSocket[];
  malformed: number;
}

const LINE = /^(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/;
const USER = /\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)/g;
const MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

export function parseSsProcesses(column: string): SsProcess[] {
  const out: SsProcess[] = [];
  for (const m of column.matchAll(USER)) out.push({ name: m[1]!, pid: Number(m[2]), fd: Number(m[3]) });
  return out;
}

interface Local { host: string; iface?: string; port: number; bracketed: boolean }

function splitLocal(local: string): Local | undefined {
  const colon = local.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = local.slice(colon + 1);
  if (!/^\d+$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  let host = local.slice(0, colon);
  let iface: string | undefined;
  const bracketed = host.startsWith('[');
  if (bracketed) {
    const close = host.indexOf(']');
    if (close < 0) return undefined;
    const after = host.slice(close + 1);
    if (after.startsWith('%')) iface = after.slice(1);
    else if (after.length > 0) return undefined;
    host = host.slice(1, close);
  }
  const pct = host.indexOf('%');
  if (pct >= 0) {
    iface = host.slice(pct + 1);
    host = host.slice(0, pct);
  }
  if (host.length === 0) return undefined;
  return iface ? { host, iface, port, bracketed } : { host, port, bracketed };
}

/** Old iproute2 printed IPv6 addresses without brackets; then `*` meant IPv4 0.0.0.0. */
function isLegacyFormat(locals: readonly Local[]): boolean {
  return locals.some((l) => !l.bracketed && l.host.includes(':'));
}

export function parseSs(text: string): SsParse {
  const rows: { transport: 'tcp' | 'udp'; state: string; local: Local; processes: SsProcess[] }[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    const m = LINE.exec(line.trim());
    const transport = m?.[1];
    const local = m ? splitLocal(m[5]!) : undefined;
    if (!m || !local || (transport !== 'tcp' && transport !== 'udp')) {
      malformed++;
      continue;
    }
    rows.push({ transport, state: m[2]!, local, processes: parseSsProcesses(m[7] ?? '') });
  }
  const legacy = isLegacyFormat(rows.map((r) => r.local));
  const sockets = rows.map(({ transport, state, local, processes }): SsSocket => {
    let ip = local.host;
    let dualStack = false;
    let mapped = false;
    if (ip === '*') {
      ip = legacy ? '0.0.0.0' : '::';
      dualStack = !legacy;
    }
    const v4 = MAPPED.exec(ip);
    if (v4) {
      ip = v4[1]!;
      mapped = true;
    }
    const family = ip.includes(':') ? 'ipv6' : 'ipv4';
    const s: SsSocket = { transport, state, ip, port: local.port, family, dualStack, mapped, processes };
    if (local.iface) s.iface = local.iface;
    return s;
  });
  return { sockets, malformed };
}
