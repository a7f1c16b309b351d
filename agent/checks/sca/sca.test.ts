import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { CheckContext } from '../check.js';
import { parseKeyValue } from '../../host/linux/keyvalue.js';
import { parsePam } from '../../host/linux/pam.js';
import { parseSshdT } from '../../host/linux/sshd.js';
import { parseAuditpolCsv } from '../../host/windows/auditpol.js';
import { parseNetAccountsPolicy } from '../../host/windows/net-accounts.js';
import { parseRegQuery } from '../../host/windows/reg.js';
import { combine, evaluateCheck, evaluateProbe, meets } from './evaluate.js';
import type { ScaHost } from './host.js';
import { createScaCheck, loadPolicies, programDir, scaFields } from './index.js';
import { parsePolicy, type Probe } from './policy.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const policiesDir = join(programDir(), 'rules', 'sca');
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).trim();
/** Why a Vietnamese text cannot be taken as a translation of `en`: missing, a copy, or without any Vietnamese letter. */
function untranslated(where: string, vi: string | undefined, en: string): string[] {
  if (vi === undefined || vi.trim() === '') return [`${where}: no Vietnamese text`];
  if (vi.trim() === en.trim()) return [`${where}: identical to the English text`];
  if (!VI_LETTER.test(vi.normalize('NFC'))) return [`${where}: no Vietnamese diacritics`];
  return [];
}
/** Letters only Vietnamese uses here: đ and the vowels with tone marks or hats (NFC). */
const VI_LETTER = /[đĐàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ]/u;
const ctx = (stateDir: string): CheckContext => ({ log: logger('test', { check: 'sca' }), stateDir, emit: async () => {} });

describe('policies in rules/sca', () => {
  const policies = loadPolicies(policiesDir);
  const byId = (id: string) => policies.find((p) => p.policy.id === id)!;

  it('load, with enough checks per platform, each citing CIS, NIST 800-53 and TCVN', () => {
    expect(policies.map((p) => p.policy.id).sort()).toEqual(['cg_debian', 'cg_windows', 'cg_windows_server']);
    expect(byId('cg_debian').checks.length).toBeGreaterThanOrEqual(16);
    expect(byId('cg_windows').checks.length).toBeGreaterThanOrEqual(18);
    expect(byId('cg_windows_server').checks.length).toBeGreaterThanOrEqual(7);
    const ids = new Set<string>();
    for (const p of policies) {
      for (const c of p.checks) {
        for (const fw of ['cis', 'nist_800_53', 'tcvn'] as const) expect(c.compliance[fw].length, `${c.id} ${fw}`).toBeGreaterThan(0);
        expect(ids.has(c.id), c.id).toBe(false);
        ids.add(c.id);
      }
    }
  });

  it('give every check a Vietnamese title and remediation that are translated, not copied', () => {
    const problems: string[] = [];
    for (const p of policies) {
      for (const c of p.checks) {
        const vi = c.i18n?.vi;
        problems.push(...untranslated(`${p.policy.id}/${c.id} title`, vi?.title, c.title));
        problems.push(...untranslated(`${p.policy.id}/${c.id} remediation`, vi?.remediation, c.remediation));
      }
    }
    expect(problems).toEqual([]);
  });

  it('the translation guard catches a missing, copied or diacritic-free text (hand-written cases)', () => {
    expect(untranslated('x', undefined, 'SSH refuses empty passwords')).toEqual(['x: no Vietnamese text']);
    expect(untranslated('x', ' SSH refuses empty passwords ', 'SSH refuses empty passwords')).toEqual(['x: identical to the English text']);
    expect(untranslated('x', 'SSH tu choi mat khau rong', 'SSH refuses empty passwords')).toEqual(['x: no Vietnamese diacritics']);
    expect(untranslated('x', 'SSH từ chối mật khẩu rỗng', 'SSH refuses empty passwords')).toEqual([]);
    // Decomposed (NFD) input counts as Vietnamese too.
    expect(untranslated('x', 'SSH từ chối mật khẩu rỗng'.normalize('NFD'), 'SSH refuses empty passwords')).toEqual([]);
  });

  it('emit the Vietnamese title and remediation on each item', () => {
    const p = byId('cg_debian');
    const c = p.checks.find((x) => x.id === 'deb-ssh-root-login')!;
    const f = scaFields(p, c, 'fail', 'sshd -T: permitrootlogin = yes (expected = no)', 'pass');
    expect(f['sca.check.title_vi']).toBe('SSH không cho phép đăng nhập bằng tài khoản root');
    expect(f['sca.check.remediation_vi']).toMatch(/^Đặt `PermitRootLogin no` trong \/etc\/ssh\/sshd_config/);
    const english = { ...c, i18n: undefined };
    const g = scaFields(p, english, 'fail', 'e', undefined);
    expect('sca.check.title_vi' in g || 'sca.check.remediation_vi' in g).toBe(false);
  });

  it('refuse unknown keys, commands in probes and duplicate ids, naming file and path', () => {
    const base = readFileSync(join(policiesDir, 'debian.yaml'), 'utf8');
    expect(() => parsePolicy(base.replace('condition: all\n    rules:\n      - sshd: permitrootlogin', 'condition: all\n    rules:\n      - command: "cat /etc/shadow"'), 'x.yaml')).toThrow(/x\.yaml: checks\.0\.rules\.0/);
    expect(() => parsePolicy(base.replace('  - id: deb-ssh-empty-passwords', '  - id: deb-ssh-root-login'), 'x.yaml')).toThrow(/deb-ssh-root-login is used twice/);
    expect(() => parsePolicy(base.replace('    remediation: Set `PermitRootLogin no`', '    remedy: x\n    remediation: Set `PermitRootLogin no`'), 'x.yaml')).toThrow(/Unrecognized key/);
    expect(() => parsePolicy(base.replace('- service: auditd', '- service: "auditd; reboot"'), 'x.yaml')).toThrow(/unit or service name/);
  });
});

describe('parsers', () => {
  it('sshd -T (recorded): lower-case keywords, repeated keywords keep every value', () => {
    const c = parseSshdT(fixture('sshd-T.debian12.txt'));
    expect(c.get('permitrootlogin')).toEqual(['without-password']);
    expect(c.get('maxauthtries')).toEqual(['6']);
    expect(c.get('listenaddress')).toEqual(['[::]:22', '0.0.0.0:22']);
    expect(c.get('subsystem')?.[0]).toMatch(/^sftp /);
  });

  it('login.defs (recorded) and key = value files', () => {
    const d = parseKeyValue(fixture('login.defs.debian12'));
    expect(d.get('PASS_MAX_DAYS')).toBe('99999');
    expect(d.get('UMASK')).toBe('022');
    expect(d.has('MAIL_DIR')).toBe(true);
    expect(parseKeyValue('# c\nminlen = 14\n  dcredit=-1 # trailing\nenforce_for_root\nminlen = 15\n')).toEqual(new Map([['minlen', '15'], ['dcredit', '-1'], ['enforce_for_root', '']]));
  });

  it('PAM stacks (recorded), with bracket controls, arguments, includes and -type lines', () => {
    const auth = parsePam(fixture('pam-common-auth.debian12'));
    expect(auth.map((e) => ('include' in e ? `@${e.include}` : `${e.type} ${e.control} ${e.module}`))).toEqual([
      'auth [success=1 default=ignore] pam_unix.so', 'auth requisite pam_deny.so', 'auth required pam_permit.so', 'auth optional pam_cap.so',
    ]);
    const pw = parsePam(fixture('pam-common-password.debian12'));
    expect((pw[0] as { args: Map<string, string> }).args).toEqual(new Map([['obscure', ''], ['yescrypt', '']]));
    expect(parsePam('@include common-auth\n-auth optional /lib/x86_64-linux-gnu/security/pam_faillock.so authfail deny=5\n')).toEqual([
      { include: 'common-auth' }, { type: 'auth', control: 'optional', module: 'pam_faillock.so', args: new Map([['authfail', ''], ['deny', '5']]) },
    ]);
  });

  // Hand-written inputs, each for an edge case of the documented format; the recorded auditpol output
  // is tested below ("Windows policies on recorded output").
  it('Windows edge cases (hand-written): empty REG_SZ, localized net accounts, localized auditpol header', () => {
    expect(parseRegQuery('\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters\r\n    SMB1    REG_DWORD    0x0\r\n\r\n')).toEqual([{ name: 'SMB1', type: 'REG_DWORD', data: '0' }]);
    // reg.exe pads an empty string value: "    Name    REG_SZ    " (set, empty: not "not set").
    expect(parseRegQuery('HKEY_LOCAL_MACHINE\\X\r\n    legalnoticecaption    REG_SZ    \r\n    Local AppData    REG_SZ    C:\\a b\r\n')).toEqual([
      { name: 'legalnoticecaption', type: 'REG_SZ', data: '' }, { name: 'Local AppData', type: 'REG_SZ', data: 'C:\\a b' },
    ]);
    const en = parseNetAccountsPolicy('Force user logoff how long after time expires?:       Never\r\nMinimum password length:                              14\r\nLockout threshold:                                    Never\r\nThe command completed successfully.\r\n');
    expect(en).toEqual({ byPosition: false, values: new Map([['Force user logoff how long after time expires?', 'Never'], ['Minimum password length', '14'], ['Lockout threshold', 'Never']]) });
    // Not English: the same nine lines in net.exe's order, read by position.
    const de = parseNetAccountsPolicy(['Abmeldung erzwingen:      Nie', 'Kennwortalter min:        0', 'Kennwortalter max:        42', 'Kennwortlänge min:        7', 'Kennwortchronik:          Keine', 'Sperrschwelle:            Nie', 'Sperrdauer:               30', 'Sperrfenster:             30', 'Rolle:                    ARBEITSSTATION', 'Der Befehl wurde erfolgreich ausgeführt.'].join('\r\n'));
    expect(de.byPosition).toBe(true);
    expect(de.values.get('Minimum password length')).toBe('7');
    expect(de.values.get('Lockout threshold')).toBe('Nie');
    const loc = parseAuditpolCsv('Computername,Richtlinienziel,Unterkategorie,Unterkategorie-GUID,Einschlusseinstellung,Ausschlusseinstellung\r\nPC,System,Anmelden,{0cce9215-69ae-11d9-bed3-505054503030},Erfolg und Fehler,\r\n');
    expect(loc).toEqual([{ subcategory: 'Anmelden', guid: '{0CCE9215-69AE-11D9-BED3-505054503030}', inclusion: 'Erfolg und Fehler', success: undefined, failure: undefined }]);
  });
});

/** A host whose every answer is given by the test. */
function fakeHost(over: Partial<ScaHost>): ScaHost {
  const no = async () => ({ ok: false as const, why: 'not in this test' });
  return {
    stat: no, readFile: no, sysctl: no, packages: no, service: no, sshd: no, firewallDefaultInbound: no,
    accounts: async () => ({ userName: (u) => (u === 0 ? 'root' : undefined), groupName: (g) => (g === 42 ? 'shadow' : undefined) }),
    registry: no, netAccounts: no, auditpol: no, localUserActive: no, ...over,
  };
}

describe('probes and conditions', () => {
  it('compare values as strings or numbers', () => {
    expect(meets('0', { equals: 0 })).toBe(true);
    expect(meets('', { equals: 0 })).toBe(false);
    expect(meets('no', { in: ['no', 'prohibit-password'] })).toBe(true);
    expect(meets('99999', { gte: 1, lte: 90 })).toBe(false);
    expect(meets('VERBOSE', { matches: '^(INFO|VERBOSE)$' })).toBe(true);
    expect(meets('027', { in: ['027'] })).toBe(true);
  });

  it('combine: all / any / none, and not_applicable only when it could change the outcome', () => {
    const P = { result: 'pass', evidence: '' } as const;
    const F = { result: 'fail', evidence: '' } as const;
    const N = { result: 'not_applicable', evidence: '' } as const;
    expect([combine('all', [P, P]), combine('all', [P, F, N]), combine('all', [P, N])]).toEqual(['pass', 'fail', 'not_applicable']);
    expect([combine('any', [F, P]), combine('any', [F, N]), combine('any', [F, F])]).toEqual(['pass', 'not_applicable', 'fail']);
    expect([combine('none', [F, F]), combine('none', [F, P]), combine('none', [F, N])]).toEqual(['pass', 'fail', 'not_applicable']);
  });

  it('sshd not installed: not_applicable with that evidence; sshd present: the effective value', async () => {
    const probe: Probe = { sshd: 'permitrootlogin', equals: 'no' };
    expect(await evaluateProbe(probe, fakeHost({ sshd: async () => ({ ok: false, why: 'sshd is not installed' }) }))).toEqual({ result: 'not_applicable', evidence: 'sshd is not installed' });
    const host = fakeHost({ sshd: async () => ({ ok: true, value: parseSshdT(fixture('sshd-T.debian12.txt')) }) });
    expect(await evaluateProbe(probe, host)).toEqual({ result: 'fail', evidence: 'sshd -T: permitrootlogin = without-password (expected = no)' });
    expect(await evaluateProbe({ sshd: 'nosuchkeyword', equals: 'x', missing: 'pass' }, host)).toMatchObject({ result: 'pass', evidence: expect.stringContaining('not set') });
  });

  it('files: mode above the maximum, owner, missing file, content', async () => {
    const st = (mode: number, uid = 0, gid = 42) => async () => ({ ok: true as const, value: { type: 'file' as const, size: 1, mode, uid, gid, mtimeNs: '0', ctimeNs: '0', ino: '1', dev: '1' } });
    expect(await evaluateProbe({ file: '/etc/shadow', mode_max: '0640', owner: 'root' }, fakeHost({ stat: st(0o640) }))).toEqual({ result: 'pass', evidence: '/etc/shadow: mode 0640, owner root:shadow' });
    expect(await evaluateProbe({ file: '/etc/shadow', mode_max: '0640' }, fakeHost({ stat: st(0o644) }))).toMatchObject({ result: 'fail', evidence: expect.stringContaining('mode 0644 allows more than 0640') });
    expect(await evaluateProbe({ file: '/etc/shadow', owner: 'root' }, fakeHost({ stat: st(0o600, 1000) }))).toMatchObject({ result: 'fail', evidence: expect.stringContaining('owner 1000, expected root') });
    expect((await evaluateProbe({ file: '/x', mode_max: '0600' }, fakeHost({ stat: async () => ({ ok: true, value: undefined }) }))).result).toBe('not_applicable');
    expect((await evaluateProbe({ file: '/x', exists: false }, fakeHost({ stat: async () => ({ ok: true, value: undefined }) }))).result).toBe('pass');
    const withText = fakeHost({ stat: st(0o644), readFile: async () => ({ ok: true, value: 'a\nPermitRootLogin no\n' }) });
    expect(await evaluateProbe({ file: '/f', contains: '^PermitRootLogin\\s+no' }, withText)).toMatchObject({ result: 'pass' });
    expect(await evaluateProbe({ file: '/f', not_contains: '^PermitRootLogin' }, withText)).toMatchObject({ result: 'fail' });
  });

  it('PAM: a module included from another file, and one of its arguments', async () => {
    const files: Record<string, string> = {
      '/etc/pam.d/sshd': '@include common-auth\naccount required pam_nologin.so\n',
      '/etc/pam.d/common-auth': 'auth required pam_faillock.so preauth deny=5\nauth [success=1 default=ignore] pam_unix.so\n',
    };
    const host = fakeHost({ readFile: async (p) => ({ ok: true, value: files[p] }) });
    expect(await evaluateProbe({ pam: 'sshd', type: 'auth', module: 'pam_faillock.so', present: true, arg: 'deny', lte: 10 }, host)).toEqual({ result: 'pass', evidence: '/etc/pam.d/sshd (auth): pam_faillock.so deny = 5' });
    expect((await evaluateProbe({ pam: 'sshd', type: 'auth', module: 'pam_pwquality.so', present: true }, host)).result).toBe('fail');
    expect((await evaluateProbe({ pam: 'sshd', type: 'auth', module: 'pam_rhosts.so', present: false }, host)).result).toBe('pass');
  });

  it('Windows probes through the host interface: registry, net accounts "Never", auditpol, local users', async () => {
    const host = fakeHost({
      registry: async (_k, v) => ({ ok: true, value: v === 'SMB1' ? '1' : undefined }),
      netAccounts: async () => ({ ok: true, value: parseNetAccountsPolicy('Maximum password age (days):    42\r\nLockout threshold:     Never\r\n') }),
      auditpol: async () => ({ ok: true, value: [{ subcategory: 'Logon', guid: '{0CCE9215-69AE-11D9-BED3-505054503030}', inclusion: 'Success', success: true, failure: false }] }),
      localUserActive: async (n) => ({ ok: true, value: n === 'Guest' ? 'No' : n === 'Gast' ? 'Nein' : undefined }),
    });
    expect(await evaluateProbe({ registry: 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters', value: 'SMB1', equals: 0 }, host)).toMatchObject({ result: 'fail', evidence: expect.stringContaining('SMB1 = 1') });
    expect((await evaluateProbe({ registry: 'HKLM\\X', value: 'Y', equals: 0, missing: 'pass' }, host)).result).toBe('pass');
    expect((await evaluateProbe({ net_accounts: 'Lockout threshold', gte: 1, lte: 10 }, host)).result).toBe('fail');
    expect((await evaluateProbe({ net_accounts: 'Maximum password age (days)', lte: 60 }, host)).result).toBe('pass');
    expect(await evaluateProbe({ auditpol: 'Logon', includes: ['Success', 'Failure'] }, host)).toMatchObject({ result: 'fail', evidence: 'audit policy Logon: Success (expected Success and Failure)' });
    expect((await evaluateProbe({ local_user: 'Guest', active: false }, host)).result).toBe('pass');
    expect(await evaluateProbe({ local_user: 'Administrator', active: false }, host)).toMatchObject({ result: 'pass', evidence: 'no local user Administrator' });
    // A localized Yes/No is not read as "inactive".
    expect((await evaluateProbe({ local_user: 'Gast', active: false }, host)).result).toBe('not_applicable');
  });

  it('localized outputs: auditpol matched by GUID, unreadable words not applicable, net accounts numbers by line order', async () => {
    const host = fakeHost({
      auditpol: async () => ({ ok: true, value: parseAuditpolCsv('Computername,Richtlinienziel,Unterkategorie,Unterkategorie-GUID,Einschlusseinstellung,Ausschlusseinstellung\r\nPC,System,Anmelden,{0CCE9215-69AE-11D9-BED3-505054503030},Erfolg und Fehler,\r\n') }),
      netAccounts: async () => ({ ok: true, value: { byPosition: true, values: new Map([['Minimum password length', '7'], ['Lockout threshold', 'Nie']]) } }),
    });
    expect(await evaluateProbe({ auditpol: 'Logon', guid: '{0CCE9215-69AE-11D9-BED3-505054503030}', includes: ['Success'] }, host)).toEqual({ result: 'not_applicable', evidence: 'audit policy Logon (Anmelden): "Erfolg und Fehler" is not a setting the agent can read (not English?)' });
    expect((await evaluateProbe({ auditpol: 'Logon', includes: ['Success'] }, host)).result).toBe('not_applicable');
    expect(await evaluateProbe({ net_accounts: 'Minimum password length', gte: 14 }, host)).toEqual({ result: 'fail', evidence: 'net accounts: Minimum password length (localized output, read by line order) = 7 (expected ≥ 14)' });
    expect((await evaluateProbe({ net_accounts: 'Lockout threshold', gte: 1 }, host)).result).toBe('not_applicable');
  });

  it('a check whose probes all fail to look is not applicable, evidence deduplicated', async () => {
    const r = await evaluateCheck({ condition: 'all', rules: [{ sshd: 'a', equals: 'x' }, { sshd: 'b', equals: 'y' }] }, fakeHost({ sshd: async () => ({ ok: false, why: 'sshd is not installed' }) }));
    expect(r).toEqual({ result: 'not_applicable', evidence: 'sshd is not installed' });
  });
});

describe('Windows policies on recorded output', () => {
  const policies = loadPolicies(policiesDir);
  const windowsChecks = policies.filter((p) => p.policy.platforms.includes('win32')).flatMap((p) => p.checks);
  // auditpol /get /category:* /r recorded on a Windows Server domain controller (agent/host/windows/fixtures/README.md).
  const csv = readFileSync(new URL('../../host/windows/fixtures/auditpol-r.dc.cnquery.csv', import.meta.url), 'utf8');
  const rows = parseAuditpolCsv(csv);
  /** Independent reading of the recording: the Inclusion Setting cell of the line holding a GUID. */
  const cell = (guid: string) => csv.split('\n').find((l) => l.includes(guid))?.split(',')[4];

  it('parses every subcategory row of the recording, with its GUID and decoded setting', () => {
    expect(rows).toHaveLength(csv.trim().split('\n').length - 1);
    expect(new Set(rows.map((r) => r.guid)).size).toBe(rows.length);
    for (const r of rows) {
      expect(r.inclusion).toBe(cell(r.guid));
      expect(r.success, r.subcategory).toBe(/^Success/.test(r.inclusion));
      expect(r.failure, r.subcategory).toBe(/Failure$/.test(r.inclusion));
    }
    expect(rows.find((r) => r.subcategory === 'Logon')).toMatchObject({ guid: '{0CCE9215-69AE-11D9-BED3-505054503030}', inclusion: 'Success and Failure', success: true, failure: true });
    expect(rows.find((r) => r.subcategory === 'Process Creation')).toMatchObject({ inclusion: 'No Auditing', success: false, failure: false });
  });

  it('every auditpol probe of the policies names a GUID that the recording gives the same subcategory name', () => {
    const probes = windowsChecks.flatMap((c) => c.rules).filter((r) => 'auditpol' in r);
    expect(probes.length).toBeGreaterThanOrEqual(6);
    for (const p of probes) {
      expect(p.guid, p.auditpol).toBeDefined();
      expect(rows.find((r) => r.guid === p.guid?.toUpperCase())?.subcategory, p.auditpol).toBe(p.auditpol);
    }
  });

  it('the audit checks give the recorded verdicts, and the evidence quotes the recorded value', async () => {
    const host = fakeHost({ auditpol: async () => ({ ok: true, value: rows }) });
    const audit = windowsChecks.filter((c) => c.rules.every((r) => 'auditpol' in r));
    expect(audit.map((c) => c.id).sort()).toEqual(['win-audit-credential-validation', 'win-audit-logon', 'win-audit-process-creation', 'winsrv-audit-policy-change', 'winsrv-audit-security-group-management', 'winsrv-audit-user-account-management']);
    for (const c of audit) {
      const probe = c.rules[0] as { auditpol: string; guid: string; includes: ('Success' | 'Failure')[] };
      const recorded = cell(probe.guid)!;
      const want = probe.includes.every((w) => recorded.includes(w)) ? 'pass' : 'fail';
      const r = await evaluateCheck(c, host);
      expect(r.result, c.id).toBe(want);
      expect(r.evidence, c.id).toContain(`audit policy ${probe.auditpol}: ${recorded}`);
    }
    // The domain controller's defaults: Logon audited for both, Credential Validation for success only.
    const logon = await evaluateCheck(audit.find((c) => c.id === 'win-audit-logon')!, host);
    expect(logon).toEqual({ result: 'pass', evidence: 'audit policy Logon: Success and Failure' });
    const cred = await evaluateCheck(audit.find((c) => c.id === 'win-audit-credential-validation')!, host);
    expect(cred).toEqual({ result: 'fail', evidence: 'audit policy Credential Validation: Success (expected Success and Failure)' });
  });
});

describe('Windows account policy on recorded output', () => {
  // net accounts on a stand-alone Windows workstation with the default local policy (agent/host/windows/fixtures/README.md).
  const text = readFileSync(new URL('../../host/windows/fixtures/net-accounts.workstation.renenyffenegger.txt', import.meta.url), 'utf8');
  const policy = parseNetAccountsPolicy(text);
  /** Independent reading: the text after the colon on the line that starts with the label. */
  const cell = (label: string) => text.split('\n').find((l) => l.startsWith(`${label}:`))?.slice(label.length + 1).trim();

  it('reads all nine lines by their English labels', () => {
    expect(policy.byPosition).toBe(false);
    expect(policy.values.size).toBe(9);
    for (const [label, value] of policy.values) expect(value, label).toBe(cell(label));
  });

  it('the account-policy checks give the verdicts the recorded values call for, quoting them', async () => {
    const host = fakeHost({ netAccounts: async () => ({ ok: true, value: policy }) });
    const checks = loadPolicies(policiesDir).find((p) => p.policy.id === 'cg_windows')!.checks.filter((c) => c.rules.every((r) => 'net_accounts' in r));
    const got = Object.fromEntries(await Promise.all(checks.map(async (c) => [c.id, await evaluateCheck(c, host)] as const)));
    // Windows' defaults: no minimum length, no history, no lockout, 42-day maximum age, 30-minute lockout duration.
    expect(got['win-password-min-length']).toEqual({ result: 'fail', evidence: 'net accounts: Minimum password length = 0 (expected ≥ 14)' });
    expect(got['win-password-history']).toEqual({ result: 'fail', evidence: 'net accounts: Length of password history maintained = None (read as 0) (expected ≥ 24)' });
    expect(got['win-password-max-age']).toEqual({ result: 'pass', evidence: 'net accounts: Maximum password age (days) = 42' });
    expect(got['win-password-min-age']?.result).toBe('fail');
    expect(got['win-lockout-threshold']).toEqual({ result: 'fail', evidence: 'net accounts: Lockout threshold = Never (read as 0) (expected ≥ 1 and ≤ 10)' });
    expect(got['win-lockout-duration']).toEqual({ result: 'pass', evidence: 'net accounts: Lockout duration (minutes) = 30' });
    expect(Object.keys(got).length).toBe(6);
  });
});

describe('previous results (alerting on change)', () => {
  it('the second collection carries the first one\'s results; a restart keeps the last queued ones', async () => {
    let forward = '0';
    const host = () => fakeHost({
      stat: async () => ({ ok: true, value: { type: 'file', size: 1, mode: 0o644, uid: 0, gid: 0, mtimeNs: '0', ctimeNs: '0', ino: '1', dev: '1' } }),
      sysctl: async (k) => ({ ok: true, value: k === 'net.ipv4.ip_forward' ? forward : '0' }),
    });
    const state = mkdtempSync(join(tmpdir(), 'cg-sca-'));
    const check = createScaCheck({ host, platform: 'linux' });
    check.init({ policies: ['cg_debian'] });
    const item = async (c = check) => (await c.collect(ctx(state))).snapshots[0]!.items.find((i) => i.fields['sca.check.id'] === 'deb-ip-forward')!.fields;
    const first = await item();
    expect(first['sca.check.result']).toBe('pass');
    expect(first['sca.check.previous_result']).toBeUndefined();
    forward = '1';
    const second = await item();
    expect([second['sca.check.result'], second['sca.check.previous_result']]).toEqual(['fail', 'pass']);
    const third = await item();
    expect([third['sca.check.result'], third['sca.check.previous_result']]).toEqual(['fail', 'fail']);
    // A new process: the file holds the second collection's results (the third's were never confirmed queued).
    const restarted = createScaCheck({ host, platform: 'linux' });
    restarted.init({ policies: ['cg_debian'] });
    expect((await item(restarted))['sca.check.previous_result']).toBe('fail');
  });
});

// ---------------------------------------------------------------------------------------------------
// The Debian policy on this machine, each verdict checked against an independent look with the real tools.

const isDebian = existsSync('/etc/debian_version') && process.platform === 'linux';
const hasSshd = existsSync('/usr/sbin/sshd');

describe.skipIf(!isDebian)('cg_debian on this machine', () => {
  let madeRunDir = false;
  beforeAll(() => {
    // A running sshd has /run/sshd; `sshd -T` refuses to run without it.
    if (hasSshd && !existsSync('/run/sshd') && process.getuid?.() === 0) { mkdirSync('/run/sshd', { mode: 0o755 }); madeRunDir = true; }
  });
  afterAll(() => { if (madeRunDir) rmdirSync('/run/sshd'); });

  it('gives every check a verdict, evidence and compliance references, and agrees with the tools', async () => {
    const check = createScaCheck();
    check.init({});
    const { snapshots } = await check.collect(ctx(mkdtempSync(join(tmpdir(), 'cg-sca-'))));
    expect(snapshots).toHaveLength(1);
    const items = snapshots[0]!.items;
    expect(items.length).toBeGreaterThanOrEqual(16);
    const by = (id: string) => items.find((i) => i.fields['sca.check.id'] === id)!.fields;
    for (const i of items) {
      expect(['pass', 'fail', 'not_applicable']).toContain(i.fields['sca.check.result']);
      expect(String(i.fields['sca.check.evidence']).length).toBeGreaterThan(5);
      for (const f of ['compliance.cis', 'compliance.nist_800_53', 'compliance.tcvn']) expect((i.fields[f] as string[]).length).toBeGreaterThan(0);
    }

    // sysctl: the sysctl command.
    const sysctl = (k: string) => sh('sysctl', ['-n', k]);
    expect(by('deb-ip-forward')['sca.check.result']).toBe(sysctl('net.ipv4.ip_forward') === '0' ? 'pass' : 'fail');
    expect(by('deb-syn-cookies')['sca.check.result']).toBe(sysctl('net.ipv4.tcp_syncookies') === '1' ? 'pass' : 'fail');
    expect(by('deb-aslr')['sca.check.result']).toBe(sysctl('kernel.randomize_va_space') === '2' ? 'pass' : 'fail');
    // File modes: stat.
    const mode = (p: string) => parseInt(sh('stat', ['-c', '%a', p]), 8);
    const shadowOk = [ '/etc/shadow', '/etc/gshadow' ].every((p) => (mode(p) & ~0o640) === 0 && sh('stat', ['-c', '%U', p]) === 'root');
    expect(by('deb-shadow-permissions')['sca.check.result']).toBe(shadowOk ? 'pass' : 'fail');
    // Packages: dpkg-query.
    const installed = (p: string) => { try { return sh('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', p]).startsWith('ii'); } catch { return false; } };
    expect(by('deb-time-sync')['sca.check.result']).toBe(['chrony', 'systemd-timesyncd', 'ntp', 'ntpsec'].some(installed) ? 'pass' : 'fail');
    expect(by('deb-no-telnet-server')['sca.check.result']).toBe(['telnetd', 'inetutils-telnetd', 'telnetd-ssl', 'rsh-server', 'rsh-redone-server', 'nis'].some(installed) ? 'fail' : 'pass');
    // login.defs: grep.
    const maxDays = Number(/^PASS_MAX_DAYS\s+(\d+)/m.exec(readFileSync('/etc/login.defs', 'utf8'))?.[1]);
    expect(by('deb-password-max-age')['sca.check.result']).toBe(maxDays >= 1 && maxDays <= 90 ? 'pass' : 'fail');
    // sshd: its own -T output, when it is installed; not applicable with the reason when it is not.
    if (hasSshd && existsSync('/run/sshd')) {
      const root = /^permitrootlogin (\S+)$/m.exec(sh('sshd', ['-T']))?.[1];
      expect(by('deb-ssh-root-login')).toMatchObject({ 'sca.check.result': root === 'no' ? 'pass' : 'fail', 'sca.check.evidence': expect.stringContaining(`permitrootlogin = ${root}`) });
    } else if (!hasSshd) {
      expect(by('deb-ssh-root-login')).toMatchObject({ 'sca.check.result': 'not_applicable', 'sca.check.evidence': 'sshd is not installed' });
    }
    expect(statSync('/etc/debian_version').isFile()).toBe(true);
  });

  it('Windows policies do not apply here and produce no items', async () => {
    const check = createScaCheck();
    check.init({ policies: ['cg_windows', 'cg_windows_server'] });
    const { snapshots } = await check.collect(ctx(mkdtempSync(join(tmpdir(), 'cg-sca-'))));
    expect(snapshots[0]!.items).toEqual([]);
  });
});
