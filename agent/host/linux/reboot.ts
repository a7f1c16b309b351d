/**
 * Is a reboot pending, and since when? Pure: facts in, verdict out (agent/host/reboot.ts reads them).
 *
 * Two signals, as on Debian/Ubuntu and RHEL hosts:
 *  - `/var/run/reboot-required` exists (written by the kernel's and libc's postinst hooks on
 *    Debian/Ubuntu; `/var/run` is a tmpfs, so the file disappears at boot); its mtime is when the
 *    reboot became necessary, `/var/run/reboot-required.pkgs` names the packages that asked;
 *  - the running kernel (`uname -r`) is older than the newest installed kernel image of the same
 *    flavour (`/boot/vmlinuz-<release>`); the image's ctime is when it was installed (dpkg and rpm
 *    keep the package's mtime on the file, so mtime would say when the kernel was built).
 */

export interface KernelImage {
  /** Kernel release as `uname -r` prints it: 6.1.0-18-amd64, 5.14.0-427.13.1.el9_4.x86_64. */
  release: string;
  /** When the image file was written on this host (ctime, ms since the epoch). */
  installedAtMs: number;
}

export interface RebootInput {
  runningKernel: string;
  images: readonly KernelImage[];
  /** /var/run/reboot-required, when present. */
  requiredFile?: { mtimeMs: number; packages: readonly string[] } | undefined;
}

export type RebootReason = 'reboot-required-file' | 'newer-kernel-installed';

export interface RebootFacts {
  required: boolean;
  reasons: RebootReason[];
  /** ISO time the earliest reason appeared. */
  pendingSince?: string;
  /** Newest installed kernel of the running kernel's flavour, when images were found. */
  newestKernel?: string;
  /** Packages listed in /var/run/reboot-required.pkgs. */
  packages: string[];
}

/** `vmlinuz-6.1.0-18-amd64` → `6.1.0-18-amd64`; rescue images and other files → undefined. */
export function kernelReleaseOfImage(fileName: string): string | undefined {
  const m = /^vmlinuz-(.+)$/.exec(fileName);
  if (!m || m[1]!.startsWith('0-rescue-') || !/^\d/.test(m[1]!)) return undefined;
  return m[1];
}

/**
 * The flavour of a kernel release, kernels of different flavours are not compared:
 * Debian/Ubuntu `6.1.0-18-amd64` → `amd64`, `6.1.0-18-rt-amd64` → `rt-amd64`, `5.15.0-91-generic` → `generic`;
 * RHEL `5.14.0-427.13.1.el9_4.x86_64` → `x86_64`, with `+debug` kept (`x86_64+debug`).
 */
export function kernelFlavour(release: string): string {
  const variant = /\+[A-Za-z0-9_]+$/.exec(release)?.[0] ?? '';
  const base = variant ? release.slice(0, -variant.length) : release;
  const deb = /^\d+\.\d+(?:\.\d+)?-\d+-(.+)$/.exec(base);
  if (deb) return deb[1]! + variant;
  const dot = base.lastIndexOf('.');
  return (dot >= 0 && /[A-Za-z]/.test(base.slice(dot + 1)) ? base.slice(dot + 1) : '') + variant;
}

/** Orders kernel releases by their runs of digits (numerically) and other characters. */
export function compareKernelReleases(a: string, b: string): number {
  const split = (s: string): string[] => s.match(/\d+|[^\d]+/g) ?? [];
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const np = /^\d/.test(p);
    const nq = /^\d/.test(q);
    if (np && nq) {
      const d = BigInt(p) - BigInt(q);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (p !== q) {
      if (np !== nq) return np ? 1 : -1;
      return p < q ? -1 : 1;
    }
  }
  return 0;
}

export function rebootFacts(input: RebootInput): RebootFacts {
  const reasons: RebootReason[] = [];
  const since: number[] = [];
  const out: RebootFacts = { required: false, reasons, packages: [...(input.requiredFile?.packages ?? [])].slice(0, 256) };
  if (input.requiredFile !== undefined) {
    reasons.push('reboot-required-file');
    since.push(input.requiredFile.mtimeMs);
  }
  const flavour = kernelFlavour(input.runningKernel);
  const same = input.images.filter((i) => kernelFlavour(i.release) === flavour);
  if (same.length > 0) {
    const newest = same.reduce((m, i) => (compareKernelReleases(i.release, m.release) > 0 ? i : m));
    out.newestKernel = newest.release;
    const newer = same.filter((i) => compareKernelReleases(i.release, input.runningKernel) > 0);
    if (newer.length > 0) {
      reasons.push('newer-kernel-installed');
      since.push(Math.min(...newer.map((i) => i.installedAtMs)));
    }
  }
  out.required = reasons.length > 0;
  if (since.length > 0) out.pendingSince = new Date(Math.min(...since)).toISOString();
  return out;
}
