import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PowerShellJsonError } from './powershell-json.js';
import { parsePendingUpdates, SECURITY_UPDATES_CATEGORY } from './pending-updates.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('pending Windows updates parser (genuine Server 2019 search, fixtures/README.md)', () => {
  const r = parsePendingUpdates(fixture('WU-search-pending.ws2019.cnquery.json'));

  it('reads every update with its KB from KBArticleIDs', () => {
    expect(r.malformed).toBe(0);
    expect(r.updates.map((u) => u.kbs)).toEqual([['KB4462930'], ['KB4537759'], ['KB4538156'], ['KB4494174'], ['KB890830'], ['KB4538461']]);
    expect(r.updates[1]).toEqual({
      kbs: ['KB4537759'],
      title: '2020-02 Security Update for Adobe Flash Player for Windows Server 2019 for x64-based Systems (KB4537759)',
      updateId: '0b669361-bcf2-4c1c-b4fb-e5629cfdc3c0',
      revision: 200,
      severity: 'Critical',
      security: true,
      cves: [],
      categoryIds: [SECURITY_UPDATES_CATEGORY, 'f702a48c-919b-45d6-9aef-ca4248d50397'],
      rebootRequired: false,
    });
  });

  it('security by severity or by the Security Updates category id, never by the title', () => {
    expect(r.updates.filter((u) => u.security).map((u) => u.kbs[0])).toEqual(['KB4537759', 'KB4538461']);
    expect(r.updates[5]?.severity).toBeUndefined();
  });
});

describe('pending Windows updates parser: edge cases (hand-written input)', () => {
  it('a single object, one-element arrays unrolled, a localised title without KBArticleIDs, CVEs', () => {
    const r = parsePendingUpdates(JSON.stringify({
      Title: 'Bản cập nhật bảo mật 2024-01 cho Windows Server 2022 (KB5034129)', KBArticleIDs: null, MsrcSeverity: 'important',
      CveIDs: 'cve-2024-20674', CategoryIDs: ['0FA1201D-4330-4FA8-8AE9-B877473B6441'], RebootRequired: true,
    }));
    expect(r.updates).toEqual([{
      kbs: ['KB5034129'], title: 'Bản cập nhật bảo mật 2024-01 cho Windows Server 2022 (KB5034129)', severity: 'Important',
      security: true, cves: ['CVE-2024-20674'], categoryIds: [SECURITY_UPDATES_CATEGORY], rebootRequired: true,
    }]);
  });

  it('reads the id lists in PowerShell 5.1\'s { value, Count } array form too (the form the genuine filter recording shows)', () => {
    const r = parsePendingUpdates(JSON.stringify({
      Title: 'Update', KBArticleIDs: { value: ['5034129'], Count: 1 }, CveIDs: { value: ['CVE-2024-20674', 'CVE-2024-20666'], Count: 2 },
      CategoryIDs: { value: [SECURITY_UPDATES_CATEGORY], Count: 1 },
    }));
    expect(r.updates[0]).toMatchObject({ kbs: ['KB5034129'], cves: ['CVE-2024-20674', 'CVE-2024-20666'], security: true });
  });

  it('counts rows with neither title nor id; empty output is no update; an error text is refused', () => {
    expect(parsePendingUpdates('[{"MsrcSeverity":"Low"},{"UpdateID":"x","KBArticleIDs":[123456]}]')).toEqual({
      updates: [{ kbs: ['KB123456'], updateId: 'x', security: false, cves: [], categoryIds: [] }], malformed: 1,
    });
    expect(parsePendingUpdates('')).toEqual({ updates: [], malformed: 0 });
    expect(() => parsePendingUpdates('Exception from HRESULT: 0x8024402C')).toThrow(PowerShellJsonError);
  });
});
