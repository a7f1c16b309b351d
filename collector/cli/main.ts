/** canhgac: the collector and the commands people use against it. */
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { parse, parseCount, parseDuration, usageFor, wantsHelp } from '../../common/args.js';
import { loadYamlConfig, parseYamlConfig, yamlLineOf } from '../../common/config.js';
import { CanhGacError, describeError, isCanhGacError } from '../../common/errors.js';
import { FINDING_KINDS, type FindingKind } from '../../common/finding.js';
import { buildCollector, resolveProgramPath } from '../app.js';
import { collectorConfigSchema, type CollectorConfig } from '../config.js';
import { caFingerprint } from '../grpc/pki.js';
import { hashToken } from '../grpc/server.js';
import { loadRules } from '../rules.js';
import { openStore } from '../store/index.js';
import { ALERT_STATUSES, SEVERITIES, type AlertStatus, type Severity, type Store } from '../store/types.js';
import { runDemo } from './demo.js';
import { lockDataDir } from './lock.js';
import { feedImport, feedStatusCommand, feedTrustAdd, feedTrustList } from './feed.js';
import { agentDocument, agentsTable, alertDocument, alertsTable, findingDocument, findingsTable } from './format.js';

const USAGE = `canhgac <command> [options]   (every command takes --data-dir DIR, default ./.canhgac or $CANHGAC_DATA_DIR; and --help)
  demo [--once] [--fim-path DIR]… [--store sqlite|elasticsearch|opensearch --es-url URL --os-url URL]
  serve [--config FILE]
  token create [--ttl 24h] [--uses 1] [--group NAME]
  alerts list [--severity S]… [--status S]… [--host NAME] [--limit N] [--json]
  findings list --kind KIND [--host NAME] [--limit N] [--json]      kinds: ${FINDING_KINDS.join(', ')}
  agents list [--json]
  agents revoke AGENT_ID --reason TEXT
  feed import FILE [--trust-key KEY.pub]… [--allow-older --reason TEXT] [--json]
                                                      verify a signed vulnerability feed bundle and make it active
  feed status [--json]                                the active feed, its age and sources, the trusted keys
  feed trust add KEY.pub [--name NAME] | feed trust list`;

export function defaultDataDir(): string {
  return resolve(process.env.CANHGAC_DATA_DIR ?? '.canhgac');
}

export function loadCollectorConfig(dataDir: string, file?: string): CollectorConfig {
  // A file named with --config must exist; only the data directory's collector.yaml is optional.
  if (file !== undefined) return loadYamlConfig(file, collectorConfigSchema, 'COLLECTOR_CONFIG_INVALID');
  const f = join(dataDir, 'collector.yaml');
  if (existsSync(f)) return loadYamlConfig(f, collectorConfigSchema, 'COLLECTOR_CONFIG_INVALID');
  return parseYamlConfig('{}', '(defaults)', collectorConfigSchema, 'COLLECTOR_CONFIG_INVALID');
}

function storeConfigFrom(values: { store?: string | undefined; 'es-url'?: string | undefined; 'os-url'?: string | undefined }, cfg: CollectorConfig): Record<string, unknown> {
  const type = values.store ?? (values['es-url'] ? 'elasticsearch' : values['os-url'] ? 'opensearch' : undefined);
  if (!type) return cfg.store as Record<string, unknown>;
  if (!['sqlite', 'elasticsearch', 'opensearch'].includes(type)) {
    throw new CanhGacError('USAGE', `${JSON.stringify(type)} is not one of sqlite, elasticsearch, opensearch`, { where: '--store' });
  }
  if (type === 'sqlite') return { type };
  const opt = type === 'elasticsearch' ? '--es-url' : '--os-url';
  const url = type === 'elasticsearch' ? values['es-url'] : values['os-url'];
  if (!url) throw new CanhGacError('USAGE', `--store ${type} needs ${opt} URL`, { where: opt, hint: `e.g. ${opt} http://127.0.0.1:9200` });
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw new CanhGacError('USAGE', `${JSON.stringify(url)} is not an http(s) URL`, { where: opt, hint: `e.g. ${opt} http://127.0.0.1:9200` });
  return { ...(cfg.store as Record<string, unknown>), type, nodes: [url] };
}

/**
 * A data directory this user may not enter looks empty to existsSync(): say what it is instead
 * ("no collector data here" would send the person looking in the wrong place).
 */
export function checkDataDirAccess(dataDir: string, write = false): void {
  if (!existsSync(dataDir)) return;
  try {
    accessSync(dataDir, constants.R_OK | constants.X_OK | (write ? constants.W_OK : 0));
  } catch (e) {
    let owner = '';
    try { owner = ` (it belongs to uid ${statSync(dataDir).uid}, mode ${(statSync(dataDir).mode & 0o777).toString(8)})`; } catch { /* the stat is only for the message */ }
    throw new CanhGacError('COLLECTOR_DATA_DIR', `this user may not ${write ? 'write to' : 'read'} the data directory${owner}`, {
      where: dataDir, cause: e, hint: 'run the command as the user the collector runs as (e.g. sudo -u canhgac …), or fix the directory\'s owner and mode',
    });
  }
}

/**
 * Opens the store of `dataDir`. Commands that only read (`existing`) refuse a directory without an embedded
 * store rather than create an empty one there: a mistyped --data-dir must not look like "no alerts".
 */
async function withStore<T>(dataDir: string, fn: (s: Store) => Promise<T>, o: { existing?: boolean } = {}): Promise<T> {
  const noData = () => new CanhGacError('COLLECTOR_DATA_DIR', 'no collector data here yet', { where: dataDir, hint: 'pass the --data-dir the collector uses (canhgac serve / demo), or start it there first' });
  if (!existsSync(dataDir)) throw noData();
  checkDataDirAccess(dataDir);
  const cfg = loadCollectorConfig(dataDir);
  if (o.existing && (cfg.store as { type?: string }).type === 'sqlite' && !existsSync(join(dataDir, 'canhgac.db'))) throw noData();
  const store = await openStore(cfg.store as never, dataDir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function pick<T extends string>(vals: string[] | undefined, allowed: readonly T[], opt: string): T[] | undefined {
  if (!vals?.length) return undefined;
  const out = vals.flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase());
  for (const v of out) {
    if (!allowed.includes(v as T)) throw new CanhGacError('USAGE', `${JSON.stringify(v)} is not one of ${allowed.join(', ')}`, { where: opt });
  }
  return out as T[];
}

/** Who is acting, for the audit trail: the person behind sudo, else the login user. */
function actor(): string {
  try { return process.env.SUDO_USER ?? userInfo().username; } catch { return process.env.USER ?? 'unknown'; }
}

/** Refuses a rules folder that cannot be read: a collector without its rules would raise no alert at all. */
function rulesDirFor(cfg: CollectorConfig, configFile: string | undefined): string {
  const dir = resolveProgramPath(cfg.rules_dir);
  try {
    readdirSync(dir);
  } catch (e) {
    throw new CanhGacError('COLLECTOR_RULE_READ', `cannot read the rules folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: dir, cause: e, hint: `set rules_dir in ${configFile ?? 'collector.yaml'} to the folder of detection rules (default rules/detection)`,
    });
  }
  return dir;
}

/** The port is taken: say so instead of gRPC's "No address added out of total 1 resolved". */
function listenError(e: unknown, host: string, port: number): unknown {
  const text = String((e as Error)?.message ?? e);
  if (!/EADDRINUSE|EACCES|EADDRNOTAVAIL/.test(text)) return e;
  const why = /EADDRINUSE/.test(text) ? 'is already in use (another collector, or another program, listens there)'
    : /EACCES/.test(text) ? 'may not be used by this user (ports below 1024 need privileges)' : 'is not an address of this machine';
  return new CanhGacError('COLLECTOR_LISTEN', `${host}:${port} ${why}`, { where: 'listen', cause: e, hint: 'stop the other process, or set listen.host / listen.port in collector.yaml' });
}

/** A path a person typed on the command line must exist: watching nothing would pass silently. */
export function requireExisting(p: string, opt: string): void {
  if (!existsSync(resolve(p))) throw new CanhGacError('USAGE', `${resolve(p)} does not exist`, { where: opt, hint: `check the path; ${opt} takes a file or folder that is there now` });
}

/**
 * Opens the configured store; a refusal of the store section of collector.yaml names the file and line
 * (the store validates its own section and only knows the key path).
 */
export async function openConfiguredStore(storeConfig: Record<string, unknown>, dataDir: string, configFile: string | undefined): Promise<Store> {
  try {
    return await openStore(storeConfig as never, dataDir);
  } catch (e) {
    const file = configFile ?? join(dataDir, 'collector.yaml');
    if (!isCanhGacError(e, 'STORE_INVALID_INPUT') || !e.where?.startsWith('store')) throw e;
    const path = e.where.split('.');
    const unknown = /Unrecognized keys?: "([^"]+)"/.exec(e.message)?.[1];
    const line = yamlLineOf(file, unknown ? [...path, unknown] : path);
    if (line === undefined) throw e;
    throw new CanhGacError(e.code, `${e.where}: ${e.message}`, { where: `${file}:${line}`, cause: e, ...(e.hint ? { hint: e.hint } : {}) });
  }
}

/** The value of --data-dir in `args` (before the full parse of a subcommand). */
function dataDirArg(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data-dir') return args[i + 1];
    if (args[i]!.startsWith('--data-dir=')) return args[i]!.slice('--data-dir='.length);
  }
  return undefined;
}

const common = { 'data-dir': { type: 'string' as const }, json: { type: 'boolean' as const } };

export async function main(argv: string[]): Promise<void> {
  const [cmd, sub, ...rest] = argv;
  if (cmd !== undefined && wantsHelp(argv)) {
    console.log(usageFor(USAGE, [cmd, sub]));
    return;
  }
  try {
    switch (cmd) {
      case 'demo': {
        // The demo talks to a person: the summary is the output; routine log lines would drown it.
        process.env.CANHGAC_LOG_LEVEL ??= 'warn';
        const { values } = parse([sub, ...rest].filter((x): x is string => x !== undefined), {
          ...common, once: { type: 'boolean' }, 'fim-path': { type: 'string', multiple: true }, store: { type: 'string' },
          'es-url': { type: 'string' }, 'os-url': { type: 'string' },
        }, usageFor(USAGE, ['demo']));
        const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
        for (const p of values['fim-path'] ?? []) requireExisting(p, '--fim-path');
        const cfg = loadCollectorConfig(dataDir);
        const rulesDir = rulesDirFor(cfg, undefined);
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        checkDataDirAccess(dataDir, true);
        lockDataDir(dataDir);
        const code = await runDemo({
          dataDir, once: values.once ?? false, fimPaths: (values['fim-path'] ?? []).map((p) => resolve(p)),
          storeConfig: storeConfigFrom(values, cfg), rulesDir,
        });
        process.exit(code);
        break;
      }
      case 'serve': {
        const { values } = parse([sub, ...rest].filter((x): x is string => x !== undefined), { ...common, config: { type: 'string' } }, usageFor(USAGE, ['serve']));
        const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
        const cfg = loadCollectorConfig(dataDir, values.config);
        const rulesDir = rulesDirFor(cfg, values.config);
        // Listen for Ctrl-C / SIGTERM from the start: one that comes while the collector is still starting
        // must also end in a clean shutdown (exit 0), not in the signal's default action.
        const stopRequested = new Promise<void>((r) => { process.once('SIGINT', r); process.once('SIGTERM', r); });
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        checkDataDirAccess(dataDir, true);
        lockDataDir(dataDir);
        const store = await openConfiguredStore(cfg.store as Record<string, unknown>, dataDir, values.config);
        const rules = loadRules(rulesDir);
        for (const e of rules.summary().errors) console.error(`rule skipped: ${e}`);
        if (rules.summary().rules === 0) console.error(`no usable detection rule in ${rulesDir}: no alert will be raised (check rules_dir in collector.yaml)`);
        const c = await buildCollector({
          dataDir, store, rules, listen: cfg.listen, serverNames: cfg.server_names, maxMessageBytes: cfg.max_message_bytes,
          retention: { alertsDays: cfg.retention.alerts_days, findingsDays: cfg.retention.findings_days, intervalHours: cfg.retention.interval_hours },
        });
        const { host, port } = await c.listen().catch(async (e: unknown) => {
          await c.close();
          throw listenError(e, cfg.listen.host, cfg.listen.port);
        });
        console.log(`collector listening on ${host}:${port}; CA fingerprint ${c.pki.caFingerprint}`);
        // Rules are data: SIGHUP reloads them; a broken rule is skipped and reported, the rest stay active.
        process.on('SIGHUP', () => {
          rules.reload();
          for (const e of rules.summary().errors) console.error(`rule skipped: ${e}`);
        });
        await stopRequested;
        await c.close();
        process.exit(0);
        break;
      }
      case 'token': {
        if (sub !== 'create') throw new CanhGacError('USAGE', 'unknown token command', { hint: usageFor(USAGE, [cmd]) });
        const { values } = parse(rest, { ...common, ttl: { type: 'string' }, uses: { type: 'string' }, group: { type: 'string' } }, usageFor(USAGE, ['token']));
        const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
        const ttl = parseDuration(values.ttl ?? '24h', '--ttl');
        const uses = values.uses === undefined ? 1 : values.uses === 'unlimited' ? null : Number(values.uses);
        if (uses !== null && (!Number.isInteger(uses) || uses < 1)) throw new CanhGacError('USAGE', `${JSON.stringify(values.uses)} is not a positive whole number or "unlimited"`, { where: '--uses', hint: 'e.g. --uses 1 (one enrollment) or --uses 20' });
        checkDataDirAccess(dataDir, true);
        // A token is only useful from the collector whose CA the agent will pin: never make a new CA here
        // (a mistyped --data-dir would print a token and fingerprint that no running collector knows).
        if (!existsSync(join(dataDir, 'pki', 'ca.crt'))) {
          throw new CanhGacError('COLLECTOR_DATA_DIR', 'no collector has run with this data directory yet (no pki/ca.crt)', {
            where: dataDir, hint: 'pass the --data-dir of the collector (canhgac serve --data-dir DIR), or start it there once first',
          });
        }
        const pki = { caFingerprint: await caFingerprint(dataDir) };
        const secret = `cgt_${randomBytes(24).toString('base64url')}`;
        const now = new Date();
        const id = randomUUID();
        const group = values.group ?? 'default';
        const expiresAt = new Date(now.getTime() + ttl).toISOString();
        await withStore(dataDir, async (s) => {
          await s.createToken({ id, hash: hashToken(secret), group, createdAt: now.toISOString(), expiresAt, usesLeft: uses, createdBy: actor() });
          // Every change made by a person is in the audit trail (never the token itself).
          await s.appendAudit({ at: now.toISOString(), actor: actor(), action: 'token.create', target: `token:${id}`, from: '', to: `group ${group}, uses ${uses ?? 'unlimited'}, expires ${expiresAt}`, reason: '' });
        }, { existing: true });
        if (values.json) console.log(JSON.stringify({ token: secret, id, expires_at: new Date(now.getTime() + ttl).toISOString(), uses, ca_fingerprint: pki.caFingerprint }));
        else {
          console.log(secret);
          console.error(`token ${id}: expires ${new Date(now.getTime() + ttl).toISOString()}, uses ${uses ?? 'unlimited'}`);
          console.error(`enroll with: canhgac-agent enroll --collector HOST:PORT --token-file FILE (the token on one line) --ca-fingerprint ${pki.caFingerprint}`);
        }
        return;
      }
      case 'alerts': {
        if (sub !== 'list') throw new CanhGacError('USAGE', 'unknown alerts command', { hint: usageFor(USAGE, [cmd]) });
        const { values } = parse(rest, { ...common, severity: { type: 'string', multiple: true }, status: { type: 'string', multiple: true }, host: { type: 'string' }, limit: { type: 'string' } }, usageFor(USAGE, ['alerts']));
        const limit = parseCount(values.limit, '--limit', 1000);
        const severity = pick<Severity>(values.severity, SEVERITIES, '--severity');
        const status = pick<AlertStatus>(values.status, ALERT_STATUSES, '--status');
        const page = await withStore(resolve(values['data-dir'] ?? defaultDataDir()), (s) => s.listAlerts({
          ...(severity ? { severity } : {}), ...(status ? { status } : {}), ...(values.host ? { hostName: values.host } : {}),
          limit,
        }), { existing: true });
        console.log(values.json ? JSON.stringify(page.items.map(alertDocument), null, 2) : `${alertsTable(page.items)}\n${page.items.length} of ${page.total} alerts`);
        return;
      }
      case 'findings': {
        if (sub !== 'list') throw new CanhGacError('USAGE', 'unknown findings command', { hint: usageFor(USAGE, [cmd]) });
        const { values } = parse(rest, { ...common, kind: { type: 'string' }, host: { type: 'string' }, limit: { type: 'string' } }, usageFor(USAGE, ['findings']));
        const limit = parseCount(values.limit, '--limit', 10_000);
        const kind = pick<FindingKind>(values.kind ? [values.kind] : undefined, FINDING_KINDS, '--kind')?.[0];
        if (!kind) throw new CanhGacError('USAGE', '--kind is required', { hint: `one of ${FINDING_KINDS.join(', ')}` });
        const page = await withStore(resolve(values['data-dir'] ?? defaultDataDir()), (s) => s.listFindings({
          kind, ...(values.host ? { hostName: values.host } : {}), limit,
        }), { existing: true });
        console.log(values.json ? JSON.stringify(page.items.map(findingDocument), null, 2) : `${findingsTable(kind, page.items)}\n${page.items.length} of ${page.total} ${kind} findings`);
        return;
      }
      case 'feed': {
        checkDataDirAccess(resolve(dataDirArg(rest) ?? defaultDataDir()), sub !== 'status' && !(sub === 'trust' && rest[0] === 'list'));
        if (sub === 'import') {
          const { values, positionals } = parse(rest, {
            ...common, 'trust-key': { type: 'string', multiple: true }, 'allow-older': { type: 'boolean' }, reason: { type: 'string' },
          }, usageFor(USAGE, [cmd, sub]));
          if (positionals.length !== 1) throw new CanhGacError('USAGE', 'feed import takes one bundle file', { hint: 'canhgac feed import FILE.cgfeed [--data-dir DIR] [--trust-key KEY.pub] [--allow-older --reason TEXT]' });
          const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
          await feedImport({
            file: positionals[0]!, dataDir, trustKeys: values['trust-key'] ?? [], json: values.json ?? false,
            allowOlder: values['allow-older'] ?? false, reason: values.reason, actor: actor(),
            audit: async (e) => { await withStore(dataDir, (s) => s.appendAudit(e)); },
          });
          return;
        }
        if (sub === 'status') {
          const { values } = parse(rest, common, usageFor(USAGE, [cmd, sub]));
          await feedStatusCommand({ dataDir: resolve(values['data-dir'] ?? defaultDataDir()), json: values.json ?? false });
          return;
        }
        if (sub === 'trust') {
          const [action, ...more] = rest;
          const { values, positionals } = parse(more, { ...common, name: { type: 'string' } }, usageFor(USAGE, [cmd, sub]));
          const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
          if (action === 'add' && positionals.length === 1) return feedTrustAdd({ file: positionals[0]!, dataDir, name: values.name });
          if (action === 'list') return feedTrustList({ dataDir, json: values.json ?? false });
          throw new CanhGacError('USAGE', 'feed trust add KEY.pub [--name NAME] | feed trust list', { hint: usageFor(USAGE, [cmd]) });
        }
        throw new CanhGacError('USAGE', 'unknown feed command', { hint: usageFor(USAGE, [cmd]) });
      }
      case 'agents': {
        if (sub === 'revoke') {
          const { values, positionals } = parse(rest, { ...common, reason: { type: 'string' } }, usageFor(USAGE, [cmd, sub]));
          const agentId = positionals[0];
          if (!agentId) throw new CanhGacError('USAGE', 'which agent? give its id', { hint: 'canhgac agents revoke AGENT_ID --reason "…"' });
          if (!values.reason) throw new CanhGacError('USAGE', '--reason is required: the audit trail records why', { where: '--reason' });
          await withStore(resolve(values['data-dir'] ?? defaultDataDir()), async (s) => {
            const a = await s.getAgent(agentId);
            if (!a) throw new CanhGacError('STORE_NOT_FOUND', `no agent ${agentId}`, { hint: 'see canhgac agents list' });
            await s.upsertAgent({ ...a, status: 'revoked' });
            await s.appendAudit({ at: new Date().toISOString(), actor: actor(), action: 'agent.revoke', target: `agent:${agentId}`, from: a.status, to: 'revoked', reason: values.reason! });
          }, { existing: true });
          console.log(`agent ${agentId} revoked: its certificate is refused from its next connection`);
          return;
        }
        if (sub !== 'list') throw new CanhGacError('USAGE', 'unknown agents command', { hint: usageFor(USAGE, [cmd]) });
        const { values } = parse(rest, common, usageFor(USAGE, [cmd, sub]));
        const agents = await withStore(resolve(values['data-dir'] ?? defaultDataDir()), (s) => s.listAgents(), { existing: true });
        console.log(values.json ? JSON.stringify(agents.map(agentDocument), null, 2) : agentsTable(agents));
        return;
      }
      case undefined: case 'help': case '--help': case '-h':
        console.log(USAGE);
        return;
      default:
        throw new CanhGacError('USAGE', `unknown command ${JSON.stringify(cmd)}`, { hint: USAGE });
    }
  } catch (e) {
    console.error(`canhgac: ${describeError(e)}`);
    // The stack is for whoever debugs the program (CANHGAC_LOG_LEVEL=debug), never shown by default.
    if (process.env.CANHGAC_LOG_LEVEL === 'debug' && e instanceof Error && e.stack) console.error(e.stack);
    process.exit((e as { code?: string }).code === 'USAGE' ? 2 : 1);
  }
}
