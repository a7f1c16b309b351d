/**
 * Debian version order, as deb-version(7) defines it and `dpkg --compare-versions` applies it.
 *
 *   [epoch:]upstream_version[-debian_revision]
 *
 * - epoch: unsigned integer, compared numerically; absent means 0.
 * - upstream_version and debian_revision are compared the same way: alternately a run of
 *   non-digits and a run of digits, left to right. Non-digit runs compare character by
 *   character where `~` sorts before everything (even the end of the run), then the end
 *   of the run, then letters (ASCII order), then every other character (ASCII order).
 *   Digit runs compare as numbers (so `01 == 1`, and any length works).
 * - An absent revision is the empty string (`1.0 < 1.0-1`, `1.0 == 1.0-0`).
 *
 * Written here rather than taken from npm: `deb-version-compare` gets cases of this wrong
 * (see docs/vulnerability-data.md); the test suite checks this file against dpkg itself.
 */
import { VulnCodes, VulnError } from '../errors.js';
import type { Ordering } from './types.js';

export interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const MAX_EPOCH = 2 ** 31 - 1;
const UPSTREAM_CHARS = /^[A-Za-z0-9.+~:-]*$/;
const REVISION_CHARS = /^[A-Za-z0-9.+~]*$/;

/** Why `v` is not a well-formed Debian version, or undefined when it is. */
export function dpkgVersionProblem(v: string): string | undefined {
  if (v.length === 0) return 'the version is empty';
  if (/\s/.test(v)) return 'a version cannot contain spaces';
  let rest = v;
  const colon = v.indexOf(':');
  if (colon >= 0) {
    const epoch = v.slice(0, colon);
    if (epoch.length === 0) return 'the epoch before ":" is empty';
    if (!/^[0-9]+$/.test(epoch)) return `the epoch "${epoch}" is not a number`;
    if (Number(epoch) > MAX_EPOCH) return `the epoch "${epoch}" is too big`;
    rest = v.slice(colon + 1);
    if (rest.length === 0) return 'nothing follows the epoch';
  }
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const revision = hyphen >= 0 ? rest.slice(hyphen + 1) : '';
  if (hyphen >= 0 && revision.length === 0) return 'the revision after the last "-" is empty';
  if (upstream.length === 0) return 'the upstream version is empty';
  if (!/^[0-9]/.test(upstream)) return `the upstream version "${upstream}" does not start with a digit`;
  if (!UPSTREAM_CHARS.test(upstream)) return `the upstream version "${upstream}" has a character other than letters, digits and . + ~ - :`;
  if (!REVISION_CHARS.test(revision)) return `the revision "${revision}" has a character other than letters, digits and . + ~`;
  return undefined;
}

export function isValidDpkgVersion(v: string): boolean {
  return dpkgVersionProblem(v) === undefined;
}

/** Splits a version into its parts; throws COLLECTOR_VERSION_INVALID when it is malformed. */
export function parseDpkgVersion(v: string): DebVersion {
  const problem = dpkgVersionProblem(v);
  if (problem !== undefined) {
    throw new VulnError(VulnCodes.VERSION_INVALID, `"${v}" is not a valid Debian version: ${problem}`, {
      hint: 'Debian versions look like [epoch:]upstream[-revision], e.g. 1:9.2p1-2+deb12u3',
    });
  }
  const colon = v.indexOf(':');
  const epoch = colon >= 0 ? Number(v.slice(0, colon)) : 0;
  const rest = colon >= 0 ? v.slice(colon + 1) : v;
  const hyphen = rest.lastIndexOf('-');
  return hyphen >= 0
    ? { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) }
    : { epoch, upstream: rest, revision: '' };
}

const CODE_0 = 48;
const CODE_9 = 57;
const TILDE = 126;

function isDigitCode(c: number): boolean {
  return c >= CODE_0 && c <= CODE_9;
}

function isLetterCode(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Weight of one character inside a non-digit run; `NaN` (past the end of the string) and
 * a digit (start of the next run) both count as "end of run".
 */
function weight(c: number): number {
  if (Number.isNaN(c) || isDigitCode(c)) return 0;
  if (c === TILDE) return -1;
  if (isLetterCode(c)) return c;
  return c + 256;
}

/** Compares an upstream version or a revision (the part-wise order of deb-version(7)). */
export function comparePart(a: string, b: string): Ordering {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit run, character by character.
    while ((i < a.length && !isDigitCode(a.charCodeAt(i))) || (j < b.length && !isDigitCode(b.charCodeAt(j)))) {
      const wa = weight(i < a.length ? a.charCodeAt(i) : NaN);
      const wb = weight(j < b.length ? b.charCodeAt(j) : NaN);
      if (wa !== wb) return wa < wb ? -1 : 1;
      if (i < a.length && !isDigitCode(a.charCodeAt(i))) i++;
      if (j < b.length && !isDigitCode(b.charCodeAt(j))) j++;
    }
    // Digit run, as a number of any length: skip leading zeros, then longer wins, then lexical.
    while (i < a.length && a.charCodeAt(i) === CODE_0) i++;
    while (j < b.length && b.charCodeAt(j) === CODE_0) j++;
    const startA = i;
    const startB = j;
    while (i < a.length && isDigitCode(a.charCodeAt(i))) i++;
    while (j < b.length && isDigitCode(b.charCodeAt(j))) j++;
    const lenA = i - startA;
    const lenB = j - startB;
    if (lenA !== lenB) return lenA < lenB ? -1 : 1;
    for (let k = 0; k < lenA; k++) {
      const da = a.charCodeAt(startA + k);
      const db = b.charCodeAt(startB + k);
      if (da !== db) return da < db ? -1 : 1;
    }
  }
  return 0;
}

export function compareParsed(a: DebVersion, b: DebVersion): Ordering {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return comparePart(a.upstream, b.upstream) || comparePart(a.revision, b.revision);
}

// Matching compares the same few thousand strings over and over: keep them parsed.
const parsed = new Map<string, DebVersion>();

function parseCached(v: string): DebVersion {
  let p = parsed.get(v);
  if (p === undefined) {
    p = parseDpkgVersion(v);
    if (parsed.size >= 250_000) parsed.clear();
    parsed.set(v, p);
  }
  return p;
}

/** dpkg order of two versions: -1 when a < b, 0 when equal, 1 when a > b. Throws on malformed input. */
export function compare(a: string, b: string): Ordering {
  if (a === b) {
    parseCached(a);
    return 0;
  }
  return compareParsed(parseCached(a), parseCached(b));
}
