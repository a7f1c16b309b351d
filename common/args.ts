/** Command-line parsing with errors that name the option and what to do. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CanhGacError } from './errors.js';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CanhGacError('USAGE', (e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), { hint: `usage: ${usage}` });
  }
}

/** "24h", "30m", "7d", "90s" → milliseconds. */
export function parseDuration(s: string, where: string): number {
  const m = /^(\d+)\s*(s|m|h|d|w)$/.exec(s.trim());
  if (!m) throw new CanhGacError('USAGE', `${JSON.stringify(s)} is not a duration`, { where, hint: 'use a number with s, m, h, d or w, e.g. 24h' });
  const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] as 's'];
  return Number(m[1]) * unit;
}
