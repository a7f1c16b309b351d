import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHotfixes } from './hotfix.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('Get-HotFix parser (genuine recording, fixtures/README.md)', () => {
  it('reads the Windows Server 2019 hotfix list (Select-Object HotFixId …)', () => {
    const { hotfixes, malformed } = parseHotfixes(fixture('Get-HotFix.ws2019.cnquery.json'));
    expect(malformed).toBe(0);
    expect(hotfixes.map((h) => h.id)).toEqual(['KB4486553', 'KB4462930', 'KB4470788', 'KB4480056', 'KB4487038', 'KB4482887']);
    expect(hotfixes[2]).toEqual({ id: 'KB4470788', description: 'Security Update', installedBy: 'NT AUTHORITY\\SYSTEM' });
  });

  it('reads InstalledOn in both of PowerShell forms, a single object, and counts rows without an id', () => {
    const r = parseHotfixes(JSON.stringify([
      { HotFixID: 'kb4512578', Description: 'Security Update', InstalledOn: { value: '/Date(1567807200000)/', DateTime: 'sábado, 7 de septiembre de 2019 0:00:00' } },
      { HotFixID: 'KB1', InstalledOn: '/Date(1567807200000)/' },
      { Description: 'Update' },
    ]));
    expect(r.hotfixes[0]).toEqual({ id: 'KB4512578', description: 'Security Update', installedOn: new Date(1567807200000) });
    expect(r.hotfixes[1]?.installedOn).toEqual(new Date(1567807200000));
    expect(r.malformed).toBe(1);
    expect(parseHotfixes('{"HotFixID":"KB2"}').hotfixes).toEqual([{ id: 'KB2' }]);
  });
});

describe('Get-HotFix InstalledOn as the raw WMI value the query reads (hand-written rows)', () => {
  // The query prints Win32_QuickFixEngineering's own InstalledOn string (M/d/yyyy, as wmic prints it:
  // `InstalledOn=4/11/2017` in the qfe list quoted in github.com/zeffy/wufuc issue 92), not Get-HotFix's
  // InstalledOn, which parses that string with the host's culture (fails or swaps day and month on
  // vi-VN, d/M/yyyy) and turns it into local midnight (the day before in UTC east of Greenwich).
  it('reads M/d/yyyy as that calendar day (UTC midnight), whatever the host time zone', () => {
    const r = parseHotfixes(JSON.stringify([
      { HotFixID: 'KB3000483', InstalledOn: '7/3/2017' },
      { HotFixID: 'KB5034441', InstalledOn: '1/15/2024' },
    ]));
    expect(r.hotfixes.map((h) => h.installedOn?.toISOString())).toEqual(['2017-07-03T00:00:00.000Z', '2024-01-15T00:00:00.000Z']);
  });

  it('reads a day-first value only when it cannot be month-first, the old FILETIME hex form, and ignores nonsense', () => {
    const r = parseHotfixes(JSON.stringify([
      { HotFixID: 'KB1', InstalledOn: '15/1/2024' },
      { HotFixID: 'KB2', InstalledOn: '01cc3a8a5c9a7a00' },
      { HotFixID: 'KB3', InstalledOn: '13/13/2024' },
      { HotFixID: 'KB4', InstalledOn: '' },
      { HotFixID: 'KB5', InstalledOn: null },
    ]));
    expect(r.hotfixes.map((h) => h.installedOn?.toISOString().slice(0, 10))).toEqual(['2024-01-15', '2011-07-04', undefined, undefined, undefined]);
  });
});
