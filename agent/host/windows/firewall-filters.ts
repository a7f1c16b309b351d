/**
 * Parser for the `firewall-rule-filters` query (queries.ts): the filter objects of Windows Defender
 * Firewall rules — MSFT_NetProtocolPortFilter, MSFT_NetAddressFilter, MSFT_NetApplicationFilter,
 * MSFT_NetServiceFilter, MSFT_NetInterfaceTypeFilter, MSFT_NetNetworkLayerSecurityFilter — as one
 * object `{ Port: [...], Address: [...], Application: [...], Service: [...], InterfaceType: [...],
 * Security: [...], Environment: {...} }`, every filter carrying the InstanceID of its rule. Text in,
 * filters by rule id out, no I/O.
 *
 * Quirks seen in the genuine recording (fixtures/README.md):
 * - list properties (LocalPort, RemoteAddress, …) are a bare string when they hold one value
 *   (`"Any"`, `"5985"`, `"LocalSubnet"`) and, under Windows PowerShell 5.1, an object
 *   `{ "value": [...], "Count": n }` when they hold several; a plain array is accepted too;
 * - keywords stand for sets the firewall resolves itself: `Any`, `LocalSubnet`, `DNS`, `RPC`,
 *   `RPCEPMap`, `IPHTTPSIn`, … (kept as text; agent/checks/firewall/windows-exposure.ts decides);
 * - Program is as configured, often with environment variables (`%SystemRoot%\system32\svchost.exe`),
 *   or `System` (the kernel, pid 4), or `Any`;
 * - InterfaceType is a name (`Any`), or a flag number (0 Any, 1 Wired, 2 Wireless, 4 RemoteAccess)
 *   without -EnumsAsStrings; Authentication 0 NotRequired, 1 Required, 2 NoEncap; Encryption
 *   0 NotRequired, 1 Required, 2 Dynamic; OverrideBlockRules a JSON boolean (authenticated bypass).
 * The recording has no Environment and no Authentication/Encryption/OverrideBlockRules: all optional.
 */
import { PowerShellJsonError, psEnum, psGet, psList, psString, type PsRow } from './powershell-json.js';

export interface RuleFilters {
  /** `Any`, `TCP`, `UDP`, `ICMPv4`, or a protocol number as text (`47`). */
  protocol?: string;
  localPorts?: string[];
  remotePorts?: string[];
  localAddresses?: string[];
  remoteAddresses?: string[];
  /** As configured: `Any`, `System`, or a path that may hold %variables%. */
  program?: string;
  /** A packaged (UWP) app's SID, when the rule is for one. */
  package?: string;
  /** A service short name, `Any`, or `*` (any service). */
  service?: string;
  /** `Any`, or some of Wired, Wireless, RemoteAccess. */
  interfaceTypes?: string[];
  authentication?: 'NotRequired' | 'Required' | 'NoEncap';
  encryption?: 'NotRequired' | 'Required' | 'Dynamic';
  /** Authenticated bypass: this allow rule lets its IPsec-authenticated peers through even where a block rule matches. */
  overrideBlockRules?: boolean;
  remoteUsers?: string;
  remoteMachines?: string;
}

export interface FirewallFilters {
  /** By rule InstanceID (the rule's Name for rules of the local store). */
  byRule: Map<string, RuleFilters>;
  /** SystemRoot, SystemDrive, ProgramFiles, … as the agent's host has them (absent in the recording). */
  environment: Record<string, string>;
  /** Filter objects without an InstanceID. */
  malformed: number;
}

const AUTHENTICATION = { 0: 'NotRequired', 1: 'Required', 2: 'NoEncap' } as const;
const ENCRYPTION = { 0: 'NotRequired', 1: 'Required', 2: 'Dynamic' } as const;
const INTERFACE_TYPE_FLAGS: readonly [number, string][] = [[1, 'Wired'], [2, 'Wireless'], [4, 'RemoteAccess']];

export { psList };

function interfaceTypes(value: unknown): string[] | undefined {
  if (typeof value === 'number') {
    if (value === 0) return ['Any'];
    const names = INTERFACE_TYPE_FLAGS.filter(([bit]) => (value & bit) !== 0).map(([, n]) => n);
    return names.length > 0 ? names : [`unknown (${value})`];
  }
  return psList(value)?.flatMap((v) => v.split(',').map((x) => x.trim())).filter((x) => x !== '');
}

function rows(root: PsRow, name: string): PsRow[] {
  const v = psGet(root, name);
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : typeof v === 'object' && Array.isArray((v as PsRow)['value']) ? (v as PsRow)['value'] as unknown[] : [v];
  return list.filter((r): r is PsRow => typeof r === 'object' && r !== null && !Array.isArray(r));
}

export function parseFirewallFilters(text: string): FirewallFilters {
  const body = text.replace(/^\uFEFF/, '').trim();
  let root: unknown;
  try {
    root = body === '' ? {} : JSON.parse(body);
  } catch (err) {
    throw new PowerShellJsonError(`PowerShell output is not JSON: ${(err as Error).message}`);
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new PowerShellJsonError('firewall rule filters: expected one object with Port, Address, Application, Service lists');
  }
  const r = root as PsRow;
  const byRule = new Map<string, RuleFilters>();
  let malformed = 0;
  const each = (kind: string, read: (row: PsRow, f: RuleFilters) => void) => {
    for (const row of rows(r, kind)) {
      const id = psString(psGet(row, 'InstanceID'));
      if (id === undefined) {
        malformed++;
        continue;
      }
      let f = byRule.get(id);
      if (!f) byRule.set(id, (f = {}));
      read(row, f);
    }
  };
  const set = <K extends keyof RuleFilters>(f: RuleFilters, key: K, value: RuleFilters[K] | undefined) => {
    if (value !== undefined) f[key] = value;
  };
  each('Port', (row, f) => {
    const p = psGet(row, 'Protocol');
    set(f, 'protocol', typeof p === 'number' ? String(p) : psString(p));
    set(f, 'localPorts', psList(psGet(row, 'LocalPort')));
    set(f, 'remotePorts', psList(psGet(row, 'RemotePort')));
  });
  each('Address', (row, f) => {
    set(f, 'localAddresses', psList(psGet(row, 'LocalAddress')));
    set(f, 'remoteAddresses', psList(psGet(row, 'RemoteAddress')));
  });
  each('Application', (row, f) => {
    set(f, 'program', psString(psGet(row, 'Program')));
    const pkg = psString(psGet(row, 'Package'));
    if (pkg !== undefined && pkg.toLowerCase() !== 'any') f.package = pkg;
  });
  each('Service', (row, f) => set(f, 'service', psString(psGet(row, 'Service'))));
  each('InterfaceType', (row, f) => set(f, 'interfaceTypes', interfaceTypes(psGet(row, 'InterfaceType'))));
  each('Security', (row, f) => {
    set(f, 'authentication', psEnum(psGet(row, 'Authentication'), AUTHENTICATION));
    set(f, 'encryption', psEnum(psGet(row, 'Encryption'), ENCRYPTION));
    const override = psGet(row, 'OverrideBlockRules');
    if (typeof override === 'boolean') f.overrideBlockRules = override;
    set(f, 'remoteUsers', psString(psGet(row, 'RemoteUser')));
    set(f, 'remoteMachines', psString(psGet(row, 'RemoteMachine')));
  });
  const environment: Record<string, string> = {};
  const env = psGet(r, 'Environment');
  if (typeof env === 'object' && env !== null && !Array.isArray(env)) {
    for (const [k, v] of Object.entries(env as PsRow)) {
      const s = psString(v);
      if (s !== undefined) environment[k] = s;
    }
  }
  return { byRule, environment, malformed };
}
