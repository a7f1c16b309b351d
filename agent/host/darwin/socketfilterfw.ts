/**
 * Parsers for macOS's application firewall tool, `/usr/libexec/ApplicationFirewall/socketfilterfw`,
 * read-only flags only. Text in, data out, no I/O.
 *
 * State (`--getglobalstate --getblockall --getallowsigned --getstealthmode`, one line or two per flag,
 * in that order; each line is recognised by its words, so the order and any extra lines do not
 * matter). Wordings seen in recordings (fixtures/README.md), which changed across macOS versions:
 *   global state  `Firewall is enabled. (State = 1)`, `Firewall is disabled. (State = 0)`,
 *                 `Firewall is enabled. (State = 2)`, `Firewall is blocking all non-essential incoming connections. (State = 2)`
 *   block all     `Block all DISABLED!`, `Firewall has block all state set to disabled.`
 *   allow signed  `Automatically allow signed built-in software ENABLED`,
 *                 `Automatically allow built-in signed software ENABLED.`, `… downloaded signed software …`
 *   stealth       `Stealth mode enabled`, `Firewall stealth mode is on`,
 *                 `ALF: Error, kStealthEnableKey does not return the correct type.`
 *
 * Apps (`--listapps`), three layouts:
 *   `ALF: total number of apps = 3 ` / `1 :  /path ` / `     ( Allow incoming connections ) ` (older macOS)
 *   `Total number of apps = 9` / `1 : /usr/bin/python3` / `             (Allow incoming connections)` (macOS 26)
 *   `Total number of apps = 6` / `replicatord (state: 1)` (between them: a name, no path; state 1 allow, 4 block)
 */

export const SOCKETFILTERFW_PATH = '/usr/libexec/ApplicationFirewall/socketfilterfw';
/** The two argument lists the allowlist runs socketfilterfw with (reads only; every `--set…` flag changes the firewall). */
export const SOCKETFILTERFW_STATE_ARGS: readonly string[] = ['--getglobalstate', '--getblockall', '--getallowsigned', '--getstealthmode'];
export const SOCKETFILTERFW_APPS_ARGS: readonly string[] = ['--listapps'];

export interface AlfState {
  /** The `(State = N)` number: 0 off, 1 on, 2 on (block-all on older macOS; also seen with block all disabled). */
  globalState?: number;
  enabled?: boolean;
  blockAll?: boolean;
  /** "Automatically allow built-in signed software" (older macOS: "signed software", taken as both). */
  allowSignedBuiltIn?: boolean;
  allowSignedDownloaded?: boolean;
  stealth?: boolean;
  /** `ALF: Error, …` lines, as printed. */
  errors: string[];
  /** Non-empty lines no rule recognised (a new wording): reported, never guessed. */
  unrecognized: string[];
  /** The lines that decided each setting, for evidence. */
  lines: string[];
}

const onOff = (w: string): boolean => /^(enabled|on)$/i.test(w);

export function parseAlfState(text: string): AlfState {
  const out: AlfState = { errors: [], unrecognized: [], lines: [] };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    let known = true;
    const state = /\(State = (\d+)\)/i.exec(line);
    if (state) {
      out.globalState = Number(state[1]);
      out.enabled = out.globalState > 0;
      if (/blocking all non-essential incoming connections/i.test(line)) out.blockAll = true;
    } else if (/^Firewall is (enabled|disabled)\b/i.test(line)) {
      out.enabled = /enabled/i.test(line);
    } else if (/blocking all non-essential incoming connections/i.test(line)) {
      out.blockAll = true;
    } else if (/block all state set to (enabled|disabled)/i.test(line) || /^Block all (ENABLED|DISABLED)/i.test(line)) {
      out.blockAll = /\b(enabled)\b/i.test(line.replace(/^.*block all/i, ''));
    } else if (/^Automatically allow .*software (ENABLED|DISABLED)/i.test(line)) {
      const v = /ENABLED/i.test(line.replace(/^.*software/i, ''));
      if (/downloaded/i.test(line)) out.allowSignedDownloaded = v;
      else if (/built-in/i.test(line)) out.allowSignedBuiltIn = v;
      else { out.allowSignedBuiltIn = v; out.allowSignedDownloaded = v; }
    } else if (/stealth mode (is )?(enabled|disabled|on|off)\b/i.test(line)) {
      out.stealth = onOff(/stealth mode (?:is )?(\w+)/i.exec(line)![1]!);
    } else if (/^ALF: Error/i.test(line)) {
      out.errors.push(line);
    } else if (/^Log (mode|option)/i.test(line)) {
      // --getloggingmode / --getloggingopt lines (not asked for by the agent, present in some recordings).
    } else {
      known = false;
      out.unrecognized.push(line);
    }
    if (known) out.lines.push(line);
  }
  return out;
}

export type AlfAction = 'allow' | 'block' | 'unknown';

export interface AlfApp {
  /** A path (`/usr/bin/python3`, `/Applications/Foo.app`) or, in the name-only layout, a name (`Google Chrome`). */
  program: string;
  action: AlfAction;
  /** What the listing said: `Allow incoming connections`, `state: 4`. */
  as: string;
}

export interface AlfApps { count?: number; apps: AlfApp[]; malformed: number }

const ACTION = /^\(\s*(Allow|Block) incoming connections\s*\)$/i;

export function parseAlfApps(text: string): AlfApps {
  const out: AlfApps = { apps: [], malformed: 0 };
  let pending: string | undefined;
  const flush = () => {
    if (pending !== undefined) { out.apps.push({ program: pending, action: 'unknown', as: '' }); out.malformed++; }
    pending = undefined;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const total = /^(?:ALF:\s*)?total number of apps\s*=\s*(\d+)$/i.exec(line);
    if (total) { out.count = Number(total[1]); continue; }
    const act = ACTION.exec(line);
    if (act && pending !== undefined) {
      out.apps.push({ program: pending, action: act[1]!.toLowerCase() as AlfAction, as: `${act[1]} incoming connections` });
      pending = undefined;
      continue;
    }
    const numbered = /^\d+\s*:\s+(.+?)(?:\s+\(\s*(Allow|Block) incoming connections\s*\))?$/i.exec(line);
    if (numbered) {
      flush();
      if (numbered[2]) out.apps.push({ program: numbered[1]!, action: numbered[2].toLowerCase() as AlfAction, as: `${numbered[2]} incoming connections` });
      else pending = numbered[1]!;
      continue;
    }
    const named = /^(.+?)\s+\(state:\s*(\d+)\)$/i.exec(line);
    if (named) {
      flush();
      const code = named[2]!;
      // 1 allow, 4 block: as Kolide's launcher reads this layout; other codes are not known.
      const action: AlfAction = code === '1' ? 'allow' : code === '4' ? 'block' : 'unknown';
      out.apps.push({ program: named[1]!, action, as: `state: ${code}` });
      continue;
    }
    flush();
    out.malformed++;
  }
  flush();
  return out;
}
