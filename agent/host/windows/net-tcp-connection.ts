/**
 * Parser for `Get-NetTCPConnection -State Listen | ConvertTo-Json` (the NetTCPIP module's
 * MSFT_NetTCPConnection objects): listening TCP sockets with the owning process id. Text in,
 * sockets out, no I/O.
 *
 * Read: LocalAddress, LocalPort, OwningProcess, State (an enum: 2 = Listen; the name under
 * `-EnumsAsStrings`), CreationTime (`/Date(ms)/`). Rows in any other state are skipped, so the full
 * `Get-NetTCPConnection` output may be given too. `::` and `0.0.0.0` are the wildcard addresses;
 * a service listening on both families with two sockets is listed twice, once per family, while a
 * dual-mode socket (IPV6_V6ONLY off) is listed once, as `::`. Get-NetTCPConnection has no process
 * name: the agent's query (queries.ts, `tcp-listeners`) adds ProcessName and Path from Get-Process and
 * Services (the Win32_Service names hosted by the process: null, one string, or an array) as
 * calculated properties; they are read when present. The recording in fixtures/ is of the bare
 * cmdlet, so those three are covered by unit tests only.
 */
import { psDate, psEnum, psGet, psInt, psList, psRows, psString, type PsRow } from './powershell-json.js';

/** MSFT_NetTCPConnection.State. */
const TCP_STATE = {
  1: 'Closed', 2: 'Listen', 3: 'SynSent', 4: 'SynReceived', 5: 'Established', 6: 'FinWait1', 7: 'FinWait2',
  8: 'CloseWait', 9: 'Closing', 10: 'LastAck', 11: 'TimeWait', 12: 'DeleteTCB', 100: 'Bound',
} as const;

/** A listening TCP socket. */
export type WindowsTcpListener = WindowsEndpoint;

function names(value: unknown): string[] {
  return [...new Set(psList(value) ?? [])].sort();
}

/** A socket's address, pid and the process columns the agent's queries add; shared with net-udp-endpoint.ts. */
export interface WindowsEndpoint {
  ip: string;
  port: number;
  family: 'ipv4' | 'ipv6';
  pid: number;
  createdAt?: Date;
  processName?: string;
  executable?: string;
  services?: string[];
}

/**
 * LocalAddress, LocalPort, OwningProcess, CreationTime and the calculated ProcessName, Path and
 * Services of one row (the NetTCPIP module prints them alike for TCP and UDP); undefined when the
 * address, port or pid is missing or out of range.
 */
export function readEndpoint(row: PsRow): WindowsEndpoint | undefined {
  const ip = psString(psGet(row, 'LocalAddress'));
  const port = psInt(psGet(row, 'LocalPort'));
  const pid = psInt(psGet(row, 'OwningProcess'));
  if (ip === undefined || port === undefined || port < 0 || port > 65535 || pid === undefined || pid < 0) return undefined;
  const l: WindowsEndpoint = { ip, port, family: ip.includes(':') ? 'ipv6' : 'ipv4', pid };
  const createdAt = psDate(psGet(row, 'CreationTime'));
  if (createdAt) l.createdAt = createdAt;
  const processName = psString(psGet(row, 'ProcessName'));
  const executable = psString(psGet(row, 'Path'));
  const services = names(psGet(row, 'Services'));
  if (processName !== undefined) l.processName = processName;
  if (executable !== undefined) l.executable = executable;
  if (services.length > 0) l.services = services;
  return l;
}

export interface NetTcpParse { listeners: WindowsTcpListener[]; malformed: number }

export function parseNetTcpListeners(text: string): NetTcpParse {
  const listeners: WindowsTcpListener[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const state = psEnum(psGet(row, 'State'), TCP_STATE);
    if (state !== undefined && state !== 'Listen') continue;
    const l = state === undefined ? undefined : readEndpoint(row);
    if (l === undefined) {
      malformed++;
      continue;
    }
    listeners.push(l);
  }
  return { listeners, malformed };
}
