/**
 * What SCA probes may look at, behind one interface: the live implementation goes through agent/host
 * (bounded file reads, lstat, the allowlisted runner); tests give a fake. Each answer is memoised for
 * one collection, so twenty sshd checks run `sshd -T` once.
 */
import { AgentCodes } from '../../errors.js';
import { loadAccounts, type Accounts } from '../../host/accounts.js';
import { statPath, type FileFacts } from '../../host/files.js';
import { readSystemFile } from '../../host/fs.js';
import { DPKG_INSTALLED_STATES, DPKG_QUERY_FORMAT, parseDpkgQuery } from '../../host/linux/dpkg.js';
import { parseRpmQuery, RPM_QUERY_FORMAT } from '../../host/linux/rpm.js';
import { parseSshdT, type SshdConfig } from '../../host/linux/sshd.js';
import type { CommandId, Runner } from '../../host/run.js';
import { parseAuditpolCsv, type AuditSetting } from '../../host/windows/auditpol.js';
import { parseNetAccounts, parseNetAccountsPolicy, type NetAccountsPolicy } from '../../host/windows/net-accounts.js';
import { parseRegQuery } from '../../host/windows/reg.js';
import { defaultInbound } from '../firewall/firewall-items.js';
import { readLinuxFirewall } from '../firewall/state.js';

/** A fact, or why it could not be had (which makes a probe not applicable, with that evidence). */
export type Fact<T> = { ok: true; value: T } | { ok: false; why: string };

export interface ScaHost {
  stat(path: string): Promise<Fact<FileFacts | undefined>>;
  readFile(path: string): Promise<Fact<string | undefined>>;
  /** /proc/sys/<key with dots as slashes>, trimmed; undefined when the key does not exist. */
  sysctl(key: string): Promise<Fact<string | undefined>>;
  /** Names of installed packages (dpkg, else rpm). */
  packages(): Promise<Fact<Set<string>>>;
  /** `systemctl is-enabled` / `is-active` words (`enabled`, `disabled`, `masked`, `active`, `inactive`…). */
  service(name: string, what: 'is-enabled' | 'is-active'): Promise<Fact<string>>;
  /** `sshd -T`; `ok: false` with "not installed" when there is no sshd. */
  sshd(): Promise<Fact<SshdConfig>>;
  firewallDefaultInbound(): Promise<Fact<'allow' | 'deny' | 'unknown'>>;
  accounts(): Promise<Accounts>;
  registry(key: string, value: string): Promise<Fact<string | undefined>>;
  /** `net accounts` under its English labels (by line order when the output is localized). */
  netAccounts(): Promise<Fact<NetAccountsPolicy>>;
  /** `auditpol /get /category:* /r`: one row per subcategory, with its GUID. */
  auditpol(): Promise<Fact<AuditSetting[]>>;
  /** `net user <name>`: the "Account active" line (`Yes`/`No`); undefined when there is no such user. */
  localUserActive(name: string): Promise<Fact<string | undefined>>;
}

const why = (e: unknown) => (e as Error).message.split('\n')[0]!.slice(0, 300);

function memo<A extends unknown[], R>(f: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  const cache = new Map<string, Promise<R>>();
  return (...a) => {
    const k = JSON.stringify(a);
    let p = cache.get(k);
    if (!p) { p = f(...a); cache.set(k, p); }
    return p;
  };
}

async function fact<T>(f: () => Promise<T>): Promise<Fact<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return { ok: false, why: why(e) };
  }
}

const isMissing = (e: unknown) => (e as { code?: string }).code === AgentCodes.HOST_COMMAND_MISSING;

export function liveScaHost(run: Runner<CommandId>, procSys = '/proc/sys'): ScaHost {
  return {
    stat: memo((path: string) => fact(async () => statPath(path))),
    readFile: memo((path: string) => fact(() => readSystemFile(path, 1024 * 1024))),
    sysctl: memo((key: string) => fact(async () => (await readSystemFile(`${procSys}/${key.replace(/\./g, '/')}`, 64 * 1024))?.trim())),
    packages: memo(() => fact(async () => {
      try {
        const { stdout } = await run('dpkg-query', ['-W', `-f=${DPKG_QUERY_FORMAT}`]);
        return new Set(parseDpkgQuery(stdout).packages.filter((p) => DPKG_INSTALLED_STATES.has(p.state)).map((p) => p.name));
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
      const { stdout } = await run('rpm', ['-qa', '--qf', RPM_QUERY_FORMAT]);
      return new Set(parseRpmQuery(stdout).packages.map((p) => p.name));
    })),
    service: memo(async (name: string, what: 'is-enabled' | 'is-active') => {
      try {
        // Both print one word and exit non-zero for "disabled"/"inactive"/"not-found": answers, not failures.
        const r = await run('systemctl', [what, '--', name], { okExitCodes: [1, 3, 4] });
        const word = r.stdout.trim().split('\n')[0] ?? '';
        if (/^[a-z-]+$/.test(word)) return { ok: true, value: word };
        return { ok: false, why: `systemctl ${what} ${name}: ${(r.stderr || r.stdout).trim().slice(0, 200) || 'no answer'}` };
      } catch (e) {
        return { ok: false, why: why(e) };
      }
    }),
    sshd: memo(async () => {
      try {
        return { ok: true, value: parseSshdT((await run('sshd', ['-T'])).stdout) };
      } catch (e) {
        return { ok: false, why: isMissing(e) ? 'sshd is not installed' : `sshd -T failed: ${why(e)}` };
      }
    }),
    firewallDefaultInbound: memo(async () => {
      const fw = await readLinuxFirewall(run);
      return { ok: true, value: defaultInbound(fw, 'ipv4') };
    }),
    accounts: memo(() => loadAccounts()),
    registry: memo(async (key: string, value: string) => {
      try {
        // reg.exe exits 1 when the key or value does not exist: that is "not set", not an error.
        const r = await run('reg', ['query', key, '/v', value], { okExitCodes: [1] });
        return { ok: true, value: r.exitCode ? undefined : parseRegQuery(r.stdout).find((v) => v.name.toLowerCase() === value.toLowerCase())?.data };
      } catch (e) {
        return { ok: false, why: why(e) };
      }
    }),
    netAccounts: memo(() => fact(async () => parseNetAccountsPolicy((await run('net', ['accounts'])).stdout))),
    auditpol: memo(() => fact(async () => parseAuditpolCsv((await run('auditpol', ['/get', '/category:*', '/r'])).stdout))),
    localUserActive: memo(async (name: string) => {
      try {
        // net.exe exits 2 for "The user name could not be found".
        const r = await run('net', ['user', name], { okExitCodes: [2] });
        if (r.exitCode) return { ok: true, value: undefined };
        // The label is localized: without it the answer cannot be read (never taken as "no such user").
        const active = parseNetAccounts(r.stdout).get('Account active');
        return active === undefined ? { ok: false, why: 'no "Account active" line (net.exe output not in English?)' } : { ok: true, value: active };
      } catch (e) {
        return { ok: false, why: why(e) };
      }
    }),
  };
}
