/**
 * Cross-checks the agent's Debian SCA verdicts with lynis on this machine and writes the overlap table
 * to docs/sca-lynis.md. Runs `lynis audit system --quick` (as root; about a minute) unless given an
 * existing report and log:
 *
 *   npm run build && node dist/scripts/sca-lynis.js [--report lynis-report.dat --log lynis.log] [--out docs/sca-lynis.md]
 *
 * For each of our checks that a lynis test also covers, the lynis verdict is read from its report
 * (suggestion[]/warning[] lines, KRNL-6000 sysctl details) or its log (FILE-7524 outcomes), then
 * compared. A disagreement is listed with the reason; the reasons below are the known ones.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { logger } from '../common/logger.js';
import { createScaCheck, programDir } from '../agent/checks/sca/index.js';

type Verdict = 'pass' | 'fail' | 'not_applicable' | 'not run';

interface Lynis { report: string; log: string }

const ran = (l: Lynis, test: string) => l.log.includes(`Performing test ID ${test} `);
const suggests = (l: Lynis, test: string, text: RegExp) =>
  l.report.split('\n').some((line) => /^(suggestion|warning)\[\]=/.test(line) && line.includes(`=${test}|`) && text.test(line));

/** KRNL-6000 lists every profile sysctl whose value differs; a key in the profile and not listed matches. */
function sysctlVerdict(l: Lynis, keys: string[]): Verdict {
  if (!ran(l, 'KRNL-6000')) return 'not run';
  return keys.some((k) => l.report.includes(`KRNL-6000|sysctl|`) && new RegExp(`field:${k.replace(/\./g, '\\.')};`).test(l.report)) ? 'fail' : 'pass';
}

function suggestionVerdict(l: Lynis, test: string, text: RegExp): Verdict {
  if (!ran(l, test)) return 'not run';
  return suggests(l, test, text) ? 'fail' : 'pass';
}

function permVerdict(l: Lynis, file: string): Verdict {
  if (!ran(l, 'FILE-7524')) return 'not run';
  if (!l.log.includes(`checking file/directory ${file}\n`) && !l.log.includes(`checking file/directory ${file}`)) return 'not run';
  return l.log.includes(`permissions of file ${file} are not matching`) ? 'fail' : 'pass';
}

interface Pair {
  check: string;
  lynis: string;
  verdict: (l: Lynis) => Verdict;
  /** Why the two may legitimately differ (shown when they do). */
  differs?: string;
}

const PAIRS: Pair[] = [
  { check: 'deb-icmp-redirects', lynis: 'KRNL-6000 (accept_redirects, send_redirects)', verdict: (l) => sysctlVerdict(l, ['net.ipv4.conf.all.accept_redirects', 'net.ipv4.conf.default.accept_redirects', 'net.ipv6.conf.all.accept_redirects', 'net.ipv4.conf.all.send_redirects']) },
  { check: 'deb-source-route', lynis: 'KRNL-6000 (accept_source_route)', verdict: (l) => sysctlVerdict(l, ['net.ipv4.conf.all.accept_source_route', 'net.ipv4.conf.default.accept_source_route']) },
  { check: 'deb-syn-cookies', lynis: 'KRNL-6000 (tcp_syncookies)', verdict: (l) => sysctlVerdict(l, ['net.ipv4.tcp_syncookies']) },
  { check: 'deb-aslr', lynis: 'KRNL-6000 (randomize_va_space)', verdict: (l) => sysctlVerdict(l, ['kernel.randomize_va_space']) },
  { check: 'deb-suid-core-dumps', lynis: 'KRNL-6000 (fs.suid_dumpable)', verdict: (l) => sysctlVerdict(l, ['fs.suid_dumpable']) },
  { check: 'deb-kernel-pointers', lynis: 'KRNL-6000 (kptr_restrict, dmesg_restrict)', verdict: (l) => sysctlVerdict(l, ['kernel.kptr_restrict', 'kernel.dmesg_restrict']), differs: 'lynis wants kernel.kptr_restrict = 2; we accept 1 (CIS) or 2' },
  { check: 'deb-password-max-age', lynis: 'AUTH-9286 (maximum password age)', verdict: (l) => suggestionVerdict(l, 'AUTH-9286', /maximum password age/i), differs: 'lynis only asks for a maximum to be set (any value below 99999); we require ≤ 90 days' },
  { check: 'deb-password-min-age', lynis: 'AUTH-9286 (minimum password age)', verdict: (l) => suggestionVerdict(l, 'AUTH-9286', /minimum password age/i) },
  { check: 'deb-default-umask', lynis: 'AUTH-9328', verdict: (l) => suggestionVerdict(l, 'AUTH-9328', /umask/i) },
  { check: 'deb-password-quality', lynis: 'AUTH-9262', verdict: (l) => suggestionVerdict(l, 'AUTH-9262', /password strength/i), differs: 'lynis accepts any strength module (cracklib, passwdqc, pwquality) in any stack; we require pam_pwquality in common-password and minlen ≥ 14' },
  { check: 'deb-auditd', lynis: 'ACCT-9628', verdict: (l) => suggestionVerdict(l, 'ACCT-9628', /auditd/i) },
  { check: 'deb-time-sync', lynis: 'TIME-3104', verdict: (l) => (ran(l, 'TIME-3104') ? (/^ntp_daemon_running=1$/m.test(l.report) ? 'pass' : 'fail') : 'not run'), differs: 'lynis looks for a running NTP daemon; we look for an installed one (a service probe on `active` needs a running systemd, which this machine does not have)' },
  { check: 'deb-host-firewall', lynis: 'FIRE-4512', verdict: (l) => (ran(l, 'FIRE-4512') ? (/^firewall_empty_ruleset=1$/m.test(l.report) || suggests(l, 'FIRE-4512', /no rules/i) ? 'fail' : 'pass') : 'not run'), differs: 'lynis only checks that iptables has rules; we evaluate whether a new inbound connection is dropped by default (rules that accept everything pass lynis, fail here)' },
  { check: 'deb-file-integrity', lynis: 'FINT-4350 / FINT-4316', verdict: (l) => (ran(l, 'FINT-4350') ? (suggests(l, 'FINT-4316', /database/i) || suggests(l, 'FINT-4350', /install/i) ? 'fail' : 'pass') : 'not run') },
  { check: 'deb-ssh-config-permissions', lynis: 'FILE-7524 (/etc/ssh/sshd_config)', verdict: (l) => permVerdict(l, '/etc/ssh/sshd_config') },
  { check: 'deb-passwd-permissions', lynis: 'FILE-7524 (/etc/passwd, /etc/group)', verdict: (l) => { const a = permVerdict(l, '/etc/passwd'); const b = permVerdict(l, '/etc/group'); return a === 'fail' || b === 'fail' ? 'fail' : a === 'pass' && b === 'pass' ? 'pass' : 'not run'; } },
  { check: 'deb-ssh-root-login', lynis: 'SSH-7408 (PermitRootLogin)', verdict: (l) => suggestionVerdict(l, 'SSH-7408', /PermitRootLogin/i), differs: 'lynis accepts prohibit-password / without-password (root by key only, the Debian default); we require no (TCVN: SSH root login off; CIS Benchmark)' },
  { check: 'deb-ssh-max-auth-tries', lynis: 'SSH-7408 (MaxAuthTries)', verdict: (l) => suggestionVerdict(l, 'SSH-7408', /MaxAuthTries/i), differs: 'lynis runs SSH-7408 only when sshd is running' },
  { check: 'deb-ssh-x11-forwarding', lynis: 'SSH-7408 (X11Forwarding)', verdict: (l) => suggestionVerdict(l, 'SSH-7408', /X11Forwarding/i), differs: 'lynis runs SSH-7408 only when sshd is running' },
];

function runLynis(): Lynis {
  const dir = mkdtempSync(join(tmpdir(), 'cg-lynis-'));
  const report = join(dir, 'report.dat');
  const log = join(dir, 'lynis.log');
  execFileSync('lynis', ['audit', 'system', '--quick', '--no-colors', '--report-file', report, '--log-file', log], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LC_ALL: 'C' } });
  return { report: readFileSync(report, 'utf8'), log: readFileSync(log, 'utf8') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { report: { type: 'string' }, log: { type: 'string' }, out: { type: 'string' } } });
  // Both tools need sshd's privilege-separation directory to read the SSH configuration, and lynis
  // runs its SSH tests only while an sshd runs: start one on loopback for the audit, stop it after.
  const madeRunDir = existsSync('/usr/sbin/sshd') && !existsSync('/run/sshd');
  if (madeRunDir) mkdirSync('/run/sshd', { mode: 0o755 });
  let sshd: ChildProcess | undefined;
  if (!values.report && existsSync('/usr/sbin/sshd')) {
    sshd = spawn('/usr/sbin/sshd', ['-D', '-o', 'ListenAddress=127.0.0.1', '-p', '22022'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    const lynis: Lynis = values.report && values.log
      ? { report: readFileSync(values.report, 'utf8'), log: readFileSync(values.log, 'utf8') }
      : runLynis();
    const check = createScaCheck();
    check.init({ policies: ['cg_debian'] });
    const { snapshots } = await check.collect({ log: logger('sca-lynis'), stateDir: mkdtempSync(join(tmpdir(), 'cg-sca-')), emit: async () => {} });
    const ours = new Map(snapshots[0]!.items.map((i) => [String(i.fields['sca.check.id']), i.fields]));
    const version = /^lynis_version=(.*)$/m.exec(lynis.report)?.[1] ?? '?';
    const rows: string[] = [];
    let agree = 0; let disagree = 0; let notRun = 0;
    for (const p of PAIRS) {
      const f = ours.get(p.check);
      const mine = (f?.['sca.check.result'] as Verdict | undefined) ?? 'not run';
      const theirs = p.verdict(lynis);
      let status: string;
      if (theirs === 'not run' || mine === 'not_applicable') { status = 'not compared'; notRun++; }
      else if (theirs === mine) { status = 'agree'; agree++; }
      else { status = '**differ**'; disagree++; }
      const why = status === 'agree' ? '' : status === 'not compared' ? (theirs === 'not run' ? (p.differs ?? 'lynis did not run the test') : 'not applicable here') : (p.differs ?? '?');
      rows.push(`| \`${p.check}\` | ${p.lynis} | ${mine} | ${theirs} | ${status} | ${why.replace(/\|/g, '\\|')} |`);
    }
    const doc = `# SCA verdicts cross-checked with lynis

Generated by \`scripts/sca-lynis.ts\` (\`npm run build && node dist/scripts/sca-lynis.js\`, as root) on
this Debian 12 machine with lynis ${version} (\`lynis audit system --quick\`, default profile), against the
agent's \`cg_debian\` policy. Regenerate it after changing either side.

Result: **${agree} agree, ${disagree} differ, ${notRun} not compared** of ${PAIRS.length} checks both tools cover.

How the lynis side is read: KRNL-6000 lists every sysctl of its profile whose value differs (a key in
the profile and not listed is a pass); AUTH-*, ACCT-9628, FINT-* and SSH-7408 are a fail when they
leave a suggestion or warning about the setting; TIME-3104 and FIRE-4512 use \`ntp_daemon_running\` and
\`firewall_empty_ruleset\` from the report; FILE-7524 uses the "permissions … are not matching" outcome
in the log. A test lynis did not run (SSH-7408 when sshd is not running) is not compared.

| our check | lynis test | ours | lynis | | why they differ |
|---|---|---|---|---|---|
${rows.join('\n')}

## Where the tools look at different things on purpose

- **Effective versus configured.** Our SSH checks read \`sshd -T\` (the effective configuration,
  defaults included) even when sshd is not running; lynis checks SSH only for a running daemon, so
  the script starts one on 127.0.0.1:22022 for the duration of the audit.
- **Root login.** lynis accepts \`PermitRootLogin prohibit-password\`; we require \`no\`.
- **Time synchronisation.** lynis wants a running NTP daemon; our probe checks that one is installed,
  because "is it active" needs a running systemd (this machine has none; the check would be
  not applicable rather than wrong).
- **Firewall.** lynis's FIRE-4512 asks whether iptables has any rule; our \`deb-host-firewall\` asks
  the firewall evaluator whether a new inbound connection is dropped by default. An "accept all" rule
  satisfies lynis and not us.
- **Thresholds.** Password age (≤ 90 days, TCVN) and kptr_restrict (1 or 2, CIS) differ from lynis's
  "any value" / "2".
`;
    const out = values.out ?? join(programDir(), 'docs', 'sca-lynis.md');
    writeFileSync(out, doc);
    console.log(`${agree} agree, ${disagree} differ, ${notRun} not compared; written to ${out}`);
  } finally {
    sshd?.kill('SIGTERM');
    if (madeRunDir) rmdirSync('/run/sshd');
  }
}

await main();
