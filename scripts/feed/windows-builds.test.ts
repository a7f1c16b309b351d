import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FEED_FIXTURES, TEST_WINDOWS_BUILDS } from '../../collector/vuln/testing/fixtures.js';
import { fromCveKbMapping, fromCvrf, main, windowsTable } from './windows-builds.js';

const dir = mkdtempSync(join(tmpdir(), 'cg-winbuilds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MAPPING = join(FEED_FIXTURES, 'windows', 'CVE_KB_Mapping_2025-May.subset.json');

describe('windows-builds from the genuine CVE→KB mapping of May 2025', () => {
  it('rebuilds the committed windows-builds.json byte for byte', () => {
    const committed = JSON.parse(readFileSync(TEST_WINDOWS_BUILDS, 'utf8')) as { source: string };
    const out = join(dir, 'wb.json');
    expect(main(['--out', out, '--cve-kb-mapping', MAPPING, '--document', '2025-May', '--source', committed.source])).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(TEST_WINDOWS_BUILDS, 'utf8'));
  });

  it('keeps every patch row with its KB, build (10.0. added) and score, and the exploited flag', () => {
    const r = fromCveKbMapping(JSON.parse(readFileSync(MAPPING, 'utf8')), MAPPING, '2025-May');
    expect(r.fixes).toHaveLength(14);
    expect(r.fixes.find((f) => f.cve === 'CVE-2025-30400' && f.product === 'Windows Server 2019')).toEqual({
      cve: 'CVE-2025-30400', product: 'Windows Server 2019', fixed_build: '10.0.17763.7314', kb: 'KB5058392', cvss_score: 7.8, exploited: true, document: '2025-May',
    });
    expect(r.skipped).toEqual({});
  });
});

/**
 * HAND-WRITTEN: no genuine MSRC CVRF document (or part of one) was found in the public sources
 * searched (test/fixtures/feed/README.md). This document follows the shape of the CVRF v3 JSON the
 * MSRC API returns; CVE ids are placeholders (CVE-2099-…), the KB/build pairs are real
 * (KB5046616 = 10.0.20348.2849, November 2024; KB5058392 = 10.0.17763.7314, May 2025).
 */
const HAND_WRITTEN_CVRF = {
  DocumentTitle: { Value: 'Test Security Updates' },
  DocumentTracking: { Identification: { ID: { Value: '2099-Jan' } } },
  ProductTree: {
    FullProductName: [
      { ProductID: '11923', Value: 'Windows Server 2022' },
      { ProductID: '11924', Value: 'Windows Server 2022 (Server Core installation)' },
      { ProductID: '11571', Value: 'Windows Server 2019' },
      { ProductID: '11655', Value: 'Microsoft Edge (Chromium-based)' },
    ],
  },
  Vulnerability: [
    {
      Title: { Value: 'Windows Test Component Elevation of Privilege Vulnerability' },
      CVE: 'CVE-2099-0001',
      Threats: [
        { Type: 3, Description: { Value: 'Important' }, ProductID: ['11923', '11924', '11571'] },
        { Type: 1, Description: { Value: 'Publicly Disclosed:No;Exploited:Yes;Latest Software Release:Exploitation Detected' } },
      ],
      CVSSScoreSets: [{ BaseScore: 7.8, TemporalScore: 7.2, Vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/E:F/RL:O/RC:C', ProductID: ['11923', '11924', '11571'] }],
      Remediations: [
        { Type: 2, SubType: 'Security Update', Description: { Value: '5046616' }, FixedBuild: '10.0.20348.2849', ProductID: ['11923', '11924'], RestartRequired: { Value: 'Yes' } },
        { Type: 2, SubType: 'Security Update', Description: { Value: '5058392' }, FixedBuild: '10.0.17763.7314', ProductID: ['11571'] },
        { Type: 2, SubType: 'Security Hotpatch Update', Description: { Value: '5046540' }, FixedBuild: '10.0.20348.2820', ProductID: ['11923'] },
        { Type: 2, SubType: 'Security Update', Description: { Value: 'Release Notes' }, FixedBuild: '10.0.20348.2849', ProductID: ['11924'] },
        { Type: 0, Description: { Value: 'Disable the service' }, ProductID: ['11923'] },
      ],
    },
    {
      Title: { Value: 'Chromium: CVE-2099-0002 Use after free' },
      CVE: 'CVE-2099-0002',
      Remediations: [{ Type: 2, SubType: 'Security Update', Description: { Value: 'Release Notes' }, FixedBuild: '128.0.2739.42', ProductID: ['11655'] }],
    },
  ],
};

describe('windows-builds from a CVRF document (HAND-WRITTEN, see above)', () => {
  it('one row per CVE and Windows product with the KB of its vendor fix, severity, score, vector and exploited flag', () => {
    const r = fromCvrf(HAND_WRITTEN_CVRF, 'test');
    const table = windowsTable(r.fixes, 'test');
    expect(table.fixes.map((f) => `${f.cve} ${f.product} ${f.fixed_build} ${f.kb} ${f.severity} ${f.cvss_score} ${f.exploited} ${f.document}`)).toEqual([
      'CVE-2099-0001 Windows Server 2019 10.0.17763.7314 KB5058392 Important 7.8 true 2099-Jan',
      'CVE-2099-0001 Windows Server 2022 10.0.20348.2849 KB5046616 Important 7.8 true 2099-Jan',
      'CVE-2099-0001 Windows Server 2022 (Server Core installation) 10.0.20348.2849 KB5046616 Important 7.8 true 2099-Jan',
    ]);
    expect(table.fixes[0]!.cvss_vector).toBe('CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/E:F/RL:O/RC:C');
    expect(table.fixes[0]!.title).toBe('Windows Test Component Elevation of Privilege Vulnerability');
    expect(r.skipped).toEqual({ 'hotpatch update': 1, 'vendor fix without a KB number': 1, 'FixedBuild not 10.0.<build>.<UBR> (not Windows)': 1 });
  });

  it('refuses what is not a CVRF document, saying what to download', () => {
    expect(() => fromCvrf({ value: [] }, 'updates.json')).toThrow(/updates\.json: not an MSRC CVRF document .*cvrf\/v3\.0\/cvrf/);
    expect(main([])).toBe(2);
  });
});
