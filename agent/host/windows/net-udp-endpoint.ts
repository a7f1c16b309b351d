/**
 * Parser for `Get-NetUDPEndpoint | ConvertTo-Json` (the NetTCPIP module's MSFT_NetUDPEndpoint
 * objects): bound UDP sockets with the owning process id. Text in, sockets out, no I/O.
 *
 * Read: LocalAddress, LocalPort, OwningProcess, CreationTime, plus the ProcessName, Path and Services
 * the agent's query (queries.ts, `udp-listeners`) adds, exactly as for Get-NetTCPConnection
 * (net-tcp-connection.ts `readEndpoint`). UDP has no listening state: every bound endpoint is
 * reported, as `ss -lu` does. `0.0.0.0` and `::` are the wildcard addresses.
 *
 * No genuine recording of this cmdlet's JSON was found (fixtures/README.md): the parser is tested
 * on the genuine Get-NetTCPConnection recording, whose LocalAddress/LocalPort/OwningProcess/
 * CreationTime properties have the same names and types (Microsoft's cmdlet reference), and on
 * hand-written rows.
 */
import { psRows } from './powershell-json.js';
import { readEndpoint, type WindowsEndpoint } from './net-tcp-connection.js';

/** A bound UDP socket. */
export type WindowsUdpEndpoint = WindowsEndpoint;

export interface NetUdpParse { endpoints: WindowsUdpEndpoint[]; malformed: number }

export function parseNetUdpEndpoints(text: string): NetUdpParse {
  const endpoints: WindowsUdpEndpoint[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const e = readEndpoint(row);
    if (e === undefined) malformed++;
    else endpoints.push(e);
  }
  return { endpoints, malformed };
}
