import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../collector/vuln/bundle.js';
import { TEST_BUNDLE, TEST_BUNDLE_INPUTS, TEST_OSV_DIR, TEST_PRIVATE_KEY, testTrustedKey } from '../../collector/vuln/testing/fixtures.js';
import { toolAvailable } from '../../collector/vuln/testing/oracles.js';
import { loadTrustedKeys } from '../../collector/vuln/trust.js';
import { buildFromInputs, main as buildMain, restrictToEcosystem } from './build-bundle.js';
import { keygen } from './keygen.js';
import { readZip } from './zip.js';

const dir = mkdtempSync(join(tmpdir(), 'cg-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('build-bundle', () => {
  it('rebuilds the committed test bundle byte for byte (the fixture is reproducible)', () => {
    const out = join(dir, 'rebuilt.cgfeed');
    const { bytes, warnings } = buildFromInputs({
      out, ...TEST_BUNDLE_INPUTS,
    });
    expect(warnings).toEqual([]);
    expect(bytes.equals(readFileSync(TEST_BUNDLE))).toBe(true);
    expect(readFileSync(out).equals(bytes)).toBe(true);
  });

  it('keeps only the named ecosystem\'s entries and drops records without any', () => {
    const raw = { id: 'X', affected: [{ package: { ecosystem: 'Debian:11', name: 'a' } }, { package: { ecosystem: 'Debian:12', name: 'a' } }] };
    expect(restrictToEcosystem(raw, 'Debian:12')).toEqual({ id: 'X', affected: [{ package: { ecosystem: 'Debian:12', name: 'a' } }] });
    expect(restrictToEcosystem(raw, 'Debian:13')).toBeUndefined();
  });

  it('builds from a JSON array, reports bad records and duplicates, and signs with a new key', () => {
    const keys = keygen(join(dir, 'keys'), 'site');
    expect(statSync(keys.keyFile).mode & 0o777).toBe(0o600);
    expect(() => keygen(join(dir, 'keys'), 'site')).toThrow(/refusing to overwrite/);
    const input = join(dir, 'records.json');
    const rec = (id: string, eco: string) => ({ id, affected: [{ package: { ecosystem: eco, name: 'p' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] });
    writeFileSync(input, JSON.stringify([rec('A', 'Ubuntu:22.04:LTS'), rec('B', 'Ubuntu:20.04:LTS'), { affected: [] }, rec('A', 'Ubuntu:22.04:LTS')]));
    const out = join(dir, 'ubuntu.cgfeed');
    const { manifest, warnings } = buildFromInputs({ out, keyFile: keys.keyFile, osv: [{ ecosystem: 'Ubuntu:22.04:LTS', path: input }], builtAt: new Date('2026-02-03T04:05:06Z') });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/records.json\[2\].*id/);
    expect(warnings[1]).toMatch(/A appears twice/);
    expect(manifest.files).toEqual([expect.objectContaining({ path: 'osv/Ubuntu_22.04_LTS.json', ecosystem: 'Ubuntu:22.04:LTS', records: 1 })]);
    expect(manifest.sources[0]).toMatchObject({ id: 'osv-ubuntu-22.04-lts', licence: 'CC-BY-SA-4.0' });
    expect(manifest.id).toMatch(/^20260203T040506Z-[0-9a-f]{12}$/);
    const v = verifyBundle(readFileSync(out), loadTrustedKeys(join(dir, 'keys')));
    expect(v.osv.get('Ubuntu:22.04:LTS')!.map((r) => r.id)).toEqual(['A']);
    expect(() => verifyBundle(readFileSync(out), [testTrustedKey()])).toThrow(/not trusted/);
  });

  it('the command line explains its usage and refuses an unknown ecosystem', () => {
    expect(buildMain([])).toBe(2);
    expect(() => buildMain(['--key', TEST_PRIVATE_KEY, '--out', join(dir, 'x.cgfeed'), '--osv', `Windows:11=${TEST_OSV_DIR}`])).toThrow(/not an ecosystem Canh Gác can match/);
    expect(() => buildMain(['--key', TEST_PRIVATE_KEY, '--out', join(dir, 'x.cgfeed'), '--osv', TEST_OSV_DIR])).toThrow(/--osv takes <Ecosystem>=<path>/);
  });
});

const havePython = toolAvailable('python3', ['--version']);
if (!havePython) console.warn('SKIPPED: zip reader test — python3 (its zipfile module writes the test archives) is not installed; CI=true turns this into a failure');

describe('reading OSV all.zip', () => {
  it.runIf(!havePython && process.env.CI === 'true')('python3 must be installed in CI', () => {
    expect.fail('python3 is not installed but CI=true');
  });

  it.skipIf(!havePython)('reads stored and deflated entries written by python zipfile, and builds from them', () => {
    const zip = join(dir, 'all.zip');
    const records = readFileSync(join(TEST_OSV_DIR, 'DSA-5514-1.json'), 'utf8');
    const script = [
      'import sys, zipfile',
      'rec = open(sys.argv[2]).read()',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '    z.writestr(zipfile.ZipInfo("DSA-5514-1.json"), rec, compress_type=zipfile.ZIP_DEFLATED)',
      '    z.writestr("stored.txt", "not json", compress_type=zipfile.ZIP_STORED)',
      '    z.writestr("sub/", "")',
      '    with z.open("DSA-9999-1.json", "w", force_zip64=True) as f: f.write(rec.replace("DSA-5514-1", "DSA-9999-1").encode())',
    ].join('\n');
    const py = spawnSync('python3', ['-c', script, zip, join(TEST_OSV_DIR, 'DSA-5514-1.json')], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const entries = [...readZip(readFileSync(zip))];
    expect(entries.map((e) => e.name)).toEqual(['DSA-5514-1.json', 'stored.txt', 'DSA-9999-1.json']);
    expect(entries[0]!.data.toString()).toBe(records);
    const { manifest } = buildFromInputs({ out: join(dir, 'zip.cgfeed'), keyFile: TEST_PRIVATE_KEY, osv: [{ ecosystem: 'Debian:12', path: zip }] });
    expect(manifest.files[0]!.records).toBe(2);
    const damaged = Buffer.from(readFileSync(zip));
    damaged[60]! ^= 0xff;
    expect(() => [...readZip(damaged)]).toThrow(/not a readable zip/);
  });

  it.skipIf(!havePython)('reads a ZIP64 archive of more than 65,535 entries (the size of a distribution\'s all.zip)', () => {
    const zip = join(dir, 'big.zip');
    const script = 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for i in range(70000): z.writestr(f"r{i}.json", "{}")';
    const py = spawnSync('python3', ['-c', script, zip], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const buf = readFileSync(zip);
    expect(buf.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    let count = 0;
    for (const e of readZip(buf)) {
      if (count === 69_999) expect(e.name).toBe('r69999.json');
      count++;
    }
    expect(count).toBe(70_000);
  }, 60_000);
});

describe('keygen folder layout for operators', () => {
  it('writes the public key a collector trusts by copying it to <data dir>/feed-trust/', () => {
    const k = keygen(join(dir, 'op'), 'agency-feed');
    const dataDir = join(dir, 'data');
    mkdirSync(join(dataDir, 'feed-trust'), { recursive: true });
    writeFileSync(join(dataDir, 'feed-trust', 'agency-feed.pub'), readFileSync(k.pubFile));
    expect(loadTrustedKeys(join(dataDir, 'feed-trust')).map((t) => t.keyId)).toEqual([k.keyId]);
  });
});
