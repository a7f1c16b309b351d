/** IP address arithmetic for firewall matches: parse, prefix containment, address classes. Pure. */
import { isIP } from 'node:net';

export interface Addr { family: 4 | 6; value: bigint }

export function parseAddr(text: string): Addr | undefined {
  const s = text.trim();
  const kind = isIP(s);
  if (kind === 4) {
    return { family: 4, value: s.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  }
  if (kind !== 6) return undefined;
  let head = s;
  let tail4: bigint | undefined;
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    tail4 = parseAddr(dotted[1]!)!.value;
    head = `${s.slice(0, dotted.index)}:0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right === undefined ? [] : right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  if (tail4 !== undefined) value = (value & ~0xffffffffn) | tail4;
  return { family: 6, value };
}

/** `10.0.0.0/8`, `fe80::/10`, or a single address (a /32 or /128). */
export function parsePrefix(text: string): { addr: Addr; len: number } | undefined {
  const [a, l] = text.split('/');
  const addr = parseAddr(a ?? '');
  if (!addr) return undefined;
  const max = addr.family === 4 ? 32 : 128;
  const len = l === undefined ? max : Number(l);
  if (!Number.isInteger(len) || len < 0 || len > max) return undefined;
  return { addr, len };
}

export function inPrefix(ip: Addr, prefix: { addr: Addr; len: number }): boolean {
  if (ip.family !== prefix.addr.family) return false;
  const bits = BigInt(ip.family === 4 ? 32 : 128);
  const shift = bits - BigInt(prefix.len);
  return ip.value >> shift === prefix.addr.value >> shift;
}

/** Multicast or limited broadcast: traffic to such an address never reaches a unicast listener. */
export function isGroupAddress(text: string): boolean {
  const p = parsePrefix(text);
  if (!p) return false;
  if (p.addr.family === 4) {
    return inPrefix(p.addr, parsePrefix('224.0.0.0/4')!) || p.addr.value === 0xffffffffn;
  }
  return inPrefix(p.addr, parsePrefix('ff00::/8')!);
}

/** Every address (0.0.0.0/0, ::/0). */
export function isAnyPrefix(text: string): boolean {
  const p = parsePrefix(text);
  return p !== undefined && p.len === 0;
}
