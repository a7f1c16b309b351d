/**
 * Parser for `Get-NetTCPConnection -State Listen | ConvertTo-Json` (the NetTCPIP module's
 * MSFT_NetTCPConnection objects): listening TCP sockets with the owning process id. Text in,
 * sockets out, no I/O.
 *
 * Read: LocalAddress, LocalPort, OwningProcess, State (an enum: 2 = Listen; the name under
 * `-EnumsAsStrings`), CreationTime (`/Date(ms)/`). Rows in any other state are skipped, so the full
 * `Get-NetTCPConnection` output may be given too. `::` and `0.0.0.0` are the wildcard addresses;
 * Windows lists a dual-stack listener twice, once per family. There is no process name here: it
 * comes from Get-Process by OwningProcess.
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
    listeners.push({ ip, port, family: ip.includes(':') ? 'ipv6' : 'ipv4', pid, ...(createdAt ? { createdAt } : {}) });
  }
  return { listeners, malformed };
}
