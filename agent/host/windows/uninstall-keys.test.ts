import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseUninstallKeys } from './uninstall-keys.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('Uninstall registry keys parser (genuine recording, fixtures/README.md)', () => {
  const { programs, hidden } = parseUninstallKeys(fixture('Uninstall-keys.ws.cnquery.json'));

  it('returns the 20 keys with a DisplayName and counts the 4 without', () => {
    expect(programs).toHaveLength(20);
    expect(hidden).toBe(4);
  });

  it('keeps the values as the installers wrote them', () => {
    expect(programs.find((p) => p.name === 'Microsoft Visual C++ 2015-2019 Redistributable (x86) - 14.28.29913')).toEqual({
      name: 'Microsoft Visual C++ 2015-2019 Redistributable (x86) - 14.28.29913',
      version: '14.28.29913.0',
      publisher: 'Microsoft Corporation',
      estimatedSizeKiB: 20337,
      uninstallString: '"C:\\ProgramData\\Package Cache\\{03d1453c-7d5c-479c-afea-8482f406e036}\\VC_redist.x86.exe"  /uninstall',
    });
    expect(programs.find((p) => p.name === 'VMware Tools')).toMatchObject({ version: '11.3.0.18090558', publisher: 'VMware, Inc.', estimatedSizeKiB: 131724 });
    // A program without Publisher or size (Edge Update) is still a program.
    expect(programs.find((p) => p.name === 'Microsoft Edge Update')).toEqual({ name: 'Microsoft Edge Update', version: '1.3.171.37' });
    expect(programs.find((p) => p.name === 'Microsoft Edge')?.version).toBe('108.0.1462.42');
  });

  it('reads a single key (a bare object) and InstallDate', () => {
    const r = parseUninstallKeys('{"DisplayName":"7-Zip","DisplayVersion":"23.01","InstallDate":"20240105"}');
    expect(r.programs).toEqual([{ name: '7-Zip', version: '23.01', installDate: '20240105' }]);
  });
});
