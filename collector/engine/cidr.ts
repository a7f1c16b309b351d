/**
 * IPv4 and IPv6 addresses and CIDR ranges for the `|cidr` modifier. Addresses are bigints
 * (32 bits for IPv4, 128 for IPv6). An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is
 * treated as the IPv4 address, so `10.0.0.0/8` matches what a dual-stack socket reports.
 */

export interface IpAddr { v: 4 | 6; n: bigint }
export interface Cidr { v: 4 | 6; net: bigint; bits: number }

export function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const b = Number(p);
    if (b > 255 || (p.length > 1 && p.startsWith('0'))) return undefined;
    n = (n << 8n) | BigInt(b);
  }
  return n;
}

export function parseIPv6(input: string): bigint | undefined {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.length === 0 || s.split('::').length > 2) return undefined;

  // An IPv4 tail (::ffff:1.2.3.4) is rewritten as two 16-bit groups (::ffff:102:304).
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }

  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };

  let words: number[];
  const gap = s.indexOf('::');
  if (gap >= 0) {
    const head = groups(s.slice(0, gap));
    const rest = groups(s.slice(gap + 2));
    if (!head || !rest) return undefined;
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    words = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    const all = groups(s);
    if (!all) return undefined;
    words = all;
  }
  if (words.length !== 8) return undefined;
  let n = 0n;
  for (const w of words) n = (n << 16n) | BigInt(w);
  return n;
}

export function parseIp(s: string): IpAddr | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { v: 4, n: v4 };
  const v6 = parseIPv6(s);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v: 4, n: v6 & 0xffffffffn };
  return { v: 6, n: v6 };
}

/** `10.0.0.0/8`, `fe80::/10`; a bare address is a /32 or /128. Host bits must be zero. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const v4 = parseIPv4(addrText);
  const v = v4 !== undefined ? 4 : 6;
  const n = v4 ?? parseIPv6(addrText);
  if (n === undefined) return undefined;
  const width = v === 4 ? 32 : 128;
  let bits = width;
  if (slash >= 0) {
    const b = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return undefined;
    bits = Number(b);
    if (bits > width) return undefined;
  }
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  if ((n & hostMask) !== 0n) return undefined;
  return { v, net: n, bits };
}

export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  if (c.v !== ip.v) return false;
  const width = c.v === 4 ? 32 : 128;
  return ip.n >> BigInt(width - c.bits) === c.net >> BigInt(width - c.bits);
}
