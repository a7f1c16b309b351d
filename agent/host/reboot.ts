/**
 * Reads what agent/host/linux/reboot.ts decides on: /var/run/reboot-required (and its .pkgs list)
 * and the kernel images in /boot. Linux only; elsewhere undefined. Nothing here runs a command.
 */
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { readSystemFile } from './fs.js';
import { kernelReleaseOfImage, rebootFacts, type KernelImage, type RebootFacts } from './linux/reboot.js';

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
