/**
 * The agent's only way to run a program. A command is named by an id from a fixed table that maps
 * it to absolute paths; it runs through execFile (never a shell) with a small fixed environment
 * (`LC_ALL=C`, so output is never localised), a timeout, an output limit and a closed stdin.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { AgentCodes, AgentError } from '../errors.js';
import { LSOF_LISTEN_ARGS } from './darwin/lsof.js';
import { APT_SIMULATE_ARGS } from './linux/apt-simulate.js';
import { SOCKETFILTERFW_APPS_ARGS, SOCKETFILTERFW_PATH, SOCKETFILTERFW_STATE_ARGS } from './darwin/socketfilterfw.js';
import { POWERSHELL_ARGV, POWERSHELL_PATH, POWERSHELL_SLOW_TIMEOUTS } from './windows/queries.js';

export interface CommandSpec {
  /** Absolute paths to try, in order (distributions put some tools in /usr/sbin, some in /usr/bin). */
  readonly paths: readonly string[];
  readonly timeoutMs: number;
  /** Bytes of stdout (and, separately, stderr) after which the command is killed. */
  readonly maxBytes: number;
  /**
   * When set, the only argument lists the command runs with (exact match): for programs that would
   * run anything they are given (a script host), so the caller picks a fixed query, never its text.
   */
  readonly argv?: readonly (readonly string[])[];
  /** Variables added to COMMAND_ENV for this command. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * A longer timeout for some of the fixed argument lists (key: the arguments joined by NUL), for a
   * query known to take long (a Windows Update search asks the update source over the network).
   */
  readonly argvTimeoutMs?: ReadonlyMap<string, number>;
}

const MiB = 1024 * 1024;

/** What Windows programs need to start (Winsock, .NET and CIM look up SystemRoot); no user data. */
const WINDOWS_ENV: Readonly<Record<string, string>> = {
  SystemRoot: 'C:\\Windows',
  windir: 'C:\\Windows',
  PATH: 'C:\\Windows\\System32;C:\\Windows;C:\\Windows\\System32\\WindowsPowerShell\\v1.0',
};

/** The allowlist. Adding a command here is a security decision: say why in the commit. */
export const COMMANDS = {
  /** Debian/Ubuntu package inventory. */
  'dpkg-query': { paths: ['/usr/bin/dpkg-query'], timeoutMs: 30_000, maxBytes: 64 * MiB },
  /**
   * Pending updates on Debian/Ubuntu: only the simulation (`--simulate` changes nothing and reads the
   * cached package lists; it never downloads). apt-get can install and remove packages, so the one
   * argument list is fixed here.
   */
  'apt-get': { paths: ['/usr/bin/apt-get'], timeoutMs: 120_000, maxBytes: 32 * MiB, argv: [APT_SIMULATE_ARGS] },
  /**
   * dpkg, read-only forms only: `dpkg -S <path>…` (which package owns a file; exit 1 when some are
   * owned by none) and `dpkg --verify <package>…` (files that differ from the package database), so
   * FIM can tell a package upgrade from a tampered file.
   */
  dpkg: { paths: ['/usr/bin/dpkg'], timeoutMs: 60_000, maxBytes: 16 * MiB },
  /** RHEL/Rocky/Alma package inventory. */
  rpm: { paths: ['/usr/bin/rpm', '/bin/rpm'], timeoutMs: 60_000, maxBytes: 64 * MiB },
  /** Linux listening sockets (iproute2). RHEL ships it in /usr/sbin, Debian in /usr/bin. */
  ss: { paths: ['/usr/bin/ss', '/usr/sbin/ss', '/bin/ss', '/sbin/ss'], timeoutMs: 15_000, maxBytes: 16 * MiB },
  /** The nftables ruleset as JSON (`-j list ruleset`): read-only, for the firewall check and listener exposure. */
  nft: { paths: ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'], timeoutMs: 15_000, maxBytes: 32 * MiB },
  /** iptables rules (IPv4) in save format; only ever run without arguments or with `-c`-free read flags. */
  'iptables-save': { paths: ['/usr/sbin/iptables-save', '/sbin/iptables-save'], timeoutMs: 15_000, maxBytes: 32 * MiB },
  /** ip6tables rules (IPv6) in save format. */
  'ip6tables-save': { paths: ['/usr/sbin/ip6tables-save', '/sbin/ip6tables-save'], timeoutMs: 15_000, maxBytes: 32 * MiB },
  /** `ufw status verbose`: Ubuntu's firewall front end, its status and default policies. */
  ufw: { paths: ['/usr/sbin/ufw', '/sbin/ufw'], timeoutMs: 15_000, maxBytes: 4 * MiB },
  /** `firewall-cmd --state` (firewalld): running or not. */
  'firewall-cmd': { paths: ['/usr/bin/firewall-cmd', '/bin/firewall-cmd'], timeoutMs: 15_000, maxBytes: 4 * MiB },
  /** `sshd -T`: OpenSSH's effective server configuration (read-only; it parses the config and prints it). */
  sshd: { paths: ['/usr/sbin/sshd', '/sbin/sshd'], timeoutMs: 15_000, maxBytes: 1 * MiB },
  /** `systemctl is-enabled|is-active <unit>`: service state for SCA probes (queries only). */
  systemctl: { paths: ['/usr/bin/systemctl', '/bin/systemctl'], timeoutMs: 15_000, maxBytes: 1 * MiB },
  /** Windows: `reg query <key> /v <name>` for SCA registry probes (query only). */
  reg: { paths: ['C:\\Windows\\System32\\reg.exe'], timeoutMs: 15_000, maxBytes: 1 * MiB },
  /** Windows: `net accounts` and `net user <name>` (local password, lockout and account policy; read-only forms). */
  net: { paths: ['C:\\Windows\\System32\\net.exe'], timeoutMs: 15_000, maxBytes: 1 * MiB },
  /** Windows: `auditpol /get /category:* /r` (the effective audit policy as CSV). */
  auditpol: { paths: ['C:\\Windows\\System32\\auditpol.exe'], timeoutMs: 15_000, maxBytes: 4 * MiB },
  /** macOS: `system_profiler -nospawn -xml SPApplicationsDataType -detailLevel full`, the application inventory (read-only report). */
  system_profiler: { paths: ['/usr/sbin/system_profiler'], timeoutMs: 180_000, maxBytes: 64 * MiB },
  /** macOS: `lsof -nP -iTCP -sTCP:LISTEN -iUDP` only (listening TCP and bound UDP sockets with their processes). */
  lsof: { paths: ['/usr/sbin/lsof'], timeoutMs: 30_000, maxBytes: 16 * MiB, argv: [LSOF_LISTEN_ARGS] },
  /**
   * macOS application firewall: `socketfilterfw --getglobalstate --getblockall --getallowsigned
   * --getstealthmode` and `socketfilterfw --listapps` only. The tool also changes the firewall
   * (`--set…`, `--add`, `--blockapp`…), so the allowlist pins its two read-only argument lists.
   */
  socketfilterfw: { paths: [SOCKETFILTERFW_PATH], timeoutMs: 15_000, maxBytes: 4 * MiB, argv: [SOCKETFILTERFW_STATE_ARGS, SOCKETFILTERFW_APPS_ARGS] },
  /**
   * Windows PowerShell, only with one of the fixed read-only queries of agent/host/windows/queries.ts
   * (`-NoProfile -NonInteractive -ExecutionPolicy Bypass -OutputFormat Text -Command <query>`): it is
   * a script host, so the allowlist pins its whole argument list, never a caller's text.
   */
  powershell: { paths: [POWERSHELL_PATH], timeoutMs: 120_000, maxBytes: 64 * MiB, argv: POWERSHELL_ARGV, env: WINDOWS_ENV, argvTimeoutMs: POWERSHELL_SLOW_TIMEOUTS },
} as const satisfies Record<string, CommandSpec>;

export type CommandId = keyof typeof COMMANDS;

export interface CommandResult {
  /** The absolute path that ran. */
  path: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Set when the command exited with one of `okExitCodes` (0 otherwise omitted). */
  exitCode?: number;
}

export interface RunOptions {
  /** Lower (never raise) the table's timeout, e.g. in tests. */
  timeoutMs?: number;
  /**
   * Exit statuses that are answers, not failures (`systemctl is-enabled` exits 1 for "disabled",
   * `reg query` 1 for "no such value"): the command resolves with its output and `exitCode`.
   */
  okExitCodes?: readonly number[];
}

/** The environment every command gets; nothing of the agent's own environment leaks in. */
export const COMMAND_ENV: Readonly<Record<string, string>> = {
  LC_ALL: 'C',
  LANG: 'C',
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
};

export type Runner<Id extends string> = (id: Id, args: readonly string[], opts?: RunOptions) => Promise<CommandResult>;
export type Resolver<Id extends string> = (id: Id) => Promise<string | undefined>;

async function firstExecutable(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Which absolute path a command would run from, or undefined when it is not installed. */
export function createResolver<Id extends string>(table: Readonly<Record<Id, CommandSpec>>): Resolver<Id> {
  return async (id) => {
    const spec = Object.hasOwn(table, id) ? table[id] : undefined;
    return spec ? firstExecutable(spec.paths) : undefined;
  };
}

function excerpt(text: string, max = 300): string {
  const t = text.trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Builds a runner over a command table (tests build one over a table of their own). */
export function createRunner<Id extends string>(table: Readonly<Record<Id, CommandSpec>>): Runner<Id> {
  return async (id, args, opts = {}) => {
    const spec: CommandSpec | undefined = Object.hasOwn(table, id) ? table[id] : undefined;
    if (!spec) {
      throw new AgentError(AgentCodes.HOST_COMMAND_UNKNOWN, `command "${id}" is not in the agent's allowlist`, {
        hint: 'only the commands listed in agent/host/run.ts can run',
      });
    }
    if (spec.argv && !spec.argv.some((allowed) => allowed.length === args.length && allowed.every((a, i) => a === args[i]))) {
      throw new AgentError(AgentCodes.HOST_COMMAND_UNKNOWN, `command "${id}" may only run with the fixed argument lists of the allowlist`, {
        hint: 'name one of the fixed queries (agent/host/windows/queries.ts), never pass script text',
      });
    }
    const path = await firstExecutable(spec.paths);
    if (!path) {
      throw new AgentError(AgentCodes.HOST_COMMAND_MISSING, `command "${id}" is not installed (looked for ${spec.paths.join(', ')})`, {
        hint: `install the package that provides ${spec.paths[0] ?? id}`,
      });
    }
    const specTimeoutMs = spec.argvTimeoutMs?.get(args.join('\0')) ?? spec.timeoutMs;
    const timeoutMs = Math.min(opts.timeoutMs ?? specTimeoutMs, specTimeoutMs);
    const started = performance.now();
    return new Promise<CommandResult>((resolve, reject) => {
      const child = execFile(
        path,
        [...args],
        { env: { ...COMMAND_ENV, ...spec.env }, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: spec.maxBytes, encoding: 'utf8', windowsHide: true },
        (err, stdout, stderr) => {
          const durationMs = performance.now() - started;
          if (!err) {
            resolve({ path, stdout, stderr, durationMs });
            return;
          }
          const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
          if (typeof e.code === 'number' && !e.killed && opts.okExitCodes?.includes(e.code)) {
            resolve({ path, stdout, stderr, durationMs, exitCode: e.code });
            return;
          }
          if (e.code === 'ENOENT') {
            reject(new AgentError(AgentCodes.HOST_COMMAND_MISSING, `command "${id}" disappeared: ${path}`, { cause: err }));
          } else if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            reject(new AgentError(AgentCodes.HOST_COMMAND_OUTPUT_TOO_LARGE, `command "${id}" printed more than ${spec.maxBytes} bytes and was stopped`, { cause: err }));
          } else if (e.killed) {
            // Node kills the child itself only for the timeout (the output limit has its own code).
            reject(new AgentError(AgentCodes.HOST_COMMAND_TIMEOUT, `command "${id}" did not finish within ${timeoutMs} ms and was stopped`, { cause: err }));
          } else {
            const how = typeof e.code === 'number' ? `exited with status ${e.code}` : e.signal ? `was killed by ${e.signal}` : `could not run (${String(e.code ?? e.message)})`;
            const said = excerpt(stderr);
            reject(new AgentError(AgentCodes.HOST_COMMAND_FAILED, `command "${id}" ${how}${said ? `: ${said}` : ''}`, { cause: err }));
          }
        },
      );
      // Nothing is ever written to a command's stdin: close it, so that a program that reads it to EOF
      // (powershell.exe does when its stdin is a pipe, even with -Command) does not wait for the timeout.
      // A command that has already exited (or never started) may refuse the close: nothing was lost.
      child.stdin?.on('error', () => {});
      child.stdin?.end();
    });
  };
}

/** Runs an allowlisted command: `runCommand('ss', ['-Hlntup'])`. */
export const runCommand: Runner<CommandId> = createRunner(COMMANDS);

/** The path `runCommand(id)` would use, or undefined when the command is not installed. */
export const commandPath: Resolver<CommandId> = createResolver(COMMANDS);
