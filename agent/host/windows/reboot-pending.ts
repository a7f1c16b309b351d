/**
 * Is a reboot pending on Windows, and since when? Pure: the `reboot-pending` query's JSON and what
 * else is known (boot time, Windows Update history, when the agent first saw a marker) in, the same
 * facts the Linux check produces out (agent/host/linux/reboot.ts), so the collector's
 * `host/reboot-pending-7-days` rule reads both alike.
 *
 * Markers, each a `Test-Path` (a JSON boolean) in the query:
 *  - `cbs-reboot-pending`: HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending
 *    (servicing stack: cumulative updates, features, DISM);
 *  - `windows-update-reboot-required`: HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired
 *    (the Windows Update Agent installed something that needs a restart);
 *  - `pending-file-rename`: the PendingFileRenameOperations value under
 *    HKLM\SYSTEM\CurrentControlSet\Control\Session Manager (files replaced at the next boot, by
 *    installers as well as by updates).
 * The registry does not say when a key was written (PowerShell cannot read a key's last-write time),
 * so `pendingSince` is, for the two update markers, the first successful installation recorded in the
 * Windows Update history after the last boot and not after the agent first saw the marker (that is
 * when the reboot became necessary). Installations that never need a restart do not count: those
 * without a KB (Edge, Store-delivered components) and the KBs of definition updates and the malicious
 * software removal tool (NO_REBOOT_KBS), which a host installs several times a day and would
 * otherwise make every reboot look as old as the boot. Otherwise, and for file renames, it is when
 * this agent first saw the marker (an underestimate: it restarts with the agent).
 */
import { PowerShellJsonError, psGet, psRows } from './powershell-json.js';
import type { UpdateHistoryEvent } from './update-history.js';

export type WindowsRebootReason = 'cbs-reboot-pending' | 'windows-update-reboot-required' | 'pending-file-rename';

export type WindowsRebootMarkers = Record<WindowsRebootReason, boolean>;

/** The query's property for each marker. */
export const MARKER_PROPERTIES: Readonly<Record<WindowsRebootReason, string>> = {
  'cbs-reboot-pending': 'CbsRebootPending',
  'windows-update-reboot-required': 'WindowsUpdateRebootRequired',
  'pending-file-rename': 'PendingFileRenameOperations',
};

const REASONS = Object.keys(MARKER_PROPERTIES) as WindowsRebootReason[];

export function parseRebootMarkers(text: string): WindowsRebootMarkers {
  const rows = psRows(text);
  if (rows.length !== 1) throw new PowerShellJsonError(`expected one object of reboot markers, found ${rows.length}`);
  const out = {} as WindowsRebootMarkers;
  for (const reason of REASONS) {
    const v = psGet(rows[0]!, MARKER_PROPERTIES[reason]);
    if (typeof v !== 'boolean') {
      throw new PowerShellJsonError(`reboot marker ${MARKER_PROPERTIES[reason]} is ${v === undefined ? 'missing' : JSON.stringify(v)}, expected true or false`);
    }
    out[reason] = v;
  }
  return out;
}

export interface WindowsRebootInput {
  markers: WindowsRebootMarkers;
  /** When the host booted, ms since the epoch. */
  bootTimeMs: number;
  /** Windows Update history, when read (only needed while an update marker is set). */
  history?: readonly UpdateHistoryEvent[] | undefined;
  /** When this agent first saw each marker that is set now (ms since the epoch). */
  firstSeenMs: Partial<Record<WindowsRebootReason, number>>;
}

export interface WindowsRebootFacts {
  required: boolean;
  reasons: WindowsRebootReason[];
  /** ISO time the reboot became necessary (see the file comment for how it is estimated). */
  pendingSince?: string;
  /** KBs installed since the last boot that may have asked for the restart (from the update history). */
  packages: string[];
}

const UPDATE_MARKERS: readonly WindowsRebootReason[] = ['cbs-reboot-pending', 'windows-update-reboot-required'];

/**
 * Updates installed without a restart, many times a day or month: Microsoft Defender definition
 * updates (KB2267602; KB915597 before Windows 10; KB2461484 for Security Essentials) and the malicious
 * software removal tool (KB890830).
 */
export const NO_REBOOT_KBS: ReadonlySet<string> = new Set(['KB2267602', 'KB915597', 'KB2461484', 'KB890830']);

export function windowsRebootFacts(input: WindowsRebootInput): WindowsRebootFacts {
  const reasons = REASONS.filter((r) => input.markers[r]);
  const since: number[] = [];
  const sinceBoot = (input.history ?? []).filter((e) => e.operation === 'installation'
    && (e.result === 'succeeded' || e.result === 'succeeded-with-errors')
    && e.date !== undefined && e.date.getTime() > input.bootTimeMs
    && e.kbs.some((kb) => !NO_REBOOT_KBS.has(kb)));
  const packages = [...new Set(sinceBoot.flatMap((e) => e.kbs).filter((kb) => !NO_REBOOT_KBS.has(kb)))].slice(0, 256);
  for (const r of reasons) {
    const seen = input.firstSeenMs[r];
    const candidates = UPDATE_MARKERS.includes(r)
      ? sinceBoot.map((e) => e.date!.getTime()).filter((t) => seen === undefined || t <= seen)
      : [];
    const t = candidates.length > 0 ? Math.min(...candidates) : seen;
    if (t !== undefined) since.push(t);
  }
  const out: WindowsRebootFacts = { required: reasons.length > 0, reasons, packages: reasons.length > 0 ? packages : [] };
  if (since.length > 0) out.pendingSince = new Date(Math.min(...since)).toISOString();
  return out;
}
