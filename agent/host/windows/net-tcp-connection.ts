/**
 * Parser for `Get-NetTCPConnection -State Listen | ConvertTo-Json` (the NetTCPIP module's
 * MSFT_NetTCPConnection objects): listening TCP sockets with the owning process id. Text in,
 * sockets out, no I/O.
 *
 * Read: LocalAddress, LocalPort, OwningProcess, State (an enum: 2 = Listen; the name under
 * `-EnumsAsStrings`), CreationTime (`/Date(ms)/`). Rows in any other state are skipped, so the full
 * `Get-NetTCPConnection` output may be given too. `::` and `0.0.0.0` are the wildcard addresses;
 * Windows lists a dual-stack listener twice, once per family. Get-NetTCPConnection has no process
 * name: the agent's query (queries.ts, `tcp-listeners`) adds ProcessName and Path from Get-Process and
 * Services (the Win32_Service names hosted by the process: null, one string, or an array) as
 * calculated properties; they are read when present. The recording in fixtures/ is of the bare
 * cmdlet, so those three are covered by unit tests only.
 */
import { psDate, psEnum, psGet, psInt, psRows, psString } from './powershell-json.js';

/** MSFT_NetTCPConnection.State. */
const TCP_STATE = {
  1: 'Closed', 2: 'Listen', 3: 'SynSent', 4: 'SynReceived', 5: 'Established', 6: 'FinWait1', 7: 'FinWait2',
  8: 'CloseWait', 9: 'Closing', 10: 'LastAck', 11: 'TimeWait', 12: 'DeleteTCB', 100: 'Bound',
} as const;

export interface WindowsTcpListener {
  ip: string;
  port: number;
  family: 'ipv4' | 'ipv6';
  pid: number;
  /** When the socket was created, if PowerShell printed it. */
  createdAt?: Date;
  /** Get-Process ProcessName (no `.exe`). */
  processName?: string;
  /** Get-Process Path (absent when the agent may not open the process, or for System/Idle). */
  executable?: string;
  /** Windows services running in the owning process, sorted. */
  services?: string[];
}

function names(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return [...new Set(list.map(psString).filter((v): v is string => v !== undefined))].sort();
}

export interface NetTcpParse { listeners: WindowsTcpListener[]; malformed: number }

export function parseNetTcpListeners(text: string): NetTcpParse {
  const listeners: WindowsTcpListener[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const state = psEnum(psGet(row, 'State'), TCP_STATE);
    if (state !== undefined && state !== 'Listen') continue;
    const ip = psString(psGet(row, 'LocalAddress'));
    const port = psInt(psGet(row, 'LocalPort'));
    const pid = psInt(psGet(row, 'OwningProcess'));
    if (state === undefined || ip === undefined || port === undefined || port < 0 || port > 65535 || pid === undefined) {
      malformed++;
      continue;
    }
    const createdAt = psDate(psGet(row, 'CreationTime'));
    const l: WindowsTcpListener = { ip, port, family: ip.includes(':') ? 'ipv6' : 'ipv4', pid };
    if (createdAt) l.createdAt = createdAt;
    const processName = psString(psGet(row, 'ProcessName'));
    const executable = psString(psGet(row, 'Path'));
    const services = names(psGet(row, 'Services'));
    if (processName !== undefined) l.processName = processName;
    if (executable !== undefined) l.executable = executable;
    if (services.length > 0) l.services = services;
    listeners.push(l);
  }
  return { listeners, malformed };
}
