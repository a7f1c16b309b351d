/**
 * sca: security configuration assessment (DESIGN §3.6). Loads the policies in rules/sca, keeps those that
 * apply to this host, evaluates every check with typed read-only probes, and emits one `sca` state item
 * per check: result, evidence, remediation and compliance references. Each item also carries the
 * previous result of the same check (`sca.check.previous_result`), which detection rules use to alert
 * on change only (see README).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fields } from '../../../common/finding.js';
import type { Check, CheckContext, CollectResult, Observation } from '../check.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { readSystemFile, writeFileDurable } from '../../host/fs.js';
import { runCommand, type CommandId, type Runner } from '../../host/run.js';
import { parseCheckConfig } from '../parse-config.js';
import { scaConfig, type ScaConfig } from './config.js';
import { evaluateCheck, policyApplies, type Result } from './evaluate.js';
import { liveScaHost, type ScaHost } from './host.js';
import { parsePolicy, type Policy } from './policy.js';

export interface ScaDeps {
  host: () => ScaHost;
  platform: NodeJS.Platform;
  run: Runner<CommandId>;
}

/** The folder holding package.json (the program folder), found from this file. */
export function programDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Every *.yaml / *.yml policy in the folder, parsed; a bad file is an error naming it. */
export function loadPolicies(dir: string): Policy[] {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.')).sort();
  return files.map((f) => {
    try {
      return parsePolicy(readFileSync(join(dir, f), 'utf8'), join(dir, f));
    } catch (e) {
      throw new AgentError(AgentCodes.CHECK_CONFIG_INVALID, `SCA policy ${(e as Error).message}`, { cause: e, hint: 'fix the policy file; the format is in agent/checks/sca/README.md' });
    }
  });
}

const STATE_FILE = 'results.json';

export function scaFields(p: Policy, c: Policy['checks'][number], result: Result, evidence: string, previous: Result | undefined): Fields {
  const f: Fields = {
    'sca.policy.id': p.policy.id,
    'sca.policy.title': p.policy.title,
    'sca.check.id': c.id,
    'sca.check.title': c.title,
    'sca.check.result': result,
    'sca.check.evidence': evidence,
    'sca.check.remediation': c.remediation.trim(),
    'compliance.cis': c.compliance.cis,
    'compliance.nist_800_53': c.compliance.nist_800_53,
    'compliance.tcvn': c.compliance.tcvn,
  };
  if (c.i18n?.vi.title) f['sca.check.title_vi'] = c.i18n.vi.title;
  if (c.i18n?.vi.remediation) f['sca.check.remediation_vi'] = c.i18n.vi.remediation.trim();
  if (previous) f['sca.check.previous_result'] = previous;
  return f;
}

export function createScaCheck(deps: Partial<ScaDeps> = {}): Check {
  const run = deps.run ?? runCommand;
  const makeHost = deps.host ?? (() => liveScaHost(run));
  const platform = deps.platform ?? process.platform;
  let config: ScaConfig | undefined;
  /** Results of the last collection, written to the state folder at the start of the next one (see README). */
  let pending: Record<string, Result> | undefined;
  return {
    name: 'sca',
    kinds: ['sca'],
    init(raw: unknown) {
      config = parseCheckConfig('sca', scaConfig, raw);
    },
    async collect(ctx: CheckContext): Promise<CollectResult> {
      if (!config) throw new AgentError(AgentCodes.CHECK_NOT_INITIALIZED, 'check "sca" used before init()');
      const dir = isAbsolute(config.policies_dir) ? config.policies_dir : resolve(programDir(), config.policies_dir);
      const policies = loadPolicies(dir).filter((p) => config!.policies.length === 0 || config!.policies.includes(p.policy.id));
      const statePath = join(ctx.stateDir, STATE_FILE);
      // The previous collection's results reached the outbox when that collect() returned: only now are
      // they the "previous" ones. After a restart, the file holds the last results known to be queued.
      if (pending) await writeFileDurable(statePath, JSON.stringify(pending));
      let previous: Record<string, Result> = {};
      try {
        previous = JSON.parse((await readSystemFile(statePath, 4 * 1024 * 1024)) ?? '{}') as Record<string, Result>;
      } catch {
        ctx.log.warn('sca previous results unreadable; every result counts as new', { file: statePath });
      }
      const host = makeHost();
      const items: Observation[] = [];
      const now: Record<string, Result> = {};
      for (const p of policies) {
        const applies = await policyApplies(p, host, platform);
        if (!applies.applies) {
          ctx.log.debug?.('sca policy does not apply', { policy: p.policy.id, reason: applies.evidence });
          continue;
        }
        for (const c of p.checks) {
          if (config.skip_checks.includes(c.id)) continue;
          const r = await evaluateCheck(c, host);
          const key = `${p.policy.id}/${c.id}`;
          now[key] = r.result;
          items.push({ kind: 'sca', stateKey: key, fields: scaFields(p, c, r.result, r.evidence, previous[key]) });
        }
      }
      pending = now;
      return { snapshots: [{ kind: 'sca', items }], events: [] };
    },
  };
}
