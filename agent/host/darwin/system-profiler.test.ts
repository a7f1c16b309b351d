import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlistError, parsePlist, type PlistValue } from './plist.js';
import { parseSystemProfilerApps, vendorOf } from './system-profiler.js';

const FIXTURE = new URL('./fixtures/system_profiler-SPApplicationsDataType-xml.macos14.glpi-sample5.xml', import.meta.url);
const xml = readFileSync(FIXTURE, 'utf8');

/** Dates as ISO strings, for comparing with Python's plistlib. */
function plain(v: PlistValue): unknown {
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));

describe('parsePlist', () => {
  // Oracle: Python's plistlib reads the same recording.
  it.runIf(python !== undefined)('reads the recorded system_profiler plist exactly as Python\'s plistlib does', () => {
    const script = 'import json,plistlib,sys\nd=plistlib.load(open(sys.argv[1],"rb"))\n'
      + 'def f(v):\n  import datetime\n  if isinstance(v,datetime.datetime): return v.strftime("%Y-%m-%dT%H:%M:%SZ")\n'
      + '  if isinstance(v,dict): return {k:f(x) for k,x in v.items()}\n  if isinstance(v,list): return [f(x) for x in v]\n  return v\n'
      + 'print(json.dumps(f(d)))';
    const oracle = JSON.parse(execFileSync(python!, ['-c', script, FIXTURE.pathname], { encoding: 'utf8' })) as unknown;
    expect(plain(parsePlist(xml))).toEqual(oracle);
  });

  it('decodes entities and empty forms, and names the line of a problem', () => {
    expect(parsePlist('<plist version="1.0"><dict><key>a&amp;b</key><string>x &lt;y&gt; &#233;&#x4E2D;</string><key>e</key><string/><key>l</key><array/><key>t</key><true/></dict></plist>'))
      .toEqual({ 'a&b': 'x <y> é中', e: '', l: [], t: true });
    expect(() => parsePlist('<plist>\n<dict>\n<string>x</string></dict></plist>')).toThrow(PlistError);
    expect(() => parsePlist('<plist>\n<dict>\n<string>x</string></dict></plist>')).toThrow(/line 3: expected <key>/);
    expect(() => parsePlist('<html></html>')).toThrow(/not a <plist>/);
    expect(() => parsePlist('<plist><array><string>x</array></plist>')).toThrow(/unexpected markup|missing/);
  });
});

describe('parseSystemProfilerApps (recorded on macOS 14.4, GLPI Agent sample5)', () => {
  const { apps, malformed } = parseSystemProfilerApps(xml);

  it('lists every application item with name, version, path, origin and vendor', () => {
    expect(malformed).toBe(0);
    expect(apps).toHaveLength(13);
    expect(apps[0]).toEqual({
      name: 'Terminal', version: '2.12.7', path: '/System/Applications/Utilities/Terminal.app', obtainedFrom: 'apple', vendor: 'Apple',
      archKind: 'arch_arm_i64', lastModified: '2024-02-26T05:47:45.000Z',
    });
    expect(apps.find((a) => a.name === 'Google Chrome')).toMatchObject({ version: '111.0.5563.110', vendor: 'Google LLC', obtainedFrom: 'identified_developer' });
    expect(apps.find((a) => a.name === 'OneDrive')?.vendor).toBe('Microsoft Corporation');
    expect(apps.find((a) => a.name === 'GarageBand')).toMatchObject({ obtainedFrom: 'mac_app_store', version: '6.0.5' });
    expect(apps.find((a) => a.name === 'GarageBand')?.vendor).toBeUndefined();
    expect(apps.find((a) => a.name === 'Adobe Photoshop Elements')?.version).toBe('9.0 (20100905.m.9093)');
  });

  it('keeps bundles without a version (an unsigned helper has none) and without a signer', () => {
    const helper = apps.find((a) => a.name === 'com.apple.ctcategories')!;
    expect(helper.version).toBeUndefined();
    expect(helper.vendor).toBeUndefined();
    expect(apps.find((a) => a.name === 'Adobe Help')).toMatchObject({ version: '3.2.1.650', obtainedFrom: 'unknown' });
  });

  it('takes the team name from a Developer ID signature', () => {
    expect(vendorOf(['Developer ID Application: Adobe Inc. (JQ525L2MZD)', 'Developer ID Certification Authority'], 'identified_developer')).toBe('Adobe Inc.');
    expect(vendorOf([], 'unknown')).toBeUndefined();
  });
});
