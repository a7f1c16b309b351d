/** What /proc says about a process (Linux). Each fact is optional: processes exit, and some are hidden. */
import { readLinkIfPossible, readSystemFile } from './fs.js';
import { parseCgroupUnit, parseStatusUids } from './linux/proc.js';

export interface ProcessFacts {
  /** /proc/<pid>/exe, as the kernel says it (ends in ` (deleted)` when the binary was replaced). */
  executable?: string;
  /** Effective uid. */
  uid?: number;
  /** systemd unit, e.g. `ssh.service`. */
  unit?: string;
}

export async function readProcessFacts(pid: number, procRoot = '/proc'): Promise<ProcessFacts> {
  const dir = `${procRoot}/${pid}`;
  const [exe, status, cgroup] = await Promise.all([
    readLinkIfPossible(`${dir}/exe`),
    readSystemFile(`${dir}/status`, 64 * 1024).catch(() => undefined),
    readSystemFile(`${dir}/cgroup`, 64 * 1024).catch(() => undefined),
  ]);
  const facts: ProcessFacts = {};
  if (exe) facts.executable = exe;
  const uids = status ? parseStatusUids(status) : undefined;
  if (uids) facts.uid = uids.effective;
  const unit = cgroup ? parseCgroupUnit(cgroup) : undefined;
  if (unit) facts.unit = unit;
  return facts;
}
