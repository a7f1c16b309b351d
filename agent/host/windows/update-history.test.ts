import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PowerShellJsonError, type PsRow } from './powershell-json.js';
import { historyEvent, installedUpdates, kbIdsInTitle, parseUpdateHistory, type UpdateHistoryEvent } from './update-history.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('Windows Update history parser (genuine recordings, fixtures/README.md)', () => {
  it('reads a Defender definition update: KB from the title, date in UTC, UpdateID inside UpdateIdentity, names for the enums', () => {
    const r = parseUpdateHistory(fixture('WU-history.defender-definition.win10.puppet-blog.json'));
    expect(r.malformed).toBe(0);
    expect(r.events).toEqual([{
      kbs: ['KB2267602'],
      title: 'Definition Update for Windows Defender Antivirus - KB2267602 (Definition 1.269.1089.0)',
      operation: 'installation',
      result: 'succeeded',
      date: new Date('2018-06-12T01:48:16Z'),
      updateId: '340544b8-e4f0-4eb3-b7d8-04e6608986ea',
      clientApplicationId: 'Windows Defender Antivirus (77BDAF73-B396-481F-9042-AD358843EC24)',
      supportUrl: 'http://go.microsoft.com/fwlink/?LinkId=52661',
    }]);
    expect(r.installed).toEqual([{
      id: 'KB2267602',
      installedOn: new Date('2018-06-12T01:48:16Z'),
      title: 'Definition Update for Windows Defender Antivirus - KB2267602 (Definition 1.269.1089.0)',
      supportUrl: 'http://go.microsoft.com/fwlink/?LinkId=52661',
    }]);
  });

  it('a feature update has no KB: an event, not an installed hotfix', () => {
    const r = parseUpdateHistory(fixture('WU-history.feature-update-1803.win10.puppet-blog.json'));
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ kbs: [], operation: 'installation', result: 'succeeded', clientApplicationId: 'UpdateOrchestrator' });
    expect(r.events[0]?.supportUrl).toBeUndefined();
    expect(r.installed).toEqual([]);
  });

  it('Japanese titles (Vuls recording): the KB is found wherever it sits, and an uninstalled KB does not count', () => {
    // The recording is Format-List text (Vuls' own query); this reads its Title/Operation/ResultCode
    // blocks into rows so the same decision code runs on it. Not a parser under test.
    const rows: PsRow[] = fixture('WU-history-FormatList.ja-JP.win10.vuls.txt').trim().split(/\n\s*\n/).map((block) =>
      Object.fromEntries(block.split('\n').map((l) => {
        const [k, ...v] = l.split(' : ');
        const value = v.join(' : ').trim();
        return [k!.trim(), /^\d+$/.test(value) ? Number(value) : value];
      })));
    expect(rows).toHaveLength(4);
    const events = rows.map(historyEvent).filter((e): e is UpdateHistoryEvent => e !== undefined);
    expect(events.map((e) => [e.kbs, e.operation])).toEqual([
      [['KB5020435'], 'installation'], [['KB5020435'], 'uninstallation'], [['KB5021088'], 'installation'], [['KB5021233'], 'installation'],
    ]);
    expect(installedUpdates(events).map((u) => u.id)).toEqual(['KB5021088', 'KB5021233']);
  });
});

// Hand-written inputs below (no genuine recording of the query's own output, nor any Vietnamese
// Windows Update title, was found): edge cases only, the genuine cases are above.
describe('Windows Update history parser: edge cases (hand-written input)', () => {
  const row = (o: Record<string, unknown>) => ({ Operation: 1, ResultCode: 2, Title: 'Update (KB5000001)', ...o });

  it('finds the KB in Vietnamese titles, sent as UTF-8 bytes and decoded as the runner decodes them', () => {
    const titles = [
      'Bản cập nhật tích lũy 2024-01 cho Windows 11 Version 23H2 cho các hệ thống dựa trên x64 (KB5034123)',
      'Cập nhật bảo mật cho Windows (KB5034441)',
      'Bản cập nhật Trí tuệ Bảo mật cho Microsoft Defender Antivirus - KB2267602 (Phiên bản 1.403.3.0)',
    ];
    const bytes = Buffer.from(JSON.stringify(titles.map((Title, i) => row({ Title, Date: `2024-01-1${i} 03:00:00Z` }))), 'utf8');
    const r = parseUpdateHistory(bytes.toString('utf8'));
    expect(r.events.map((e) => e.title)).toEqual(titles);
    expect(r.installed.map((u) => u.id)).toEqual(['KB5034123', 'KB5034441', 'KB2267602']);
    // Bytes read in the wrong code page garble the words, never the KB: the pattern needs no letters of the language.
    expect(kbIdsInTitle(bytes.toString('latin1'))).toEqual(['KB5034123', 'KB5034441', 'KB2267602']);
  });

  it('kbIdsInTitle: several ids, case, no partial matches', () => {
    expect(kbIdsInTitle('Update (KB4012212) (KB4012215) kb4012212')).toEqual(['KB4012212', 'KB4012215']);
    expect(kbIdsInTitle('用KB5021233の')).toEqual(['KB5021233']);
    expect(kbIdsInTitle('Feature update to Windows 10, version 1803')).toEqual([]);
    expect(kbIdsInTitle('XKB1234567 KB123 KB123456789')).toEqual([]);
  });

  it('numbers for the enums (the query\'s own output), only succeeded results count, order by date', () => {
    const r = parseUpdateHistory(JSON.stringify([
      row({ Title: 'A (KB1000001)', ResultCode: 4, Date: '2024-01-01 00:00:00Z' }),
      row({ Title: 'B (KB1000002)', ResultCode: 3, Date: '2024-01-02 00:00:00Z', UpdateID: 'u-2' }),
      // listed newest first: reinstalled after an uninstallation, it counts from the reinstallation
      row({ Title: 'C (KB1000003)', Date: '2024-03-01 00:00:00Z' }),
      row({ Title: 'C (KB1000003)', Operation: 2, Date: '2024-02-01 00:00:00Z' }),
      row({ Title: 'C (KB1000003)', Date: '2024-01-01 00:00:00Z' }),
      row({ Title: 'C again (KB1000003)', Date: '2024-03-05 00:00:00Z' }),
      row({ Title: 'D (KB1000004)', ResultCode: 5 }),
      row({ Title: 'E (KB1000005)', Operation: 2 }),
    ]));
    expect(r.events.find((e) => e.kbs[0] === 'KB1000002')?.updateId).toBe('u-2');
    expect(r.installed).toEqual([
      { id: 'KB1000003', installedOn: new Date('2024-03-01T00:00:00Z'), title: 'C again (KB1000003)' },
      { id: 'KB1000002', installedOn: new Date('2024-01-02T00:00:00Z'), title: 'B (KB1000002)' },
    ]);
  });

  it('accepts /Date(ms)/ and spaced enum names, counts unreadable rows, refuses text that is not JSON', () => {
    const r = parseUpdateHistory(JSON.stringify([
      row({ Date: '/Date(1704067200000)/', ResultCode: 'Succeeded With Errors', Operation: 'Installation' }),
      row({ Operation: 7 }),
      row({ ResultCode: null }),
      { Title: 'no codes (KB1)' },
      row({ Title: '' }),
    ]));
    expect(r.installed).toEqual([{ id: 'KB5000001', installedOn: new Date(1704067200000), title: 'Update (KB5000001)' }]);
    expect(r.malformed).toBe(4);
    expect(parseUpdateHistory('')).toEqual({ events: [], installed: [], malformed: 0 });
    expect(() => parseUpdateHistory('Exception from HRESULT: 0x8024402C')).toThrow(PowerShellJsonError);
  });
});
