/**
 * Parser for macOS `lsof -nP -iTCP -sTCP:LISTEN -iUDP` (also the same lines filtered by `grep LISTEN`):
 * listening TCP and bound UDP sockets with their processes. Text in, sockets out, no I/O.
 *
 * Columns: COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME. NAME forms seen in recordings
 * (fixtures/README.md): `127.0.0.1:27017 (LISTEN)`, `[::1]:6258 (LISTEN)`, `*:8080 (LISTEN)`,
 * `10.0.0.2:2301 (LISTEN)`; UDP sockets have no state. lsof escapes unprintable characters in command
 * names as `\xNN` (`Resilio\x20Sync`); they are decoded. `*` is 0.0.0.0 on an IPv4 socket and :: on
 * an IPv6 one. Several processes sharing one socket (pre-forked nginx) print one line each, with the
 * same DEVICE: they are merged.
 */

/**
 * The one argument list the allowlist lets lsof run with: no name or port lookups (-nP), listening
 * TCP sockets and every UDP socket (connected ones are skipped by the parser). lsof exits 1 when it
 * finds nothing.
 */
export const LSOF_LISTEN_ARGS: readonly string[] = ['-nP', '-iTCP', '-sTCP:LISTEN', '-iUDP'];

export interface LsofProcess { name: string; pid: number; fd: string; user: string }

export interface LsofSocket {
  transport: 'tcp' | 'udp';
  ip: string;
  port: number;
  family: 'ipv4' | 'ipv6';
  /** The kernel socket address lsof prints (DEVICE), which identifies one socket. */
  device: string;
  processes: LsofProcess[];
}

export interface LsofParse { sockets: LsofSocket[]; malformed: number }

function decodeName(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function address(name: string, family: 'ipv4' | 'ipv6'): { ip: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^\s:]+|\*):(\d+)$/.exec(name);
  if (!m) return undefined;
  const host = m[1]!;
  const ip = host === '*' ? (family === 'ipv6' ? '::' : '0.0.0.0') : host.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const port = Number(m[2]);
  return port >= 0 && port <= 65535 ? { ip, port } : undefined;
}

export function parseLsof(text: string): LsofParse {
  const byKey = new Map<string, LsofSocket>();
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('COMMAND ')) continue;
    // COMMAND has no spaces (lsof escapes them); NAME may end with " (LISTEN)".
    const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(IPv4|IPv6)\s+(\S+)\s+(\S+)\s+(TCP|UDP)\s+(\S+)(?:\s+\((\w+)\))?$/.exec(line);
    if (!m) { malformed++; continue; }
    const [, command, pid, user, fd, type, device, , node, name, state] = m;
    const transport = node === 'TCP' ? 'tcp' : 'udp';
    if (transport === 'tcp' && state !== 'LISTEN') continue; // connections, not listeners
    if (name!.includes('->')) continue; // a connected UDP socket
    const family = type === 'IPv6' ? 'ipv6' : 'ipv4';
    const addr = address(name!, family);
    if (!addr) { malformed++; continue; }
    const key = `${transport} ${addr.ip} ${addr.port} ${device}`;
    const proc: LsofProcess = { name: decodeName(command!), pid: Number(pid), fd: fd!, user: user! };
    const seen = byKey.get(key);
    if (seen) { if (!seen.processes.some((p) => p.pid === proc.pid)) seen.processes.push(proc); continue; }
    byKey.set(key, { transport, ...addr, family, device: device!, processes: [proc] });
  }
  return { sockets: [...byKey.values()], malformed };
}
