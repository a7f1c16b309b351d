// No genuine recording of these three Test-Path results was found (fixtures/README.md says so): every
// input here is hand-written, shaped as `[pscustomobject]@{…} | ConvertTo-Json -Compress` prints booleans.
import { describe, expect, it } from 'vitest';
import { PowerShellJsonError } from './powershell-json.js';
import { parseRebootMarkers, windowsRebootFacts, type WindowsRebootMarkers } from './reboot-pending.js';
import type { UpdateHistoryEvent } from './update-history.js';

const none: WindowsRebootMarkers = { 'cbs-reboot-pending': false, 'windows-update-reboot-required': false, 'pending-file-rename': false };
const boot = Date.parse('2026-03-01T08:00:00Z');
const ev = (kb: string, date: string, o: Partial<UpdateHistoryEvent> = {}): UpdateHistoryEvent =>
  ({ kbs: [kb], title: `Update (${kb})`, operation: 'installation', result: 'succeeded', date: new Date(date), ...o });

describe('Windows reboot markers (hand-written JSON)', () => {
  it('reads the three booleans, with a BOM and any property case', () => {
    expect(parseRebootMarkers('\uFEFF{"CbsRebootPending":true,"WindowsUpdateRebootRequired":false,"pendingfilerenameoperations":true}'))
      .toEqual({ 'cbs-reboot-pending': true, 'windows-update-reboot-required': false, 'pending-file-rename': true });
  });

  it('refuses a missing or non-boolean marker and output that is not one object, naming the property', () => {
    expect(() => parseRebootMarkers('{"CbsRebootPending":true,"WindowsUpdateRebootRequired":false}')).toThrow(/PendingFileRenameOperations is missing/);
    expect(() => parseRebootMarkers('{"CbsRebootPending":"True","WindowsUpdateRebootRequired":false,"PendingFileRenameOperations":false}')).toThrow(/CbsRebootPending is "True"/);
    expect(() => parseRebootMarkers('')).toThrow(PowerShellJsonError);
    expect(() => parseRebootMarkers('[{},{}]')).toThrow(/found 2/);
  });
});

describe('Windows pending reboot facts', () => {
  it('no marker: not required, nothing else', () => {
    expect(windowsRebootFacts({ markers: none, bootTimeMs: boot, history: [ev('KB1', '2026-03-02T00:00:00Z')], firstSeenMs: {} }))
      .toEqual({ required: false, reasons: [], packages: [] });
  });

  it('an update marker dates from the first successful installation after boot, and names the KBs', () => {
    const history = [
      ev('KB5000001', '2026-02-20T00:00:00Z'), // before the boot: already running
      ev('KB5000002', '2026-03-03T02:00:00Z', { result: 'failed' }),
      ev('KB5000003', '2026-03-04T02:00:00Z'),
      ev('KB5000004', '2026-03-05T02:00:00Z', { result: 'succeeded-with-errors' }),
      ev('KB5000003', '2026-03-06T02:00:00Z', { operation: 'uninstallation' }),
    ];
    const f = windowsRebootFacts({
      markers: { ...none, 'windows-update-reboot-required': true, 'cbs-reboot-pending': true },
      bootTimeMs: boot, history, firstSeenMs: { 'windows-update-reboot-required': Date.parse('2026-03-09T00:00:00Z') },
    });
    expect(f).toEqual({
      required: true,
      reasons: ['cbs-reboot-pending', 'windows-update-reboot-required'],
      pendingSince: '2026-03-04T02:00:00.000Z',
      packages: ['KB5000003', 'KB5000004'],
    });
  });

  it('definition updates, MSRT and updates without a KB installed since boot do not date the reboot; nor does an installation after the first sighting', () => {
    const history = [
      ev('KB2267602', '2026-03-01T09:00:00Z'), // Defender definitions, right after boot, and every few hours
      ev('KB890830', '2026-03-01T10:00:00Z'),
      { kbs: [], title: 'Microsoft Edge-Stable Channel Version 122.0', operation: 'installation', result: 'succeeded', date: new Date('2026-03-01T11:00:00Z') } as UpdateHistoryEvent,
      ev('KB5000500', '2026-03-08T02:00:00Z'),
      ev('KB5000600', '2026-03-09T12:00:00Z'), // after the marker was first seen
      ev('KB2267602', '2026-03-09T13:00:00Z'),
    ];
    const f = windowsRebootFacts({
      markers: { ...none, 'windows-update-reboot-required': true }, bootTimeMs: boot, history,
      firstSeenMs: { 'windows-update-reboot-required': Date.parse('2026-03-09T00:00:00Z') },
    });
    expect(f.pendingSince).toBe('2026-03-08T02:00:00.000Z');
    expect(f.packages).toEqual(['KB5000500', 'KB5000600']);
    // Only reboot-free installations since boot: the first sighting dates it.
    expect(windowsRebootFacts({
      markers: { ...none, 'cbs-reboot-pending': true }, bootTimeMs: boot, history: history.slice(0, 3),
      firstSeenMs: { 'cbs-reboot-pending': Date.parse('2026-03-09T00:00:00Z') },
    }).pendingSince).toBe('2026-03-09T00:00:00.000Z');
  });

  it('without history after boot (or for file renames), the agent\'s first sighting is the date', () => {
    const f = windowsRebootFacts({
      markers: { ...none, 'pending-file-rename': true, 'cbs-reboot-pending': true },
      bootTimeMs: boot, history: [ev('KB5000001', '2026-02-20T00:00:00Z')],
      firstSeenMs: { 'pending-file-rename': Date.parse('2026-03-08T00:00:00Z'), 'cbs-reboot-pending': Date.parse('2026-03-07T00:00:00Z') },
    });
    expect(f).toEqual({ required: true, reasons: ['cbs-reboot-pending', 'pending-file-rename'], pendingSince: '2026-03-07T00:00:00.000Z', packages: [] });
    expect(windowsRebootFacts({ markers: { ...none, 'pending-file-rename': true }, bootTimeMs: boot, firstSeenMs: {} }))
      .toEqual({ required: true, reasons: ['pending-file-rename'], packages: [] });
  });
});
