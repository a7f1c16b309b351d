/**
 * Reads what the pure pending-reboot deciders decide on.
 * Linux (agent/host/linux/reboot.ts): /var/run/reboot-required (and its .pkgs list) and the kernel
 * images in /boot; file reads only, no command.
 * Windows (agent/host/windows/reboot-pending.ts): the fixed `reboot-pending` PowerShell query (three
 * registry markers) and, while an update marker is set, the `update-history` query to date it.
 */
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { readSystemFile } from './fs.js';
import { kernelReleaseOfImage, rebootFacts, type KernelImage, type RebootFacts } from './linux/reboot.js';
import type { CommandId, Runner } from './run.js';
import { runPowerShell } from './windows/powershell.js';
import { parseRebootMarkers, windowsRebootFacts, type WindowsRebootFacts, type WindowsRebootReason } from './windows/reboot-pending.js';
import { parseUpdateHistory, type UpdateHistoryEvent } from './windows/update-history.js';

/** Pending-reboot facts of either platform: the same fields, platform-specific reasons. */
export type HostRebootFacts = RebootFacts | WindowsRebootFacts;

export interface RebootPaths {
  requiredFile: string;
  packagesFile: string;
  bootDir: string;
}

export const REBOOT_PATHS: RebootPaths = {
  requiredFile: '/var/run/reboot-required',
  packagesFile: '/var/run/reboot-required.pkgs',
  bootDir: '/boot',
};

export async function readRebootFacts(paths: RebootPaths = REBOOT_PATHS, runningKernel: string = os.release()): Promise<RebootFacts | undefined> {
  if (os.platform() !== 'linux') return undefined;
  const required = await stat(paths.requiredFile).catch(() => undefined);
  const pkgs = required ? await readSystemFile(paths.packagesFile, 256 * 1024).catch(() => undefined) : undefined;
  const images: KernelImage[] = [];
  for (const name of await readdir(paths.bootDir).catch(() => [] as string[])) {
    const release = kernelReleaseOfImage(name);
    if (release === undefined) continue;
    const st = await stat(join(paths.bootDir, name)).catch(() => undefined);
    if (st?.isFile()) images.push({ release, installedAtMs: st.ctimeMs });
  }
  return rebootFacts({
    runningKernel,
    images,
    requiredFile: required ? { mtimeMs: required.mtimeMs, packages: [...new Set((pkgs ?? '').split('\n').map((l) => l.trim()).filter(Boolean))] } : undefined,
  });
}

export interface WindowsRebootClock {
  now: () => number;
  /** When the host booted, ms since the epoch. */
  bootTimeMs: () => number;
}

const SYSTEM_CLOCK: WindowsRebootClock = { now: () => Date.now(), bootTimeMs: () => Date.now() - os.uptime() * 1000 };

/**
 * A reader of the Windows pending reboot that remembers, for as long as the agent runs, when it first
 * saw each marker (the registry keeps no date; see windows/reboot-pending.ts). The update history is
 * read only while an update marker is set; when it cannot be read, the first sighting dates the reboot.
 */
export function createWindowsRebootReader(run: Runner<CommandId>, clock: WindowsRebootClock = SYSTEM_CLOCK): () => Promise<WindowsRebootFacts> {
  const firstSeen: Partial<Record<WindowsRebootReason, number>> = {};
  return async () => {
    const markers = parseRebootMarkers(await runPowerShell(run, 'reboot-pending'));
    const t = clock.now();
    for (const reason of Object.keys(markers) as WindowsRebootReason[]) {
      if (markers[reason]) firstSeen[reason] ??= t;
      else delete firstSeen[reason];
    }
    const history = markers['cbs-reboot-pending'] || markers['windows-update-reboot-required']
      ? await runPowerShell(run, 'update-history').then((text) => parseUpdateHistory(text).events).catch((): UpdateHistoryEvent[] | undefined => undefined)
      : undefined;
    return windowsRebootFacts({ markers, bootTimeMs: clock.bootTimeMs(), history, firstSeenMs: { ...firstSeen } });
  };
}
