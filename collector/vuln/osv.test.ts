import { describe, expect, it } from 'vitest';
import { isCanhGacError } from '../../common/errors.js';
import { vulnerabilityFields } from './fields.js';
import { isAffected } from './match.js';
import { isKnownEcosystem, parseEcosystem, parseOsvArray, parseOsvRecord, recordAliases } from './osv.js';

describe('OSV records', () => {
  it('tolerates unknown fields and keeps what matching needs', () => {
    const r = parseOsvRecord({
      schema_version: '9.9.9', id: 'DSA-1-1', future_field: { x: 1 }, upstream: ['CVE-2024-1', 'DEBIAN-CVE-2024-1'], aliases: ['CVE-2024-1', 'GHSA-x'],
      affected: [{ package: { ecosystem: 'Debian:12', name: 'p', new_key: true }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }], database_specific: {} }], unknown: [] }],
    }, 'test');
    expect(r.affected[0]!.package!.name).toBe('p');
    expect(recordAliases(r)).toEqual(['CVE-2024-1', 'GHSA-x', 'DEBIAN-CVE-2024-1']);
  });

  it('says where a record is wrong', () => {
    try {
      parseOsvArray([{ id: 'A', affected: [] }, { id: 'B', affected: [{ ranges: [{ type: 'ECOSYSTEM', events: [] }] }] }], 'osv/Debian_12.json');
      expect.unreachable();
    } catch (e) {
      expect(isCanhGacError(e, 'COLLECTOR_OSV_INVALID')).toBe(true);
      expect((e as { where?: string }).where).toBe('osv/Debian_12.json[1] (B)');
      expect((e as Error).message).toMatch(/affected.0.ranges.0.events/);
    }
  });
});

describe('ecosystems', () => {
  it.each([
    ['Debian:12', 'dpkg', true],
    ['Ubuntu:22.04:LTS', 'dpkg', true],
    ['Ubuntu:Pro:16.04:LTS', 'dpkg', true],
    ['Ubuntu:24.10', 'dpkg', true],
    ['Rocky Linux:9', 'rpm', false],
    ['AlmaLinux:9', 'rpm', false],
  ] as const)('%s uses %s order, keyed by source: %s', (name, order, bySource) => {
    const e = parseEcosystem(name);
    expect(e.order.name).toBe(order);
    expect(e.keyedBySource).toBe(bySource);
  });

  it.each([
    ['Ubuntu:22.04', /":LTS" suffix/],
    ['Debian:bookworm', /Debian:<major release>/],
    ['Rocky Linux', /Rocky Linux:<major release>/],
    ['PyPI', /only Debian, Ubuntu/],
  ])('refuses %s', (name, message) => {
    expect(() => parseEcosystem(name)).toThrow(message);
    expect(isKnownEcosystem(name)).toBe(false);
  });
});

describe('finding fields', () => {
  it('turns a match into the ECS fields of a vulnerability finding', () => {
    const r = parseOsvRecord({
      id: 'DEBIAN-CVE-2024-8176', upstream: ['CVE-2024-8176'], severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' }],
      affected: [{ package: { ecosystem: 'Debian:12', name: 'expat' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.5.0-1+deb12u2' }] }] }],
    }, 'test');
    expect(vulnerabilityFields(isAffected(r, 'Debian:12', 'expat', '2.5.0-1+deb12u1')!)).toEqual({
      'vulnerability.id': 'DEBIAN-CVE-2024-8176',
      'vulnerability.aliases': ['CVE-2024-8176'],
      'vulnerability.cves': ['CVE-2024-8176'],
      'vulnerability.severity': 'high',
      'vulnerability.score.base': 7.5,
      'vulnerability.score.version': '3.1',
      'vulnerability.score.vector': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
      'vulnerability.kev': false,
      'vulnerability.fix_available': true,
      'vulnerability.fixed_version': '2.5.0-1+deb12u2',
      'vulnerability.explanation': 'installed 2.5.0-1+deb12u1 < fixed 2.5.0-1+deb12u2 (dpkg order); affected range introduced 0',
      'vulnerability.ecosystem': 'Debian:12',
      'package.name': 'expat',
      'package.version': '2.5.0-1+deb12u1',
      'package.source.name': 'expat',
    });
  });
});
