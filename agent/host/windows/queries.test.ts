import { describe, expect, it } from 'vitest';
import { isCanhGacError } from '../../../common/errors.js';
import { COMMANDS, createRunner } from '../run.js';
import { POWERSHELL_ARGV, POWERSHELL_PATH, POWERSHELL_QUERIES, powershellArgs, powershellScript, type PowerShellQueryId } from './queries.js';

const ids = Object.keys(POWERSHELL_QUERIES) as PowerShellQueryId[];

/** Cmdlets a query may use: reading, selecting, iterating, JSON. Nothing that writes, starts or invokes. */
const READ_ONLY = new Set([
  'Get-ItemProperty', 'Get-HotFix', 'Get-Process', 'Get-CimInstance', 'Get-NetTCPConnection',
  'Get-NetFirewallProfile', 'Get-NetFirewallRule', 'Select-Object', 'ForEach-Object', 'ConvertTo-Json',
  'Get-NetUDPEndpoint', 'Get-NetConnectionProfile', 'Get-NetIPAddress', 'Where-Object', 'Get-NetFirewallPortFilter',
  'Get-NetFirewallAddressFilter', 'Get-NetFirewallApplicationFilter', 'Get-NetFirewallServiceFilter',
  'Get-NetFirewallInterfaceTypeFilter', 'Get-NetFirewallSecurityFilter',
  'Test-Path', 'Sort-Object',
]);

describe('PowerShell queries', () => {
  it.each(ids)('%s is read-only, UTF-8, single-quoted and ends in ConvertTo-Json', (id) => {
    const script = powershellScript(id);
    expect(script.startsWith('[Console]::OutputEncoding = [System.Text.UTF8Encoding]::new($false);')).toBe(true);
    expect(script.endsWith('| ConvertTo-Json -Depth 4 -Compress')).toBe(true);
    expect(script).not.toContain('"');
    const cmdlets = script.match(/\b[A-Z][a-z]+-[A-Za-z]+\b/g) ?? [];
    expect(cmdlets.length).toBeGreaterThan(0);
    for (const c of cmdlets) expect(READ_ONLY, `${id} uses ${c}`).toContain(c);
    expect(script).not.toMatch(/\b(iex|Invoke-|Start-|Set-|Remove-|New-|Add-|Out-File)/i);
  });

  it('creates no COM object but the Windows Update searcher, and calls only its reading methods', () => {
    for (const id of ids) {
      const script = powershellScript(id);
      for (const m of script.matchAll(/GetTypeFromProgID\('([^']+)'\)/g)) expect(m[1], id).toBe('Microsoft.Update.Session');
      expect(script, id).not.toMatch(/\.(Install|Download|Uninstall|CreateUpdateInstaller|CreateUpdateDownloader|Commit)\w*\(/i);
    }
    expect(powershellScript('update-history')).toContain('.QueryHistory(0, $count)');
  });

  it('the firewall queries read the ActiveStore (what is enforced, group policy included), filters fetched once with -All', () => {
    for (const id of ['firewall-profiles', 'firewall-rules', 'firewall-rule-filters'] as const) {
      for (const cmd of powershellScript(id).match(/Get-NetFirewall\w+[^|;]*/g) ?? []) expect(cmd, id).toContain('-PolicyStore ActiveStore');
    }
    const filters = powershellScript('firewall-rule-filters');
    for (const kind of ['Port', 'Address', 'Application', 'Service', 'InterfaceType', 'Security']) {
      expect(filters).toContain(`${kind} = @(Get-NetFirewall${kind}Filter -All -PolicyStore ActiveStore | Where-Object -FilterScript $keep`);
    }
    expect(filters).not.toContain('AssociatedNetFirewallRule');
  });

  it('firewall rules are filtered with Where-Object, not cmdlet query parameters (no match would be an error under Stop)', () => {
    // CIM cmdlets report ObjectNotFound when a query parameter (-Name, -Direction, -Enabled, …) matches
    // nothing; with $ErrorActionPreference = 'Stop' a host without enabled inbound rules would fail the query.
    for (const id of ['firewall-rules', 'firewall-rule-filters'] as const) {
      const script = powershellScript(id);
      expect(script, id).toContain("Get-NetFirewallRule -PolicyStore ActiveStore | Where-Object -FilterScript { $_.Direction -eq 'Inbound' -and $_.Enabled -eq 'True' }");
      expect(script, id).not.toMatch(/Get-NetFirewallRule[^|]*-(Direction|Enabled)\b/);
    }
  });

  it('reads no environment variable that the agent does not pass to powershell.exe (run.ts gives it a fixed environment)', () => {
    const given = new Set(Object.keys(COMMANDS.powershell.env ?? {}).map((k) => k.toLowerCase()));
    for (const id of ids) {
      for (const m of powershellScript(id).matchAll(/\$\{?env:([A-Za-z0-9_()]+)/gi)) expect(given, `${id} reads $env:${m[1]}`).toContain(m[1]!.toLowerCase());
    }
  });

  it('the listener queries read a process\'s name and path inside try/catch (Path throws for protected processes and pid 4)', () => {
    for (const id of ['tcp-listeners', 'udp-listeners'] as const) {
      const script = powershellScript(id);
      expect(script, id).toContain("@{ Name = 'ProcessName'; Expression = { try { $procs[[int]$_.OwningProcess].ProcessName } catch { $null } } }");
      expect(script, id).toContain("@{ Name = 'Path'; Expression = { try { $procs[[int]$_.OwningProcess].Path } catch { $null } } }");
    }
  });

  it('hotfixes reads WMI\'s InstalledOn string, not Get-HotFix\'s culture-parsed InstalledOn property', () => {
    const script = powershellScript('hotfixes');
    expect(script).toContain("@{ Name = 'InstalledOn'; Expression = { $_.psBase.Properties['InstalledOn'].Value } }");
    expect(script).not.toMatch(/Description, InstalledOn\b/);
  });

  it('runs powershell.exe by absolute path with a fixed argument list', () => {
    expect(COMMANDS.powershell.paths).toEqual([POWERSHELL_PATH]);
    expect(POWERSHELL_PATH).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(powershellArgs('hotfixes').slice(0, 7)).toEqual(['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-OutputFormat', 'Text', '-Command']);
    expect(COMMANDS.powershell.argv).toBe(POWERSHELL_ARGV);
    expect(POWERSHELL_ARGV).toHaveLength(ids.length);
    // Only the pending-update search (network) gets longer than the command's 120 s.
    expect([...(COMMANDS.powershell.argvTimeoutMs?.entries() ?? [])]).toEqual([[powershellArgs('pending-updates').join('\0'), 900_000]]);
  });

  it('the allowlist refuses powershell with any other argument list, before looking for the program', async () => {
    const run = createRunner(COMMANDS);
    const attempts: string[][] = [
      ['-Command', 'Remove-Item C:\\ -Recurse'],
      [...powershellArgs('hotfixes').slice(0, 7), `${powershellScript('hotfixes')}; Stop-Computer`],
      [...powershellArgs('hotfixes'), '-Command', 'Get-Date'],
      [],
    ];
    for (const args of attempts) {
      const err: unknown = await run('powershell', args).catch((e: unknown) => e);
      expect(isCanhGacError(err) && err.code).toBe('AGENT_HOST_COMMAND_UNKNOWN');
    }
    // A fixed query gets past the argument check and fails only because this is not Windows.
    const err: unknown = await run('powershell', powershellArgs('hotfixes')).catch((e: unknown) => e);
    expect(isCanhGacError(err) && err.code).toBe('AGENT_HOST_COMMAND_MISSING');
  });

  it('lsof runs only with its one listener argument list', async () => {
    const run = createRunner(COMMANDS);
    const err: unknown = await run('lsof', ['-p', '1']).catch((e: unknown) => e);
    expect(isCanhGacError(err) && err.code).toBe('AGENT_HOST_COMMAND_UNKNOWN');
  });
});
