/**
 * packages: the full list of installed packages (dpkg, rpm; macOS application bundles; Windows
 * programs and hotfixes) as one `package` snapshot; the updates offered and not installed as an
 * `update` snapshot: on Debian/Ubuntu from apt's cached lists (by default), on Windows when configured.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fields } from '../../../common/finding.js';
import type { Check, CheckContext, CollectResult, Snapshot } from '../check.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { commandPath, runCommand, type CommandId, type Resolver, type Runner } from '../../host/run.js';
import { DPKG_QUERY_FORMAT, parseDpkgQuery } from '../../host/linux/dpkg.js';
import { RPM_QUERY_FORMAT, parseRpmQuery } from '../../host/linux/rpm.js';
import { SYSTEM_PROFILER_APPS_ARGS, parseSystemProfilerApps } from '../../host/darwin/system-profiler.js';
import { runPowerShell } from '../../host/windows/powershell.js';
import { parseUninstallKeys } from '../../host/windows/uninstall-keys.js';
import { parseHotfixes } from '../../host/windows/hotfix.js';
import { parseUpdateHistory, type UpdateHistoryParse } from '../../host/windows/update-history.js';
import { parsePendingUpdates } from '../../host/windows/pending-updates.js';
import { parseCheckConfig } from '../parse-config.js';
import { packagesConfig, type PackagesConfig } from './config.js';
import { aptUpdateItems, appItems, dpkgFields, keepDpkg, rpmFields, toItems } from './package-items.js';
import { APT_SIMULATE_ARGS, parseAptSimulate } from '../../host/linux/apt-simulate.js';
import { pendingUpdateItems, windowsItems } from './windows-items.js';

export interface PackagesDeps {
  run: Runner<CommandId>;
  resolve: Resolver<CommandId>;
  platform: NodeJS.Platform;
  /** apt's package lists (their newest modification time says how fresh pending updates are). */
  aptListsDir: string;
}

/** When apt last wrote a Release file of its lists (`apt-get update`), ISO; undefined when none. */
export async function newestListTime(dir: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let newest = 0;
  for (const n of names.filter((x) => x.endsWith('Release'))) {
    const s = await stat(join(dir, n)).catch(() => undefined);
    if (s && s.mtimeMs > newest) newest = s.mtimeMs;
  }
  return newest > 0 ? new Date(newest).toISOString() : undefined;
}

type Manager = 'dpkg' | 'rpm';
const TOOL: Record<Manager, CommandId> = { dpkg: 'dpkg-query', rpm: 'rpm' };

export function createPackagesCheck(deps: Partial<PackagesDeps> = {}): Check {
  const run = deps.run ?? runCommand;
  const resolve = deps.resolve ?? commandPath;
  const platform = deps.platform ?? process.platform;
  const aptListsDir = deps.aptListsDir ?? '/var/lib/apt/lists';
  let config: PackagesConfig | undefined;

  /** Pending apt upgrades, or undefined (no apt-get, or it failed: then no update snapshot is sent). */
  async function aptUpdates(ctx: CheckContext): Promise<Snapshot | undefined> {
    if (!(await resolve('apt-get'))) return undefined;
    try {
      const { stdout } = await run('apt-get', APT_SIMULATE_ARGS);
      const parsed = parseAptSimulate(stdout);
      if (parsed.malformed > 0) ctx.log.warn('unparsed apt-get simulation lines', { manager: 'dpkg', lines: parsed.malformed });
      return { kind: 'update', items: aptUpdateItems(parsed.updates, await newestListTime(aptListsDir)) };
    } catch (e) {
      // E.g. a broken dpkg state apt refuses to plan over: the collector keeps the last update snapshot.
      ctx.log.warn('apt-get simulation failed; no pending updates reported', { manager: 'dpkg', error: (e as Error).message });
      return undefined;
    }
  }

  async function managers(cfg: PackagesConfig): Promise<Manager[]> {
    if (cfg.manager !== 'auto') return [cfg.manager];
    const found: Manager[] = [];
    for (const m of ['dpkg', 'rpm'] as const) if (await resolve(TOOL[m])) found.push(m);
    return found;
  }

  async function read(manager: Manager, cfg: PackagesConfig, ctx: CheckContext): Promise<Fields[]> {
    if (manager === 'dpkg') {
      const { stdout } = await run('dpkg-query', ['-W', `-f=${DPKG_QUERY_FORMAT}`]);
      const parsed = parseDpkgQuery(stdout);
      if (parsed.malformed > 0) ctx.log.warn('unparsed package lines', { manager, lines: parsed.malformed });
      return parsed.packages.filter((p) => keepDpkg(p, cfg.dpkg_states)).map(dpkgFields);
    }
    const { stdout } = await run('rpm', ['-qa', '--qf', RPM_QUERY_FORMAT]);
    const parsed = parseRpmQuery(stdout);
    if (parsed.malformed > 0) ctx.log.warn('unparsed package lines', { manager, lines: parsed.malformed });
    return parsed.packages.map(rpmFields);
  }

  return {
    name: 'packages',
    kinds: ['package', 'update'],
    init(raw: unknown) {
      config = parseCheckConfig('packages', packagesConfig, raw);
    },
    async collect(ctx): Promise<CollectResult> {
      if (!config) throw new AgentError(AgentCodes.CHECK_NOT_INITIALIZED, 'check "packages" used before init()');
      if (platform === 'darwin') {
        // Application bundles; the manager option is for Linux package databases.
        const { stdout } = await run('system_profiler', [...SYSTEM_PROFILER_APPS_ARGS]);
        const parsed = parseSystemProfilerApps(stdout);
        if (parsed.malformed > 0) ctx.log.warn('unparsed application items', { manager: 'system_profiler', items: parsed.malformed });
        return { snapshots: [{ kind: 'package', items: appItems(parsed.apps) }], events: [] };
      }
      if (platform === 'win32') {
        // Programs from the Uninstall keys, Get-HotFix and the Windows Update history; the manager
        // option is for Linux package databases. The history is extra: when the Windows Update Agent
        // cannot be asked (service disabled, COM error), the snapshot goes out without it.
        const [programs, hotfixes, history] = await Promise.all([
          runPowerShell(run, 'programs').then(parseUninstallKeys),
          runPowerShell(run, 'hotfixes').then(parseHotfixes),
          runPowerShell(run, 'update-history').then(parseUpdateHistory).catch((e: unknown): UpdateHistoryParse | undefined => {
            ctx.log.warn('windows update history not readable', { manager: 'windows', error: (e as Error).message });
            return undefined;
          }),
        ]);
        if (hotfixes.malformed > 0) ctx.log.warn('unparsed hotfix rows', { manager: 'windows', rows: hotfixes.malformed });
        if (history && history.malformed > 0) ctx.log.warn('unparsed windows update history rows', { manager: 'windows', rows: history.malformed });
        const items = windowsItems(programs.programs, hotfixes.hotfixes, history?.installed ?? []);
        const snapshots: Snapshot[] = [{ kind: 'package', items }];
        if (config.windows_pending_updates === 'search') {
          // A failed search (no route to the update source) sends no update snapshot: the collector
          // keeps the last one it had rather than learning that nothing is pending.
          const pending = await runPowerShell(run, 'pending-updates').then(parsePendingUpdates).catch((e: unknown) => {
            ctx.log.warn('windows update search failed', { manager: 'windows', error: (e as Error).message });
            return undefined;
          });
          if (pending && pending.malformed > 0) ctx.log.warn('unparsed pending update rows', { manager: 'windows', rows: pending.malformed });
          if (pending) snapshots.push({ kind: 'update', items: pendingUpdateItems(pending.updates) });
        }
        return { snapshots, events: [] };
      }
      if (platform !== 'linux') {
        throw new AgentError(AgentCodes.CHECK_UNSUPPORTED_PLATFORM, `check "packages" cannot read packages on ${platform} yet`);
      }
      const use = await managers(config);
      if (use.length === 0) {
        throw new AgentError(AgentCodes.CHECK_UNSUPPORTED_PLATFORM, 'check "packages" found neither dpkg-query nor rpm on this host', {
          hint: 'set checks.packages.manager, or disable the check on this host',
        });
      }
      // All databases or nothing: a partial snapshot would make the collector drop the other's packages.
      const lists = await Promise.all(use.map((m) => read(m, config!, ctx)));
      const snapshots: Snapshot[] = [{ kind: 'package', items: toItems(lists.flat()) }];
      if (use.includes('dpkg') && config.apt_pending_updates === 'cached') {
        const updates = await aptUpdates(ctx);
        if (updates) snapshots.push(updates);
      }
      return { snapshots, events: [] };
    },
  };
}
