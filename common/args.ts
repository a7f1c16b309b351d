/** Command-line parsing with errors that name the option and what to do. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CanhGacError } from './errors.js';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    // node's own wording ("TypeError [ERR_PARSE_ARGS_UNKNOWN_OPTION]: …") is trimmed to its first sentence.
    const msg = (e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '').replace(/\. To specify a positional argument[\s\S]*$/, '');
    throw new CanhGacError('USAGE', msg, { hint: `usage: ${usage}` });
  }
}

/** True when the person asked for help (`--help` or `-h` anywhere before a `--`). */
export function wantsHelp(argv: readonly (string | undefined)[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * The lines of a multi-line usage text that concern `words` (a command and maybe a subcommand), with the
 * lines that continue them (indented deeper); the whole text when none match.
 */
export function usageFor(usage: string, words: readonly (string | undefined)[]): string {
  const lines = usage.split('\n');
  const ws = words.filter((w): w is string => !!w && !w.startsWith('-'));
  for (let n = ws.length; n > 0; n--) {
    const prefix = ws.slice(0, n).join(' ');
    const out: string[] = [];
    let taking = false;
    for (const l of lines.slice(1)) {
      const body = l.trimStart();
      if (l.length - body.length > 10) { if (taking) out.push(l); continue; }
      taking = body === prefix || body.startsWith(`${prefix} `);
      if (taking) out.push(l);
    }
    if (out.length) return [lines[0]!, ...out].join('\n');
  }
  return usage;
}

/** A whole number ≥ min given to an option, e.g. --limit. */
export function parseCount(s: string | undefined, where: string, dflt: number, min = 1): number {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new CanhGacError('USAGE', `${JSON.stringify(s)} is not a whole number of at least ${min}`, { where, hint: `e.g. ${where} ${dflt}` });
  }
  return n;
}

/** "24h", "30m", "7d", "90s" → milliseconds. */
export function parseDuration(s: string, where: string): number {
  const m = /^(\d+)\s*(s|m|h|d|w)$/.exec(s.trim());
  if (!m) throw new CanhGacError('USAGE', `${JSON.stringify(s)} is not a duration`, { where, hint: 'use a number with s, m, h, d or w, e.g. 24h' });
  const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] as 's'];
  return Number(m[1]) * unit;
}
