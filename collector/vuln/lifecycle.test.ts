import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCanhGacError } from '../../common/errors.js';
import { buildLifecycle, lifecycleFields, loadLifecycleFile, parseLifecycle } from './lifecycle.js';
import { REPO_ROOT } from './testing/fixtures.js';

const TABLE = `${REPO_ROOT}/rules/data/os-lifecycle.yaml`;
const shipped = loadLifecycleFile(TABLE);
const table = buildLifecycle([{ entries: shipped, from: 'rules/data/os-lifecycle.yaml' }]);

function csv(path: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i]!, v])));
}

describe('the shipped OS lifecycle table', () => {
  it('loads and covers the releases agencies run', () => {
    for (const [p, v] of [['debian', '10'], ['debian', '11'], ['debian', '12'], ['debian', '13'], ['ubuntu', '20.04'], ['ubuntu', '22.04'], ['ubuntu', '24.04'], ['rocky', '8'], ['rocky', '9'], ['almalinux', '8'], ['almalinux', '9'], ['centos', '7']] as const) {
      expect(table.lookup(p, v)?.eol, `${p} ${v}`).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  // Oracle: Debian's distro-info-data, installed on Debian and Ubuntu machines.
  it.runIf(existsSync('/usr/share/distro-info/debian.csv'))('agrees with /usr/share/distro-info/debian.csv (eol = eol-lts, else eol)', () => {
    let compared = 0;
    for (const r of csv('/usr/share/distro-info/debian.csv')) {
      const e = r.version && /^\d+$/.test(r.version) && Number(r.version) >= 7 ? table.lookup('debian', r.version) : undefined;
      if (!e || !r.release) continue;
      expect(e.eol, `Debian ${r.version}`).toBe(r['eol-lts'] || r.eol || undefined);
      expect(e.regular_end, `Debian ${r.version}`).toBe(r.eol || undefined);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(6);
  });

  it.runIf(existsSync('/usr/share/distro-info/ubuntu.csv'))('agrees with /usr/share/distro-info/ubuntu.csv (eol = end of standard support)', () => {
    let compared = 0;
    for (const r of csv('/usr/share/distro-info/ubuntu.csv')) {
      const version = r.version!.replace(' LTS', '');
      const e = Number(version.split('.')[0]) >= 14 ? table.lookup('ubuntu', version) : undefined;
      if (!e) continue;
      expect(e.eol, `Ubuntu ${version}`).toBe(r.eol);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(20);
  });
});

describe('lookup and host fields', () => {
  it('finds RHEL rebuilds by major release and adds host.os.eol at the end of the last day', () => {
    expect(table.lookup('rocky', '9.3')?.eol).toBe('2032-05-31');
    expect(table.lookup('Rocky', '9')?.eol).toBe('2032-05-31');
    expect(lifecycleFields({ 'host.os.platform': 'debian', 'host.os.version': '11' }, table)).toEqual({
      'host.os.ecosystem': 'Debian:11', 'host.os.eol': '2026-08-31T23:59:59.999Z', 'host.os.eol_source': 'rules/data/os-lifecycle.yaml', 'host.os.codename': 'bullseye',
    });
    expect(lifecycleFields({ 'host.os.name': 'Ubuntu', 'host.os.version': '22.04' }, table)).toMatchObject({ 'host.os.ecosystem': 'Ubuntu:22.04:LTS', 'host.os.eol': '2027-06-01T23:59:59.999Z' });
    expect(lifecycleFields({ 'host.os.platform': 'arch' }, table)).toEqual({});
    expect(lifecycleFields({ 'host.os.platform': 'fedora', 'host.os.version': '40' }, table)).toEqual({});
  });

  it('a feed\'s eol.json overrides the shipped entry for the same release', () => {
    const feed = parseLifecycle({ releases: [{ platform: 'debian', version: '12', eol: '2028-07-01', source: 'feed test' }] }, 'eol.json');
    const t = buildLifecycle([{ entries: shipped, from: 'shipped' }, { entries: feed, from: 'feed' }]);
    expect(t.lookup('debian', '12')).toMatchObject({ eol: '2028-07-01', from: 'feed test' });
    expect(t.lookup('debian', '11')?.from).toBe('shipped');
  });

  it('refuses a malformed table with the path of the problem', () => {
    for (const bad of [{ releases: [{ platform: 'debian', version: '12', eol: '30/06/2028' }] }, { releases: [{ platform: 'debian', version: '12', typo: 1 }] }, []]) {
      let err: unknown;
      try {
        parseLifecycle(bad, 'eol.json');
      } catch (e) {
        err = e;
      }
      expect(isCanhGacError(err, 'COLLECTOR_LIFECYCLE_INVALID')).toBe(true);
    }
  });
});
