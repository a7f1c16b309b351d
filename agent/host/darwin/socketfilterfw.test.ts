import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAlfApps, parseAlfState } from './socketfilterfw.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('socketfilterfw state (genuine recordings, fixtures/README.md)', () => {
  it('macOS 13-era wording: block all DISABLED!, two allow-signed lines, a stealth-mode error kept as an error', () => {
    const s = parseAlfState(fixture('socketfilterfw-state.macos.pareto-139.txt'));
    expect(s).toMatchObject({ globalState: 1, enabled: true, blockAll: false, allowSignedBuiltIn: true, allowSignedDownloaded: true, unrecognized: [] });
    expect(s.stealth).toBeUndefined();
    expect(s.errors).toEqual(['ALF: Error, kStealthEnableKey does not return the correct type.']);
  });

  it('later wording (Kolide recording): State = 2 with block all disabled, stealth on, log lines ignored', () => {
    const s = parseAlfState(fixture('socketfilterfw-state.kolide.txt'));
    expect(s).toMatchObject({ globalState: 2, enabled: true, blockAll: false, allowSignedBuiltIn: true, allowSignedDownloaded: true, stealth: true, errors: [], unrecognized: [] });
    expect(s.lines).toHaveLength(7);
  });

  it('a bare global state line (m-cli issue): State = 2 and no block-all line', () => {
    const s = parseAlfState(fixture('socketfilterfw-getglobalstate.m-cli-160.txt'));
    expect(s).toMatchObject({ globalState: 2, enabled: true });
    expect(s.blockAll).toBeUndefined();
  });

  // Hand-written, for wordings quoted in the sources but not recorded in full (see fixtures/README.md).
  it('edge cases (hand-written): off, the blocking-all wording, stealth "is on", an unknown line', () => {
    expect(parseAlfState('Firewall is disabled. (State = 0)\n')).toMatchObject({ globalState: 0, enabled: false });
    expect(parseAlfState('Firewall is blocking all non-essential incoming connections. (State = 2)\n')).toMatchObject({ enabled: true, blockAll: true });
    expect(parseAlfState('Firewall has block all state set to enabled.\nFirewall stealth mode is on\n')).toMatchObject({ blockAll: true, stealth: true });
    expect(parseAlfState('Automatically allow signed software ENABLED\n')).toMatchObject({ allowSignedBuiltIn: true, allowSignedDownloaded: true });
    expect(parseAlfState('Something new\n').unrecognized).toEqual(['Something new']);
  });
});

describe('socketfilterfw --listapps (genuine recordings, three layouts)', () => {
  it('macOS 26: "Total number of apps", numbered paths, the action on the next line', () => {
    const r = parseAlfApps(fixture('socketfilterfw-listapps.macos26.nix-darwin-1705.txt'));
    expect(r.malformed).toBe(0);
    expect(r.count).toBe(9);
    expect(r.apps).toHaveLength(9);
    expect(r.apps[0]).toEqual({ program: '/usr/libexec/sshd-session', action: 'block', as: 'Block incoming connections' });
    expect(r.apps.find((a) => a.program === '/usr/bin/python3')?.action).toBe('allow');
    expect(r.apps.filter((a) => a.action === 'block').map((a) => a.program)).toEqual(['/usr/libexec/sshd-session', '/usr/libexec/sshd-auth']);
  });

  it('older macOS: "ALF: total number of apps", paths with spaces and trailing blanks', () => {
    const r = parseAlfApps(fixture('socketfilterfw-listapps.macos.osquery-2322.txt'));
    expect(r).toMatchObject({ count: 3, malformed: 0 });
    expect(r.apps.map((a) => `${a.program}=${a.action}`)).toEqual([
      '/Users/abanks/Library/Application Support/Dropbox/Dropbox.app=allow',
      '/System/Library/CoreServices/RemoteManagement/ARDAgent.app=allow',
      '/Library/Application Support/Citrix/NetScaler Gateway.app=allow',
    ]);
  });

  it('name-only layout with state codes (Kolide recording): 1 allow, 4 block', () => {
    const r = parseAlfApps(fixture('socketfilterfw-listapps.kolide.txt'));
    expect(r).toMatchObject({ count: 6, malformed: 0 });
    expect(r.apps.map((a) => `${a.program}=${a.action}`)).toEqual([
      'replicatord=allow', 'Pop Helper.app=block', 'Google Chrome=block', 'rtadvd=allow', 'com.docker.backend=allow', 'sshd-keygen-wrapper=allow',
    ]);
    expect(r.apps.length).toBe(r.count);
  });

  it('edge cases (hand-written): an unknown state code, a program with no action line, garbage', () => {
    const r = parseAlfApps('Total number of apps = 2\nfoo (state: 3)\n1 : /bin/x\nnot a line\n');
    expect(r.apps).toEqual([{ program: 'foo', action: 'unknown', as: 'state: 3' }, { program: '/bin/x', action: 'unknown', as: '' }]);
    expect(r.malformed).toBe(2);
  });
});
