import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PowerShellJsonError } from './powershell-json.js';
import { parseCurrentVersion } from './os-version.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('CurrentVersion parser (genuine recordings, fixtures/README.md)', () => {
  it('reads Windows Server 2019 (-Name CurrentBuild, UBR, EditionID)', () => {
    expect(parseCurrentVersion(fixture('CurrentVersion.ws2019.cnquery.json'))).toEqual({
      build: 17763, ubr: 720, version: '10.0.17763.720', editionId: 'ServerDatacenterEval',
    });
  });

  it('reads Windows Server 2022 with DisplayVersion and InstallationType', () => {
    expect(parseCurrentVersion(fixture('CurrentVersion.ws2022.cnquery.json'))).toEqual({
      build: 20348, ubr: 2762, version: '10.0.20348.2762', displayVersion: '21H2', editionId: 'ServerDatacenter',
      productName: 'Windows Server 2022 Datacenter', installationType: 'Server', windows11: false,
    });
  });

  it('tells Windows 11 by build on clients, whatever ProductName says', () => {
    const v = parseCurrentVersion('{"CurrentBuild":"22631","UBR":4037,"ProductName":"Windows 10 Pro","InstallationType":"Client"}');
    expect(v.windows11).toBe(true);
    expect(v.version).toBe('10.0.22631.4037');
  });

  it('refuses output without a build', () => {
    expect(() => parseCurrentVersion('')).toThrow(PowerShellJsonError);
    expect(() => parseCurrentVersion('{"EditionID":"Core"}')).toThrow(PowerShellJsonError);
  });
});
