/**
 * Deterministic generators of tricky version pairs for the differential tests.
 * Half the pairs are independent, half are a small mutation of the first version, so
 * that many pairs agree on a long prefix and differ in exactly the interesting place.
 */
type Rand = () => number;

function pick<T>(r: Rand, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function chance(r: Rand, p: number): boolean {
  return r() < p;
}

const DIGIT_RUNS = ['0', '1', '2', '9', '10', '01', '001', '09', '010', '11', '99', '100', '0000', '20230101', '4294967296', '18446744073709551617'];
const LETTER_RUNS = ['a', 'b', 'z', 'A', 'Z', 'rc', 'p', 'pre', 'alpha', 'beta', 'dfsg', 'deb', 'u', 'git', 'bpo', 'ubuntu', 'el', 'fc'];

function digits(r: Rand): string {
  return pick(r, DIGIT_RUNS);
}

// ---------------------------------------------------------------- dpkg

const DEB_SEPS = ['.', '.', '.', '+', '~', '~'];
const DEB_REVISION_SHAPES = ['1', '2', '0', '1.1', '1+b1', '2+deb12u1', '2+deb12u10', '1~deb12u2', '0.2', '1ubuntu1', '1ubuntu0.22.04.1', '3~bpo11+1', '1~', '1.0~rc1', 'a', '0+'];

function debTokens(r: Rand, extraSeps: string[]): string {
  let s = digits(r);
  const n = Math.floor(r() * 5);
  for (let k = 0; k < n; k++) {
    const roll = r();
    if (roll < 0.45) s += pick(r, [...DEB_SEPS, ...extraSeps]) + digits(r);
    else if (roll < 0.75) s += pick(r, LETTER_RUNS) + (chance(r, 0.5) ? digits(r) : '');
    else if (roll < 0.9) s += pick(r, [...DEB_SEPS, ...extraSeps]) + pick(r, LETTER_RUNS);
    else s += pick(r, ['~', '+', '.', '~~', '+~', '.~']);
  }
  return s;
}

export function debVersion(r: Rand): string {
  const epoch = chance(r, 0.3) ? pick(r, ['0', '1', '2', '10', '01', '007']) + ':' : '';
  const hasRevision = chance(r, 0.7);
  const extra: string[] = [];
  if (epoch !== '') extra.push(':');
  if (hasRevision) extra.push('-');
  let v = epoch + debTokens(r, extra);
  if (hasRevision) v += '-' + (chance(r, 0.6) ? pick(r, DEB_REVISION_SHAPES) : debRevision(r));
  return v;
}

function debRevision(r: Rand): string {
  let s = chance(r, 0.8) ? digits(r) : pick(r, LETTER_RUNS);
  const n = Math.floor(r() * 3);
  for (let k = 0; k < n; k++) s += pick(r, ['.', '+', '~', '']) + (chance(r, 0.5) ? digits(r) : pick(r, LETTER_RUNS));
  return s;
}

function mutateDeb(r: Rand, v: string): string {
  const roll = r();
  if (roll < 0.12) return v + '~';
  if (roll < 0.2) return v + pick(r, ['.0', '+', 'a', '~rc1', '.1', '0']);
  if (roll < 0.28) return v.includes(':') ? v.slice(v.indexOf(':') + 1) : `0:${v}`;
  if (roll < 0.36) return v.replace(/[0-9]+/, (m) => (chance(r, 0.5) ? `0${m}` : String(Number(m) + 1)));
  if (roll < 0.44) {
    const h = v.lastIndexOf('-');
    return h > 0 ? v.slice(0, h) : `${v}-0`;
  }
  if (roll < 0.52) return v.replace(/[a-z]/, (m) => m.toUpperCase());
  if (roll < 0.6) return v.replace(/\./, '~');
  if (roll < 0.68) return v.replace(/\+/, '.');
  if (roll < 0.76) {
    const i = 1 + Math.floor(r() * Math.max(1, v.length - 1));
    return v.slice(0, i) + pick(r, ['~', '.', '+', 'a', '0', '1']) + v.slice(i);
  }
  if (roll < 0.84) return v.replace(/[0-9]+(?!.*[0-9])/, (m) => m + '0');
  return v;
}

/** `count` pairs of well-formed Debian versions (the caller filters with its validity check). */
export function debPairs(r: Rand, count: number, valid: (v: string) => boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  while (out.length < count) {
    const a = debVersion(r);
    const b = chance(r, 0.5) ? debVersion(r) : mutateDeb(r, a);
    if (valid(a) && valid(b)) out.push(chance(r, 0.5) ? [a, b] : [b, a]);
  }
  return out;
}

// ---------------------------------------------------------------- rpm

const RPM_SEPS = ['.', '.', '.', '_', '+', '~', '^'];
const RPM_RELEASES = ['1', '2', '1.el9', '25.el9_3', '3.el8_10.1', '1.fc17', '0.rc1.fc40', '1~rc1', '2^git1', '1.module+el8.9.0+1234+abcd', '10', '01', '1.1.al9'];

function rpmTokens(r: Rand): string {
  let s = chance(r, 0.85) ? digits(r) : pick(r, LETTER_RUNS);
  const n = Math.floor(r() * 5);
  for (let k = 0; k < n; k++) {
    const roll = r();
    if (roll < 0.45) s += pick(r, RPM_SEPS) + digits(r);
    else if (roll < 0.75) s += pick(r, LETTER_RUNS) + (chance(r, 0.5) ? digits(r) : '');
    else if (roll < 0.9) s += pick(r, RPM_SEPS) + pick(r, LETTER_RUNS);
    else s += pick(r, ['~', '^', '.', '~~', '^~', '~^', '._', '+']);
  }
  return s;
}

export function rpmVersion(r: Rand): string {
  const epoch = chance(r, 0.3) ? pick(r, ['0', '1', '2', '10', '01', '007']) + ':' : '';
  let v = epoch + rpmTokens(r);
  if (chance(r, 0.75)) v += '-' + (chance(r, 0.5) ? pick(r, RPM_RELEASES) : rpmTokens(r));
  return v;
}

function mutateRpm(r: Rand, v: string): string {
  const roll = r();
  if (roll < 0.1) return v + '~';
  if (roll < 0.2) return v + '^';
  if (roll < 0.28) return v + pick(r, ['.0', '^git1', 'a', '~rc1', '.1', '0', '_1', '.']);
  if (roll < 0.36) return v.includes(':') ? v.slice(v.indexOf(':') + 1) : `0:${v}`;
  if (roll < 0.44) return v.replace(/[0-9]+/, (m) => (chance(r, 0.5) ? `0${m}` : String(Number(m) + 1)));
  if (roll < 0.52) {
    const h = v.lastIndexOf('-');
    return h > 0 ? v.slice(0, h) : `${v}-1`;
  }
  if (roll < 0.6) return v.replace(/\./, pick(r, ['_', '+', '~', '^']));
  if (roll < 0.68) return v.replace(/[a-z]/, (m) => m.toUpperCase());
  if (roll < 0.78) {
    const i = 1 + Math.floor(r() * Math.max(1, v.length - 1));
    return v.slice(0, i) + pick(r, ['~', '^', '.', 'a', '0', '1']) + v.slice(i);
  }
  return v;
}

export function rpmPairs(r: Rand, count: number, valid: (v: string) => boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  while (out.length < count) {
    const a = rpmVersion(r);
    const b = chance(r, 0.5) ? rpmVersion(r) : mutateRpm(r, a);
    if (valid(a) && valid(b)) out.push(chance(r, 0.5) ? [a, b] : [b, a]);
  }
  return out;
}
