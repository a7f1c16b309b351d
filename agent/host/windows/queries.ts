/**
 * The fixed PowerShell queries the agent may run on Windows: id → the exact script text. Callers name
 * an id (`runPowerShell(run, 'hotfixes')`); they never pass script text, and the command allowlist
 * (agent/host/run.ts) accepts `powershell` only with one of the argument lists built here.
 *
 * Every query is read-only (Get-* cmdlets, Test-Path, Select-Object, Sort-Object, ForEach-Object over
 * their results, and the Windows Update Agent's searcher, which only reads history and searches), starts
 * by switching the console to UTF-8 without a BOM (so Vietnamese program and user names survive the
 * pipe), and ends in `| ConvertTo-Json -Depth 4 -Compress`: the parsers beside this file read JSON,
 * never localised text. Scripts use single quotes only: a double quote would be mangled by
 * powershell.exe's command-line parsing.
 */

/** Windows PowerShell 5.1, present on every supported Windows (10, 11, Server 2016+). */
export const POWERSHELL_PATH = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';

const PRELUDE = "[Console]::OutputEncoding = [System.Text.UTF8Encoding]::new($false); $ErrorActionPreference = 'Stop'; ";
const JSON_TAIL = ' | ConvertTo-Json -Depth 4 -Compress';

const UNINSTALL_KEYS = [
  "'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'",
  "'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'",
  "'Registry::HKEY_USERS\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'",
].join(', ');

/** Processes by id and the services each hosts: the tables the listener queries join with. */
const PROCESS_TABLES = '$procs = @{}; Get-Process | ForEach-Object { $procs[[int]$_.Id] = $_ }; '
  + '$svcs = @{}; Get-CimInstance -ClassName Win32_Service | ForEach-Object { $svcs[[int]$_.ProcessId] += @($_.Name) }; ';
/**
 * The owning process's name and path. Path (MainModule.FileName) throws for pid 4, protected processes
 * (wininit, services, a RunAsPPL lsass: all listeners) and processes that have exited since; caught, so
 * that one such socket prints a null Path instead of failing the query under 'Stop'.
 */
const PROCESS_COLUMNS = "@{ Name = 'ProcessName'; Expression = { try { $procs[[int]$_.OwningProcess].ProcessName } catch { $null } } }, "
  + "@{ Name = 'Path'; Expression = { try { $procs[[int]$_.OwningProcess].Path } catch { $null } } }, "
  + "@{ Name = 'Services'; Expression = { $svcs[[int]$_.OwningProcess] } }";

/**
 * Enabled inbound rules as enforced: the ActiveStore holds local, group-policy and dynamic rules.
 * Filtered with Where-Object rather than -Direction/-Enabled: a CIM cmdlet's query parameter that
 * matches nothing is an ObjectNotFound error, fatal under 'Stop', and a host may have no enabled
 * inbound rule at all (then the default inbound action decides everything).
 */
const INBOUND_RULES = "Get-NetFirewallRule -PolicyStore ActiveStore | Where-Object -FilterScript { $_.Direction -eq 'Inbound' -and $_.Enabled -eq 'True' }";
/** One kind of rule filter of the ActiveStore, only those of the rules in $ids, ready for the columns. */
const FILTER = (kind: string) => `Get-NetFirewall${kind}Filter -All -PolicyStore ActiveStore | Where-Object -FilterScript $keep | Select-Object`;

export const POWERSHELL_QUERIES = {
  /** OS build and release: parsed by os-version.ts. */
  'os-version':
    "Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'"
    + ' | Select-Object CurrentBuild, UBR, DisplayVersion, EditionID, ProductName, InstallationType',
  /**
   * Installed programs from the machine (64- and 32-bit) and per-user Uninstall keys: parsed by
   * uninstall-keys.ts. A user hive is only there while loaded (logged-on users and services).
   */
  programs:
    `Get-ItemProperty -Path ${UNINSTALL_KEYS} -ErrorAction SilentlyContinue`
    + ' | Select-Object DisplayName, DisplayVersion, Publisher, InstallDate, EstimatedSize, InstallSource, UninstallString',
  /**
   * Component-based servicing updates (Win32_QuickFixEngineering): parsed by hotfix.ts. InstalledOn is
   * WMI's own string (M/d/yyyy), not Get-HotFix's InstalledOn property, which parses it with the
   * host's culture (an error on d/M/yyyy cultures such as vi-VN, fatal under 'Stop') into local time.
   */
  hotfixes: "Get-HotFix | Select-Object HotFixID, Description, @{ Name = 'InstalledOn'; Expression = { $_.psBase.Properties['InstalledOn'].Value } }, InstalledBy",
  /**
   * Listening TCP sockets with the owning process (Get-Process: name, path) and the services it hosts
   * (Win32_Service.ProcessId, several for a shared svchost): parsed by net-tcp-connection.ts.
   */
  'tcp-listeners':
    `${PROCESS_TABLES}Get-NetTCPConnection -State Listen | Select-Object LocalAddress, LocalPort, OwningProcess, State, CreationTime, ${PROCESS_COLUMNS}`,
  /**
   * Domain/Private/Public profiles, enabled, default actions and whether inbound allow rules apply at
   * all (AllowInboundRules), from the ActiveStore (local settings merged with group policy: what is
   * enforced): parsed by firewall.ts.
   */
  'firewall-profiles':
    'Get-NetFirewallProfile -PolicyStore ActiveStore | Select-Object Name, Enabled, DefaultInboundAction, DefaultOutboundAction, AllowInboundRules',
  /** Enabled inbound rules of the ActiveStore (their filters: `firewall-rule-filters`): parsed by firewall.ts. */
  'firewall-rules':
    `${INBOUND_RULES} | Select-Object InstanceID, Name, DisplayName, DisplayGroup, Enabled, Direction, Action, EdgeTraversalPolicy, `
    + "@{ Name = 'Profiles'; Expression = { $_.Profile.ToString() } }",
  /**
   * The port, address, application, service, interface-type and security filters of the enabled
   * inbound rules, each fetched once with -All and kept when its InstanceID is one of those rules
   * (the per-rule association cmdlets cost a CIM round trip per rule), and the environment the
   * Program paths are expanded with: parsed by firewall-filters.ts. The folders come from .NET
   * (GetFolderPath: the Windows directory and the shell's known folders), not from `$env:`:
   * powershell.exe runs with the agent's fixed environment (run.ts), which has no ProgramFiles,
   * ProgramData or SystemDrive and a SystemRoot that is always C:\\Windows.
   */
  'firewall-rule-filters':
    `$ids = @{}; ${INBOUND_RULES} | ForEach-Object { $ids[$_.InstanceID] = 1 }; $keep = { $_.InstanceID -and $ids.ContainsKey($_.InstanceID) }; `
    + '[ordered]@{ '
    + `Port = @(${FILTER('Port')} InstanceID, Protocol, LocalPort, RemotePort, IcmpType); `
    + `Address = @(${FILTER('Address')} InstanceID, LocalAddress, RemoteAddress); `
    + `Application = @(${FILTER('Application')} InstanceID, Program, Package); `
    + `Service = @(${FILTER('Service')} InstanceID, Service); `
    + `InterfaceType = @(${FILTER('InterfaceType')} InstanceID, InterfaceType); `
    + `Security = @(${FILTER('Security')} InstanceID, Authentication, Encryption, OverrideBlockRules, RemoteUser, RemoteMachine); `
    + "Environment = [ordered]@{ SystemRoot = [Environment]::GetFolderPath('Windows'); "
    + "SystemDrive = [IO.Path]::GetPathRoot([Environment]::GetFolderPath('Windows')).TrimEnd('\\'); "
    + "ProgramFiles = [Environment]::GetFolderPath('ProgramFiles'); 'ProgramFiles(x86)' = [Environment]::GetFolderPath('ProgramFilesX86'); "
    + "ProgramData = [Environment]::GetFolderPath('CommonApplicationData') } }",
  /** Bound UDP sockets with the owning process and its services, like `tcp-listeners`: parsed by net-udp-endpoint.ts. */
  'udp-listeners':
    `${PROCESS_TABLES}Get-NetUDPEndpoint | Select-Object LocalAddress, LocalPort, OwningProcess, CreationTime, ${PROCESS_COLUMNS}`,
  /**
   * The network category (Public, Private, DomainAuthenticated) of each connected network, which
   * decides the firewall profile of its interface, with the interface's addresses: parsed by
   * net-connection-profile.ts. No connected network prints nothing.
   */
  'connection-profiles':
    'Get-NetConnectionProfile -ErrorAction SilentlyContinue | Select-Object Name, InterfaceAlias, InterfaceIndex, NetworkCategory, IPv4Connectivity, IPv6Connectivity, '
    + "@{ Name = 'IPAddresses'; Expression = { @(Get-NetIPAddress -InterfaceIndex $_.InterfaceIndex -ErrorAction SilentlyContinue | ForEach-Object { $_.IPAddress }) } }",

  // --- Windows Update history and pending reboot (packages and inventory checks) ---
  /**
   * The Windows Update Agent's history, newest 10,000 entries, oldest first: parsed by
   * update-history.ts. The COM object is made with [Activator] (read-only searcher, no New-Object).
   * Date is written with .NET's `u` format: WUA's value is UTC, and ConvertTo-Json would take it for
   * local time. Operation and ResultCode stay numbers (COM enums).
   */
  'update-history':
    "$searcher = [Activator]::CreateInstance([Type]::GetTypeFromProgID('Microsoft.Update.Session')).CreateUpdateSearcher(); "
    + '$count = [Math]::Min($searcher.GetTotalHistoryCount(), 10000); '
    + '$(if ($count -gt 0) { $searcher.QueryHistory(0, $count) }) | Sort-Object -Property Date'
    + " | Select-Object @{ Name = 'Date'; Expression = { $_.Date.ToString('u') } }, Operation, ResultCode, Title, "
    + "@{ Name = 'UpdateID'; Expression = { $_.UpdateIdentity.UpdateID } }, ClientApplicationID, SupportUrl",
  /**
   * Updates the configured update source (Windows Update or WSUS) offers and the host has not
   * installed: parsed by pending-updates.ts. Asks the source over the network: only meaningful when
   * the host reaches it, and may take long. Run only when the packages check is configured to.
   */
  'pending-updates':
    "$searcher = [Activator]::CreateInstance([Type]::GetTypeFromProgID('Microsoft.Update.Session')).CreateUpdateSearcher(); "
    + "$searcher.Search('IsInstalled=0 and IsHidden=0').Updates | Select-Object Title, MsrcSeverity, RebootRequired, "
    + "@{ Name = 'UpdateID'; Expression = { $_.Identity.UpdateID } }, @{ Name = 'RevisionNumber'; Expression = { $_.Identity.RevisionNumber } }, "
    + "@{ Name = 'KBArticleIDs'; Expression = { @($_.KBArticleIDs) } }, @{ Name = 'CveIDs'; Expression = { @($_.CveIDs) } }, "
    + "@{ Name = 'SecurityBulletinIDs'; Expression = { @($_.SecurityBulletinIDs) } }, "
    + "@{ Name = 'CategoryIDs'; Expression = { @($_.Categories | ForEach-Object { $_.CategoryID }) } }",
  /** The three documented pending-reboot markers as booleans: parsed by reboot-pending.ts. */
  'reboot-pending':
    "[pscustomobject]@{ CbsRebootPending = Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending'; "
    + "WindowsUpdateRebootRequired = Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired'; "
    + "PendingFileRenameOperations = $null -ne (Get-ItemProperty -LiteralPath 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager' -Name PendingFileRenameOperations -ErrorAction SilentlyContinue) }",
} as const;

export type PowerShellQueryId = keyof typeof POWERSHELL_QUERIES;

/** The whole script of a query, as powershell.exe receives it after -Command. */
export function powershellScript(id: PowerShellQueryId): string {
  return `${PRELUDE}${POWERSHELL_QUERIES[id]}${JSON_TAIL}`;
}

/** The argument list for one query (the allowlist accepts only these). */
export function powershellArgs(id: PowerShellQueryId): readonly string[] {
  return ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-OutputFormat', 'Text', '-Command', powershellScript(id)];
}

/** Every argument list the allowlist accepts for powershell. */
export const POWERSHELL_ARGV: readonly (readonly string[])[] =
  (Object.keys(POWERSHELL_QUERIES) as PowerShellQueryId[]).map(powershellArgs);

/**
 * Queries that may run longer than the powershell command's 120 s: the pending-update search asks
 * Windows Update or WSUS over the network, which often takes minutes. Key: the joined argument list.
 */
export const POWERSHELL_SLOW_TIMEOUTS: ReadonlyMap<string, number> = new Map([
  [powershellArgs('pending-updates').join('\0'), 15 * 60_000],
]);
