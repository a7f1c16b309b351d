/** canhgac-agent: enroll | run | version */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDuration, usageFor, wantsHelp } from '../../common/args.js';
import { loadYamlConfig, parseYamlConfig } from '../../common/config.js';
import { CanhGacError, describeError } from '../../common/errors.js';
import { CHECK_ENTRIES } from '../checks/entries.js';
import { agentConfigSchema, defaultDataDir, type AgentConfig } from '../config.js';
import { runAgent } from '../run.js';
import { AGENT_VERSION, enroll } from '../transport/enroll.js';

const USAGE = `canhgac-agent <command> [options]   (--data-dir DIR defaults to ${defaultDataDir()})
  enroll --collector HOST:PORT (--token-file FILE | --token TOKEN) --ca-fingerprint sha256:… [--data-dir DIR]
                    the token may also come from CANHGAC_ENROLL_TOKEN; --token shows it to every user in ps
  run [--config FILE] [--data-dir DIR] [--collector HOST:PORT] [--once [--wait 120s]] [--progress] [--fim-path DIR]…
                    without --config, reads agent.yaml in the data directory when it is there
  version`;

/**
 * The enrollment token: exactly one of --token, --token-file and CANHGAC_ENROLL_TOKEN. A file (or the
 * environment) keeps the token out of the process list, where --token shows it to every local user.
 */
export function enrollToken(flag: string | undefined, file: string | undefined, env: string | undefined, hint: string): string {
  const given = [flag !== undefined && '--token', file !== undefined && '--token-file', env ? 'CANHGAC_ENROLL_TOKEN' : false].filter(Boolean);
  if (given.length === 0) throw new CanhGacError('USAGE', 'an enrollment token is required: --token-file FILE, CANHGAC_ENROLL_TOKEN or --token', { hint });
  if (given.length > 1) throw new CanhGacError('USAGE', `give the enrollment token once, not with ${given.join(' and ')}`, { hint });
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CanhGacError('USAGE', `cannot read the token file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where: file, hint: 'the file holds the token canhgac token create printed, on one line' });
    }
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    if (lines.length !== 1) throw new CanhGacError('USAGE', `the token file must hold exactly one non-empty line (it has ${lines.length})`, { where: file, hint: 'the file holds the token canhgac token create printed, on one line' });
    return lines[0]!;
  }
  const t = (flag ?? env ?? '').trim();
  if (!t) throw new CanhGacError('USAGE', 'the enrollment token is empty', { hint });
  return t;
}

export function loadAgentConfig(file: string | undefined, overrides: { dataDir?: string; fimPaths?: string[] }): AgentConfig {
  const schema = agentConfigSchema(CHECK_ENTRIES);
  const cfg = (file ? loadYamlConfig(file, schema, 'AGENT_CONFIG_INVALID') : parseYamlConfig('{}', '(defaults)', schema, 'AGENT_CONFIG_INVALID')) as AgentConfig;
  if (overrides.dataDir) cfg.data_dir = overrides.dataDir;
  if (overrides.fimPaths?.length && cfg.checks.fim) {
    const fim = cfg.checks.fim as { paths?: string[] };
    fim.paths = [...new Set([...(fim.paths ?? []), ...overrides.fimPaths])];
  }
  return cfg;
}

/**
 * The data directory must be this user's to use before anything is sent: a directory closed to it would
 * otherwise read as "not enrolled", and an enrollment whose identity cannot be saved spends the token.
 */
export function checkAgentDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    let owner = '';
    try { const st = statSync(dataDir); owner = ` (it belongs to uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)})`; } catch { /* only for the message */ }
    throw new CanhGacError('AGENT_DATA_DIR', `this user cannot use the agent data directory${owner}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: dataDir, cause: e, hint: 'run the agent as the user that owns it (the service user, or root), or pass another --data-dir',
    });
  }
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && wantsHelp(argv)) {
    console.log(usageFor(USAGE, [cmd]));
    return;
  }
  try {
    if (cmd === 'enroll') {
      const { values } = parse(rest, {
        collector: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, 'ca-fingerprint': { type: 'string' }, 'data-dir': { type: 'string' },
      }, usageFor(USAGE, ['enroll']));
      const hint = `usage: ${usageFor(USAGE, ['enroll'])}\n  (the token and the CA fingerprint come from canhgac token create on the collector)`;
      for (const k of ['collector', 'ca-fingerprint'] as const) {
        if (!values[k]) throw new CanhGacError('USAGE', `--${k} is required`, { hint });
      }
      const token = enrollToken(values.token, values['token-file'], process.env.CANHGAC_ENROLL_TOKEN, hint);
      const dataDir = values['data-dir'] ?? defaultDataDir();
      const existed = existsSync(dataDir);
      checkAgentDataDir(dataDir);
      const id = await enroll({ collector: values.collector!, token, caFingerprint: values['ca-fingerprint']!, dataDir }).catch((e: unknown) => {
        // A refused enrollment leaves no empty data directory it made behind.
        if (!existed) try { rmdirSync(dataDir); } catch { /* not empty: keep what is there */ }
        throw e;
      });
      console.log(`enrolled as agent ${id.agentId}; identity kept in ${join(dataDir, 'identity')} (mode 0600)`);
      return;
    }
    if (cmd === 'run') {
      const { values } = parse(rest, {
        config: { type: 'string' }, 'data-dir': { type: 'string' }, collector: { type: 'string' }, once: { type: 'boolean' },
        'fim-path': { type: 'string', multiple: true }, progress: { type: 'boolean' }, wait: { type: 'string' },
      }, usageFor(USAGE, ['run']));
      for (const p of values['fim-path'] ?? []) {
        if (!existsSync(p)) throw new CanhGacError('USAGE', `${p} does not exist`, { where: '--fim-path', hint: 'check the path; --fim-path takes a file or folder that is there now (paths in agent.yaml may be absent)' });
      }
      // agent.yaml in the data directory (the given one or the default) is read when it is there.
      const dataDirYaml = join(values['data-dir'] ?? defaultDataDir(), 'agent.yaml');
      const cfgFile = values.config ?? (existsSync(dataDirYaml) ? dataDirYaml : undefined);
      const config = loadAgentConfig(cfgFile, { ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}), ...(values['fim-path'] ? { fimPaths: values['fim-path'] } : {}) });
      checkAgentDataDir(config.data_dir);
      if (values.wait !== undefined && !values.once) throw new CanhGacError('USAGE', 'only applies with --once', { where: '--wait' });
      const drainTimeoutMs = parseDuration(values.wait ?? '120s', '--wait');
      await runAgent({
        config, checks: CHECK_ENTRIES, once: values.once ?? false, drainTimeoutMs,
        ...(values.collector ? { collector: values.collector } : {}),
        ...(values.progress ? { progress: (l: string) => console.log(l) } : {}),
      }).catch((e: unknown) => {
        // --once gave up waiting for the collector: nothing is lost, say so and what to check.
        // (The transport raises this one without a code; its wording is matched here.)
        const m = /^outbox not drained within (\d+) ms \((\d+) findings waiting\)/.exec((e as Error)?.message ?? '');
        if (!m) throw e;
        const to = values.collector ?? config.collector ?? 'the enrolled collector';
        throw new CanhGacError('AGENT_DELIVERY_TIMEOUT', `${to} did not acknowledge the findings within ${Number(m[1]) / 1000} s; ${m[2]} findings stay in the outbox (${join(config.data_dir, 'outbox.db')}) and go with the next run`, {
          where: '--once', cause: e, hint: 'check that the collector runs (canhgac serve) and that this host reaches its address and port (firewall)',
        });
      });
      process.exit(0);
    }
    if (cmd === 'version' || cmd === '--version') {
      console.log(AGENT_VERSION);
      return;
    }
    const asked = cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h';
    if (asked) console.log(USAGE);
    else console.error(`canhgac-agent: unknown command ${JSON.stringify(cmd)} [USAGE]\n  → usage: ${USAGE}`);
    process.exit(asked ? 0 : 2);
  } catch (e) {
    console.error(`canhgac-agent: ${describeError(e)}`);
    // The stack is for whoever debugs the program (CANHGAC_LOG_LEVEL=debug), never shown by default.
    if (process.env.CANHGAC_LOG_LEVEL === 'debug' && e instanceof Error && e.stack) console.error(e.stack);
    process.exit((e as { code?: string }).code === 'USAGE' ? 2 : 1);
  }
}
