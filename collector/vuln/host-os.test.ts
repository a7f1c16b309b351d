import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKnownEcosystem } from './osv.js';
import { hostOs } from './host-os.js';
import { REPO_ROOT } from './testing/fixtures.js';

describe('hostOs: the OSV ecosystem of a host', () => {
  it.each([
    ['debian', '12', 'Debian:12'],
    ['ubuntu', '22.04', 'Ubuntu:22.04:LTS'],
    ['ubuntu', '24.04', 'Ubuntu:24.04:LTS'],
    ['ubuntu', '23.10', 'Ubuntu:23.10'],
    ['ubuntu', '25.04', 'Ubuntu:25.04'],
    ['rocky', '9.3', 'Rocky Linux:9'],
    ['almalinux', '8.10', 'AlmaLinux:8'],
  ])('%s %s → %s (a name OSV uses)', (platform, version, ecosystem) => {
    expect(hostOs({ 'host.os.platform': platform, 'host.os.version': version }).ecosystem).toBe(ecosystem);
    expect(isKnownEcosystem(ecosystem)).toBe(true);
  });

  it('falls back to host.os.name when the platform is missing', () => {
    expect(hostOs({ 'host.os.name': 'Rocky Linux', 'host.os.version': '9.4' }).ecosystem).toBe('Rocky Linux:9');
    expect(hostOs({ 'host.os.name': 'Debian GNU/Linux', 'host.os.version': '12' }).ecosystem).toBe('Debian:12');
  });

  it('says why there is no ecosystem', () => {
    expect(hostOs({}).reason).toMatch(/names no operating system/);
    expect(hostOs({ 'host.os.platform': 'debian' }).reason).toMatch(/no version/);
    expect(hostOs({ 'host.os.platform': 'windows', 'host.os.version': '10.0.22631' }).reason).toMatch(/no OSV advisories are matched for windows/);
    expect(hostOs({ 'host.os.platform': 'ubuntu', 'host.os.version': '22.04.4' }).reason).toMatch(/not YY\.MM/);
  });

  it('maps the recorded Debian 12 host of the inventory check', () => {
    const facts = JSON.parse(readFileSync(`${REPO_ROOT}/agent/checks/inventory/fixtures/system-facts.debian12.json`, 'utf8')) as { osRelease: Record<string, string> };
    expect(hostOs({ 'host.os.platform': facts.osRelease.ID!, 'host.os.version': facts.osRelease.VERSION_ID! }).ecosystem).toBe('Debian:12');
  });
});
