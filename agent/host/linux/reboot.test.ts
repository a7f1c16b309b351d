import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRebootFacts } from '../reboot.js';
import { compareKernelReleases, kernelFlavour, kernelReleaseOfImage, rebootFacts } from './reboot.js';

const DAY = 86_400_000;

describe('kernel releases', () => {
  it('takes the release from /boot image names and skips rescue images and other files', () => {
    expect(kernelReleaseOfImage('vmlinuz-6.1.0-18-amd64')).toBe('6.1.0-18-amd64');
    expect(kernelReleaseOfImage('vmlinuz-5.14.0-427.13.1.el9_4.x86_64')).toBe('5.14.0-427.13.1.el9_4.x86_64');
    expect(kernelReleaseOfImage('vmlinuz-0-rescue-3f1c0a5e9b0d4e3f8c1d2e3f4a5b6c7d')).toBeUndefined();
    expect(kernelReleaseOfImage('initrd.img-6.1.0-18-amd64')).toBeUndefined();
    expect(kernelReleaseOfImage('vmlinuz')).toBeUndefined();
  });

  it('compares only kernels of the same flavour', () => {
    expect(kernelFlavour('6.1.0-18-amd64')).toBe('amd64');
    expect(kernelFlavour('6.1.0-18-rt-amd64')).toBe('rt-amd64');
    expect(kernelFlavour('6.1.0-18-cloud-amd64')).toBe('cloud-amd64');
    expect(kernelFlavour('5.15.0-91-generic')).toBe('generic');
    expect(kernelFlavour('5.14.0-427.13.1.el9_4.x86_64')).toBe('x86_64');
    expect(kernelFlavour('5.14.0-427.13.1.el9_4.x86_64+debug')).toBe('x86_64+debug');
  });

  it('orders releases by their number runs', () => {
    expect(compareKernelReleases('6.1.0-18-amd64', '6.1.0-21-amd64')).toBe(-1);
    expect(compareKernelReleases('6.1.0-9-amd64', '6.1.0-10-amd64')).toBe(-1);
    expect(compareKernelReleases('5.14.0-503.14.1.el9_5.x86_64', '5.14.0-427.13.1.el9_4.x86_64')).toBe(1);
    expect(compareKernelReleases('5.15.0-91-generic', '5.15.0-91-generic')).toBe(0);
  });
});

describe('rebootFacts', () => {
  const t = (d: string): number => Date.parse(d);

  it('nothing pending: running the newest kernel, no reboot-required file', () => {
    const r = rebootFacts({ runningKernel: '6.1.0-21-amd64', images: [{ release: '6.1.0-18-amd64', installedAtMs: t('2024-01-01') }, { release: '6.1.0-21-amd64', installedAtMs: t('2024-03-01') }] });
    expect(r).toEqual({ required: false, reasons: [], packages: [], newestKernel: '6.1.0-21-amd64' });
  });

  it('a newer kernel of the same flavour: pending since it was installed', () => {
    const r = rebootFacts({
      runningKernel: '6.1.0-18-amd64',
      images: [
        { release: '6.1.0-18-amd64', installedAtMs: t('2024-01-01') },
        { release: '6.1.0-21-amd64', installedAtMs: t('2024-03-10') },
        { release: '6.1.0-20-amd64', installedAtMs: t('2024-03-01') },
        { release: '6.1.0-25-rt-amd64', installedAtMs: t('2024-02-01') },
      ],
    });
    expect(r.required).toBe(true);
    expect(r.reasons).toEqual(['newer-kernel-installed']);
    expect(r.newestKernel).toBe('6.1.0-21-amd64');
    expect(r.pendingSince).toBe('2024-03-01T00:00:00.000Z');
  });

  it('the reboot-required file: pending since its mtime, with the packages that asked', () => {
    const r = rebootFacts({ runningKernel: '6.1.0-21-amd64', images: [], requiredFile: { mtimeMs: t('2024-05-02T10:00:00Z'), packages: ['libc6', 'linux-image-6.1.0-22-amd64'] } });
    expect(r).toMatchObject({ required: true, reasons: ['reboot-required-file'], pendingSince: '2024-05-02T10:00:00.000Z', packages: ['libc6', 'linux-image-6.1.0-22-amd64'] });
    expect(r.newestKernel).toBeUndefined();
  });

  it('both: the earliest reason counts', () => {
    const r = rebootFacts({
      runningKernel: '5.14.0-427.13.1.el9_4.x86_64',
      images: [{ release: '5.14.0-503.14.1.el9_5.x86_64', installedAtMs: t('2024-12-01') }],
      requiredFile: { mtimeMs: t('2024-12-05'), packages: [] },
    });
    expect(r.reasons).toEqual(['reboot-required-file', 'newer-kernel-installed']);
    expect(r.pendingSince).toBe('2024-12-01T00:00:00.000Z');
  });
});

describe('readRebootFacts', () => {
  it('reads a reboot-required file, its package list and /boot images (ctime) from the given paths', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'canhgac-reboot-'));
    try {
      mkdirSync(join(dir, 'boot'));
      writeFileSync(join(dir, 'boot', 'vmlinuz-6.1.0-18-amd64'), 'x');
      writeFileSync(join(dir, 'boot', 'vmlinuz-6.1.0-21-amd64'), 'x');
      writeFileSync(join(dir, 'boot', 'config-6.1.0-21-amd64'), 'x');
      writeFileSync(join(dir, 'reboot-required'), '*** System restart required ***\n');
      writeFileSync(join(dir, 'reboot-required.pkgs'), 'linux-image-6.1.0-21-amd64\nlibc6\nlibc6\n');
      const old = new Date(Date.now() - 9 * DAY);
      utimesSync(join(dir, 'reboot-required'), old, old);
      const r = await readRebootFacts({ requiredFile: join(dir, 'reboot-required'), packagesFile: join(dir, 'reboot-required.pkgs'), bootDir: join(dir, 'boot') }, '6.1.0-18-amd64');
      expect(r).toMatchObject({ required: true, reasons: ['reboot-required-file', 'newer-kernel-installed'], newestKernel: '6.1.0-21-amd64', packages: ['linux-image-6.1.0-21-amd64', 'libc6'] });
      expect(Date.parse(r!.pendingSince!)).toBeCloseTo(old.getTime(), -3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on this machine: answers without error (containers have no /boot and no reboot-required file)', async () => {
    const r = await readRebootFacts();
    expect(r).toBeDefined();
    expect(typeof r!.required).toBe('boolean');
    console.log(`this machine: running ${os.release()}, reboot ${r!.required ? `pending (${r!.reasons.join(', ')})` : 'not pending'}, newest installed kernel ${r!.newestKernel ?? '(no /boot images)'}`);
  });
});
