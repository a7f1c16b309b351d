/**
 * The macOS application firewall (ALF): reading it (socketfilterfw, read-only flags), its `firewall`
 * item, and what it says about a listener's exposure. ALF filters by program, not by port: a
 * listener is reachable when the firewall is off, blocked when it blocks all incoming connections,
 * and otherwise depends on the program listening (its entry in `--listapps`, or the "automatically
 * allow signed software" settings). pf (the packet filter) is not read.
 */
import type { Observation } from '../check.js';
import type { CommandId, Runner } from '../../host/run.js';
import {
  parseAlfApps, parseAlfState, SOCKETFILTERFW_APPS_ARGS, SOCKETFILTERFW_STATE_ARGS, type AlfApp, type AlfState,
} from '../../host/darwin/socketfilterfw.js';

export interface DarwinFirewall {
  state: AlfState;
  /** `--listapps`; undefined when it could not be read (appsError says why). */
  apps?: AlfApp[];
  appsError?: string;
}

const message = (e: unknown) => (e as Error).message.split('\n')[0]!.slice(0, 300);

export async function readDarwinFirewall(run: Runner<CommandId>): Promise<DarwinFirewall> {
  const [state, apps] = await Promise.all([
    run('socketfilterfw', SOCKETFILTERFW_STATE_ARGS),
    run('socketfilterfw', SOCKETFILTERFW_APPS_ARGS).then((r) => parseAlfApps(r.stdout).apps, (e: unknown) => new Error(message(e))),
  ]);
  // Some macOS versions print the state lines (and errors) on stderr: read both.
  const parsed = parseAlfState(`${state.stdout}\n${state.stderr}`);
  return apps instanceof Error ? { state: parsed, appsError: apps.message } : { state: parsed, apps };
}

const MAX_SUMMARY = 50;

/** One item, `macos-alf:all`. default_inbound: deny under block-all, unknown otherwise (it depends on the program). */
export function darwinFirewallItems(fw: DarwinFirewall): Observation[] {
  const s = fw.state;
  const fields: Observation['fields'] = {
    'firewall.product': 'macos-alf',
    'firewall.profile': 'all',
    'firewall.enabled': s.enabled === true,
    'firewall.default_inbound': s.enabled === false ? 'allow' : s.enabled && blockAll(s) ? 'deny' : 'unknown',
  };
  if (s.blockAll !== undefined) fields['firewall.block_all'] = s.blockAll;
  if (s.stealth !== undefined) fields['firewall.stealth_mode'] = s.stealth;
  if (s.allowSignedBuiltIn !== undefined) fields['firewall.allow_signed_builtin'] = s.allowSignedBuiltIn;
  if (s.allowSignedDownloaded !== undefined) fields['firewall.allow_signed_downloaded'] = s.allowSignedDownloaded;
  if (fw.apps) {
    fields['firewall.rules.count'] = fw.apps.length;
    fields['firewall.rules.summary'] = fw.apps.slice(0, MAX_SUMMARY).map((a) => `${a.program}: ${a.action}`);
  }
  const problems = [
    ...(s.enabled === undefined ? ['the global state could not be read'] : []),
    ...s.errors,
    ...(s.unrecognized.length ? [`unrecognised lines: ${s.unrecognized.slice(0, 5).join(' | ')}`] : []),
    ...(fw.appsError !== undefined ? [`--listapps: ${fw.appsError}`] : []),
  ];
  if (problems.length) fields['error.message'] = problems.join('; ');
  return [{ kind: 'firewall', stateKey: 'macos-alf:all', fields }];
}

/** Block-all from its own line; without one, global state 2 (older macOS's block-all state). */
function blockAll(s: AlfState): boolean | undefined {
  return s.blockAll ?? (s.globalState === 2 ? true : undefined);
}

export interface DarwinListener { transport: 'tcp' | 'udp'; port: number; processName?: string | undefined }
export interface DarwinExposure { verdict: 'reachable' | 'blocked' | 'unknown'; reason: string }

/** lsof prints at most 9 characters of a command name unless told otherwise (+c). */
const LSOF_NAME_MAX = 9;

/** The name a process gets from a listed program: the path's last part, without `.app`. */
export function programName(program: string): string {
  return (program.split('/').filter(Boolean).pop() ?? program).replace(/\.app$/i, '');
}

/** Apps whose name is the listener's process name (lsof truncates long names: then a prefix match). */
export function matchingApps(apps: readonly AlfApp[], processName: string): AlfApp[] {
  return apps.filter((a) => {
    const n = programName(a.program);
    return n === processName || (processName.length >= LSOF_NAME_MAX && n.startsWith(processName));
  });
}

/** What block-all still lets in, per Apple: DHCP, Bonjour (mDNS) and IPsec. */
const ESSENTIAL_UDP = new Set([67, 68, 5353, 500, 4500]);

export function darwinExposure(fw: DarwinFirewall, l: DarwinListener): DarwinExposure {
  const s = fw.state;
  if (s.enabled === false) return { verdict: 'reachable', reason: 'application firewall off (socketfilterfw --getglobalstate)' };
  if (s.enabled === undefined) return { verdict: 'unknown', reason: `cannot read the application firewall state${s.errors.length ? `: ${s.errors[0]}` : ''}` };
  const all = blockAll(s);
  if (all === true) {
    if (l.transport === 'udp' && ESSENTIAL_UDP.has(l.port)) {
      return { verdict: 'unknown', reason: `application firewall blocks all incoming connections except essential services (DHCP, Bonjour, IPsec), which UDP port ${l.port} may be` };
    }
    const how = s.blockAll === undefined ? ` (global state ${s.globalState}, taken as block all; no block-all line)` : '';
    return { verdict: 'blocked', reason: `application firewall blocks all incoming connections${how}` };
  }
  if (all === undefined) return { verdict: 'unknown', reason: 'application firewall on; whether it blocks all incoming connections could not be read' };
  if (!l.processName) return { verdict: 'unknown', reason: 'application firewall on; it filters by program and the listening process is not known' };
  const name = l.processName;
  if (!fw.apps) return { verdict: 'unknown', reason: `application firewall on; its program list could not be read (${fw.appsError ?? 'no answer'})` };
  const hits = matchingApps(fw.apps, name);
  const actions = new Set(hits.map((a) => a.action));
  const truncated = name.length >= LSOF_NAME_MAX ? ` (lsof shows ${LSOF_NAME_MAX} characters of the name: matched as a prefix)` : '';
  if (hits.length && actions.size === 1 && !actions.has('unknown')) {
    const a = hits[0]!;
    return a.action === 'allow'
      ? { verdict: 'reachable', reason: `application firewall on; ${a.program} is allowed incoming connections (${a.as})${truncated}` }
      : { verdict: 'blocked', reason: `application firewall on; ${a.program} is set to block incoming connections (${a.as})${truncated}` };
  }
  if (hits.length) return { verdict: 'unknown', reason: `application firewall on; ${name} matches several listed programs with different settings: ${hits.map((a) => `${a.program} (${a.as || a.action})`).join(', ')}` };
  const signed = [...(s.allowSignedBuiltIn ? ['built-in'] : []), ...(s.allowSignedDownloaded ? ['downloaded'] : [])];
  if (signed.length) {
    return { verdict: 'reachable', reason: `application firewall on; ${name} is not in its program list, and it automatically allows signed ${signed.join(' and ')} software: assumed signed (the agent does not verify code signatures)` };
  }
  return { verdict: 'unknown', reason: `application firewall on; ${name} is not in its program list: macOS asks the user whether to allow it, and the answer is not known` };
}
