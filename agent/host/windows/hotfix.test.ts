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
