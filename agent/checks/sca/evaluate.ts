/**
 * Evaluating SCA probes and checks against a ScaHost. Each probe gives pass / fail / not_applicable with
 * one line of evidence that names what was looked at and what was found; a check combines its probes
 * with its condition. No I/O of its own: everything comes through the host interface.
 */
import { parseKeyValue } from '../../host/linux/keyvalue.js';
import { parsePam, type PamLine } from '../../host/linux/pam.js';
import type { Fact, ScaHost } from './host.js';
import type { Policy, Probe, ScaCheck } from './policy.js';

export type Result = 'pass' | 'fail' | 'not_applicable';
export interface ProbeResult { result: Result; evidence: string }

type Expect = {
  equals?: string | number | undefined; in?: (string | number)[] | undefined; not_in?: (string | number)[] | undefined;
  gte?: number | undefined; lte?: number | undefined; matches?: string | undefined; not_matches?: string | undefined;
  missing?: Result | undefined;
};

const same = (v: string, want: string | number) => (typeof want === 'number' ? Number(v) === want && v.trim() !== '' : v === want);

function describeExpect(x: Expect): string {
  const parts: string[] = [];
  if (x.equals !== undefined) parts.push(`= ${x.equals}`);
  if (x.in) parts.push(`one of ${x.in.join(', ')}`);
  if (x.not_in) parts.push(`none of ${x.not_in.join(', ')}`);
  if (x.gte !== undefined) parts.push(`≥ ${x.gte}`);
  if (x.lte !== undefined) parts.push(`≤ ${x.lte}`);
  if (x.matches) parts.push(`matching /${x.matches}/`);
  if (x.not_matches) parts.push(`not matching /${x.not_matches}/`);
  return parts.join(' and ');
}

/** Whether a value meets every given expectation. */
export function meets(value: string, x: Expect): boolean {
  if (x.equals !== undefined && !same(value, x.equals)) return false;
  if (x.in && !x.in.some((w) => same(value, w))) return false;
  if (x.not_in && x.not_in.some((w) => same(value, w))) return false;
  const n = Number(value);
  if (x.gte !== undefined && !(value.trim() !== '' && Number.isFinite(n) && n >= x.gte)) return false;
  if (x.lte !== undefined && !(value.trim() !== '' && Number.isFinite(n) && n <= x.lte)) return false;
  if (x.matches && !new RegExp(x.matches).test(value)) return false;
  if (x.not_matches && new RegExp(x.not_matches).test(value)) return false;
  return true;
}

/** `shown`: how the value was printed, when the probe compared a translation of it (`Never` read as 0). */
function valueResult(what: string, value: string | undefined, x: Expect, shown?: string): ProbeResult {
  const want = describeExpect(x);
  if (value === undefined) {
    const result = x.missing ?? 'fail';
    return { result, evidence: `${what}: not set${want ? ` (expected ${want})` : ''}` };
  }
  const ok = meets(value, x);
  const printed = value === '' ? '""' : shown !== undefined && shown !== value ? `${shown} (read as ${value})` : value;
  return { result: ok ? 'pass' : 'fail', evidence: `${what} = ${printed}${ok ? '' : ` (expected ${want})`}` };
}

const na = (why: string): ProbeResult => ({ result: 'not_applicable', evidence: why });
const octal = (m: number) => `0${m.toString(8).padStart(3, '0')}`;

async function unwrap<T>(f: Promise<Fact<T>>, onError: (why: string) => ProbeResult): Promise<{ value: T } | ProbeResult> {
  const r = await f;
  return r.ok ? { value: r.value } : onError(r.why);
}
const isResult = (x: unknown): x is ProbeResult => typeof x === 'object' && x !== null && 'result' in x;

async function fileProbe(host: ScaHost, path: string, p: { exists?: boolean | undefined; mode_max?: string | undefined; owner?: string | undefined; group?: string | undefined; contains?: string | undefined; not_contains?: string | undefined }, kind: 'file' | 'dir'): Promise<ProbeResult> {
  const st = await unwrap(host.stat(path), (w) => na(`${path}: cannot stat (${w})`));
  if (isResult(st)) return st;
  const facts = st.value;
  const wantExists = p.exists ?? true;
  if (!facts) {
    if (!wantExists) return { result: 'pass', evidence: `${path} does not exist` };
    // Without the file there is nothing to judge its mode or content by.
    return p.exists === true ? { result: 'fail', evidence: `${path} does not exist` } : na(`${path} does not exist`);
  }
  if (!wantExists) return { result: 'fail', evidence: `${path} exists` };
  const problems: string[] = [];
  const seen: string[] = [];
  if (kind === 'dir' && facts.type !== 'dir') problems.push(`is a ${facts.type}, not a directory`);
  if (p.mode_max) {
    const max = parseInt(p.mode_max, 8);
    seen.push(`mode ${octal(facts.mode)}`);
    if ((facts.mode & ~max & 0o7777) !== 0) problems.push(`mode ${octal(facts.mode)} allows more than ${octal(max)}`);
  }
  if (p.owner !== undefined || p.group !== undefined) {
    const acc = await host.accounts();
    const user = acc.userName(facts.uid) ?? String(facts.uid);
    const group = acc.groupName(facts.gid) ?? String(facts.gid);
    seen.push(`owner ${user}:${group}`);
    if (p.owner !== undefined && p.owner !== user && p.owner !== String(facts.uid)) problems.push(`owner ${user}, expected ${p.owner}`);
    if (p.group !== undefined && p.group !== group && p.group !== String(facts.gid)) problems.push(`group ${group}, expected ${p.group}`);
  }
  if (p.contains || p.not_contains) {
    const text = await unwrap(host.readFile(path), (w) => na(`${path}: cannot read (${w})`));
    if (isResult(text)) return text;
    const body = text.value ?? '';
    if (p.contains) {
      const m = new RegExp(p.contains, 'm').exec(body);
      if (m) seen.push(`has line "${m[0].trim().slice(0, 120)}"`);
      else problems.push(`no line matches /${p.contains}/`);
    }
    if (p.not_contains) {
      const m = new RegExp(p.not_contains, 'm').exec(body);
      if (m) problems.push(`has line "${m[0].trim().slice(0, 120)}"`);
    }
  }
  if (problems.length) return { result: 'fail', evidence: `${path}: ${problems.join('; ')}` };
  return { result: 'pass', evidence: `${path}${seen.length ? `: ${seen.join(', ')}` : ' exists'}` };
}

export async function evaluateProbe(p: Probe, host: ScaHost): Promise<ProbeResult> {
  if ('file' in p) return fileProbe(host, p.file, p, 'file');
  if ('directory' in p) return fileProbe(host, p.directory, p, 'dir');
  if ('sysctl' in p) {
    const v = await unwrap(host.sysctl(p.sysctl), (w) => na(`sysctl ${p.sysctl}: cannot read (${w})`));
    if (isResult(v)) return v;
    if (v.value === undefined && p.missing === undefined) return na(`sysctl ${p.sysctl} does not exist on this kernel`);
    return valueResult(`sysctl ${p.sysctl}`, v.value?.replace(/\s+/g, ' '), p);
  }
  if ('package' in p) {
    const v = await unwrap(host.packages(), (w) => na(`package database: ${w}`));
    if (isResult(v)) return v;
    const has = v.value.has(p.package);
    return { result: has === p.installed ? 'pass' : 'fail', evidence: `package ${p.package} is ${has ? '' : 'not '}installed` };
  }
  if ('service' in p) {
    const out: string[] = [];
    let result: Result = 'pass';
    for (const [what, want, good] of [['is-enabled', p.enabled, ['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated']], ['is-active', p.active, ['active', 'reloading', 'activating']]] as const) {
      if (want === undefined) continue;
      const v = await host.service(p.service, what);
      if (!v.ok) return na(v.why);
      const yes = (good as readonly string[]).includes(v.value);
      out.push(`systemctl ${what} ${p.service}: ${v.value}`);
      if (yes !== want) result = 'fail';
    }
    return { result, evidence: out.join('; ') };
  }
  if ('sshd' in p) {
    const v = await unwrap(host.sshd(), (w) => na(w));
    if (isResult(v)) return v;
    const values = v.value.get(p.sshd);
    return valueResult(`sshd -T: ${p.sshd}`, values?.join(' '), p);
  }
  if ('login_defs' in p) return keyValue(host, '/etc/login.defs', p.login_defs, p);
  if ('config' in p) return keyValue(host, p.config, p.key, p);
  if ('pam' in p) {
    const lines = await pamStack(host, p.pam, p.type);
    if (isResult(lines)) return lines;
    const hit = lines.find((l) => l.module === p.module);
    const where = `/etc/pam.d/${p.pam} (${p.type})`;
    if (!hit) return { result: p.present ? 'fail' : 'pass', evidence: `${where}: no ${p.module}` };
    if (!p.present) return { result: 'fail', evidence: `${where}: ${p.module} is used` };
    if (!p.arg) return { result: 'pass', evidence: `${where}: ${hit.type} ${hit.control} ${p.module}` };
    return valueResult(`${where}: ${p.module} ${p.arg}`, hit.args.get(p.arg), p);
  }
  if ('firewall' in p) {
    const v = await unwrap(host.firewallDefaultInbound(), (w) => na(w));
    if (isResult(v)) return v;
    if (v.value === 'unknown') return na('the firewall could not be evaluated (see the firewall check)');
    return { result: v.value === p.default_inbound ? 'pass' : 'fail', evidence: `host firewall default for new inbound connections: ${v.value}` };
  }
  if ('registry' in p) {
    const v = await unwrap(host.registry(p.registry, p.value), (w) => na(`reg query ${p.registry} /v ${p.value}: ${w}`));
    if (isResult(v)) return v;
    return valueResult(`${p.registry}\\${p.value}`, v.value, p);
  }
  if ('net_accounts' in p) {
    const v = await unwrap(host.netAccounts(), (w) => na(`net accounts: ${w}`));
    if (isResult(v)) return v;
    const { values, byPosition } = v.value;
    if (values.size === 0) return na('net accounts printed nothing the agent can read');
    const raw = values.get(p.net_accounts);
    const what = `net accounts: ${p.net_accounts}${byPosition ? ' (localized output, read by line order)' : ''}`;
    // "Never" / "None" mean no limit: 0 for thresholds and lengths, unlimited for ages. Localized words cannot be read.
    if (byPosition && raw !== undefined && !/^\d+$/.test(raw)) return na(`${what}: "${raw}" is not a number the agent can read`);
    const value = raw === undefined ? undefined : /^(never|none)$/i.test(raw) ? (/age/i.test(p.net_accounts) ? 'unlimited' : '0') : raw;
    return valueResult(what, value, p, raw);
  }
  if ('auditpol' in p) {
    const v = await unwrap(host.auditpol(), (w) => na(`auditpol: ${w}`));
    if (isResult(v)) return v;
    // By GUID when the policy gives one (names are in the display language), else by name.
    const want = p.guid?.toUpperCase();
    const row = want ? v.value.find((r) => r.guid === want) : v.value.find((r) => r.subcategory.toLowerCase() === p.auditpol.toLowerCase());
    if (!row) return na(`auditpol has no subcategory ${p.auditpol}${want ? ` ${want}` : ''}`);
    const what = `audit policy ${p.auditpol}${row.subcategory !== p.auditpol ? ` (${row.subcategory})` : ''}`;
    if (row.success === undefined || row.failure === undefined) return na(`${what}: "${row.inclusion}" is not a setting the agent can read (not English?)`);
    const ok = p.includes.every((w) => (w === 'Success' ? row.success : row.failure));
    return { result: ok ? 'pass' : 'fail', evidence: `${what}: ${row.inclusion}${ok ? '' : ` (expected ${p.includes.join(' and ')})`}` };
  }
  const v = await unwrap(host.localUserActive(p.local_user), (w) => na(`net user ${p.local_user}: ${w}`));
  if (isResult(v)) return v;
  if (v.value === undefined) return { result: p.active ? 'fail' : 'pass', evidence: `no local user ${p.local_user}` };
  if (!/^(yes|no)$/i.test(v.value)) return na(`local user ${p.local_user}: account active "${v.value}" is not Yes or No (net.exe output not in English?)`);
  const active = /^yes$/i.test(v.value);
  return { result: active === p.active ? 'pass' : 'fail', evidence: `local user ${p.local_user}: account active ${v.value}` };
}

async function keyValue(host: ScaHost, path: string, key: string, x: Expect): Promise<ProbeResult> {
  const text = await unwrap(host.readFile(path), (w) => na(`${path}: cannot read (${w})`));
  if (isResult(text)) return text;
  if (text.value === undefined) return x.missing === 'pass' ? { result: 'pass', evidence: `${path} does not exist` } : na(`${path} does not exist`);
  return valueResult(`${path}: ${key}`, parseKeyValue(text.value).get(key), x);
}

/** A PAM service's lines of one type, with `@include`s expanded (depth-limited). */
async function pamStack(host: ScaHost, service: string, type: string, depth = 0): Promise<PamLine[] | ProbeResult> {
  const path = `/etc/pam.d/${service}`;
  const text = await unwrap(host.readFile(path), (w) => na(`${path}: cannot read (${w})`));
  if (isResult(text)) return text;
  if (text.value === undefined) return na(`${path} does not exist`);
  const out: PamLine[] = [];
  for (const e of parsePam(text.value)) {
    if ('include' in e) {
      if (depth >= 8) continue;
      const sub = await pamStack(host, e.include, type, depth + 1);
      if (!isResult(sub)) out.push(...sub);
    } else if (e.type === type) {
      out.push(e);
    }
  }
  return out;
}

export interface CheckResult { result: Result; evidence: string }

/** all: every probe passes; any: one does; none: none does. Not applicable when a probe that could decide could not be evaluated. */
export function combine(condition: 'all' | 'any' | 'none', rs: readonly ProbeResult[]): Result {
  const pass = rs.filter((r) => r.result === 'pass').length;
  const fail = rs.filter((r) => r.result === 'fail').length;
  const na = rs.length - pass - fail;
  if (condition === 'all') return fail ? 'fail' : na ? 'not_applicable' : 'pass';
  if (condition === 'any') return pass ? 'pass' : na ? 'not_applicable' : 'fail';
  return pass ? 'fail' : na ? 'not_applicable' : 'pass';
}

const MAX_EVIDENCE = 2000;

export async function evaluateCheck(c: Pick<ScaCheck, 'condition' | 'rules'>, host: ScaHost): Promise<CheckResult> {
  const rs: ProbeResult[] = [];
  for (const r of c.rules) rs.push(await evaluateProbe(r, host));
  const evidence = [...new Set(rs.map((r) => r.evidence))].join('; ');
  return { result: combine(c.condition, rs), evidence: evidence.length > MAX_EVIDENCE ? `${evidence.slice(0, MAX_EVIDENCE - 1)}…` : evidence };
}

/** Whether a policy applies here: its platform, then its requirements (not applicable counts as no). */
export async function policyApplies(p: Policy, host: ScaHost, platform: NodeJS.Platform): Promise<{ applies: boolean; evidence: string }> {
  if (!p.policy.platforms.includes(platform as 'linux')) return { applies: false, evidence: `platform ${platform} is not one of ${p.policy.platforms.join(', ')}` };
  const r = await evaluateCheck(p.requirements, host);
  return { applies: r.result === 'pass', evidence: `${p.requirements.title}: ${r.evidence}` };
}
