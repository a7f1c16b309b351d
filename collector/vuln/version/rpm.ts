/**
 * RPM version order (rpmvercmp, and the epoch:version-release comparison built on it),
 * as `rpm.vercmp()` applies it in rpm 4.18.
 *
 * rpmvercmp walks both strings segment by segment:
 * - characters other than ASCII letters, digits, `~` and `^` only separate segments and are
 *   otherwise ignored (`1.0 == 1_0`);
 * - `~` sorts before everything, including the end of the string (`1.0~rc1 < 1.0`);
 * - `^` sorts after the end of the string but before any further segment
 *   (`1.0 < 1.0^git1 < 1.0.1`);
 * - a segment is a run of digits or a run of letters; a numeric segment beats an alphabetic
 *   one; numeric segments compare as numbers (leading zeros ignored, any length); alphabetic
 *   ones compare in ASCII order;
 * - when every segment compared equal, the string with something left over is newer.
 *
 * An EVR `[epoch:]version[-release]` compares epoch (absent = 0), then version, then release
 * (absent = empty, which is older than any release).
 */
import { VulnCodes, VulnError } from '../errors.js';
import type { Ordering } from './types.js';

export interface RpmEvr {
  epoch: string;
  version: string;
  release: string | undefined;
}

const PART = /^[A-Za-z0-9._+~^]+$/;

/** Why `evr` is not a well-formed RPM epoch:version-release, or undefined when it is. */
export function rpmVersionProblem(evr: string): string | undefined {
  if (evr.length === 0) return 'the version is empty';
  if (/\s/.test(evr)) return 'a version cannot contain spaces';
  let rest = evr;
  const colon = evr.indexOf(':');
  if (colon >= 0) {
    const epoch = evr.slice(0, colon);
    if (!/^[0-9]+$/.test(epoch)) return `the epoch "${epoch}" is not a number`;
    rest = evr.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  const version = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const release = hyphen >= 0 ? rest.slice(hyphen + 1) : undefined;
  if (version.length === 0) return 'the version part is empty';
  if (!PART.test(version)) return `the version "${version}" has a character other than letters, digits and . _ + ~ ^`;
  if (release !== undefined) {
    if (release.length === 0) return 'the release after the last "-" is empty';
    if (!PART.test(release)) return `the release "${release}" has a character other than letters, digits and . _ + ~ ^`;
  }
  return undefined;
}

export function isValidRpmVersion(evr: string): boolean {
  return rpmVersionProblem(evr) === undefined;
}

export function parseRpmEvr(evr: string): RpmEvr {
  const problem = rpmVersionProblem(evr);
  if (problem !== undefined) {
    throw new VulnError(VulnCodes.VERSION_INVALID, `"${evr}" is not a valid RPM version: ${problem}`, {
      hint: 'RPM versions look like [epoch:]version[-release], e.g. 1:3.0.7-25.el9_3',
    });
  }
  const colon = evr.indexOf(':');
  const epoch = colon >= 0 ? evr.slice(0, colon) : '0';
  const rest = colon >= 0 ? evr.slice(colon + 1) : evr;
  const hyphen = rest.lastIndexOf('-');
  return hyphen >= 0
    ? { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) }
    : { epoch, version: rest, release: undefined };
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

function isSeparator(c: string | undefined): boolean {
  return c !== undefined && !isDigit(c) && !isLetter(c) && c !== '~' && c !== '^';
}

function sign(n: number): Ordering {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** The segment comparison of rpmvercmp, on one version or release string. */
export function rpmvercmp(a: string, b: string): Ordering {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (isSeparator(a[i])) i++;
    while (isSeparator(b[j])) j++;
    const ca = a[i];
    const cb = b[j];

    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '^' || cb === '^') {
      if (ca === undefined) return -1;
      if (cb === undefined) return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === undefined || cb === undefined) break;

    const numeric = isDigit(ca);
    const inSegment = numeric ? isDigit : isLetter;
    const startA = i;
    const startB = j;
    while (inSegment(a[i])) i++;
    while (inSegment(b[j])) j++;
    // b has a segment of the other kind here: numbers are newer than letters.
    if (j === startB) return numeric ? 1 : -1;

    let segA = a.slice(startA, i);
    let segB = b.slice(startB, j);
    if (numeric) {
      segA = segA.replace(/^0+/, '');
      segB = segB.replace(/^0+/, '');
      if (segA.length !== segB.length) return segA.length < segB.length ? -1 : 1;
    }
    if (segA !== segB) return segA < segB ? -1 : 1;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i < a.length ? 1 : -1;
}

export function compareEvr(a: RpmEvr, b: RpmEvr): Ordering {
  return sign(
    rpmvercmp(a.epoch, b.epoch)
      || rpmvercmp(a.version, b.version)
      || rpmvercmp(a.release ?? '', b.release ?? ''),
  );
}

const parsed = new Map<string, RpmEvr>();

function parseCached(v: string): RpmEvr {
  let p = parsed.get(v);
  if (p === undefined) {
    p = parseRpmEvr(v);
    if (parsed.size >= 250_000) parsed.clear();
    parsed.set(v, p);
  }
  return p;
}

/** rpm order of two [epoch:]version[-release] strings. Throws on malformed input. */
export function compare(a: string, b: string): Ordering {
  return compareEvr(parseCached(a), parseCached(b));
}
