import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLsof } from './lsof.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('macOS lsof parser (genuine recordings, fixtures/README.md)', () => {
  it('reads every listener line, with escaped command names, IPv6 brackets and wildcards', () => {
    const { sockets, malformed } = parseLsof(fixture('lsof-nP-c15-LISTEN.macos.wilsonmar.txt'));
    expect(malformed).toBe(0);
    const shape = sockets.map((s) => `${s.transport} ${s.family} ${s.ip} ${s.port} ${s.processes.map((p) => `${p.name}/${p.pid}`).join(',')}`);
    expect(shape).toContain('tcp ipv4 127.0.0.1 27017 mongod/429');
    expect(shape).toContain('tcp ipv6 ::1 6258 2BUA8C4S2C.com./437');
    expect(shape).toContain('tcp ipv4 0.0.0.0 49387 Resilio Sync/563');
    expect(shape).toContain('tcp ipv4 10.0.0.2 2301 Skype/743');
    expect(shape).toContain('tcp ipv6 :: 56989 SketchMirrorHel/1912');
    expect(shape).toContain('tcp ipv6 :: 17500 Dropbox/21014');
    // Two nginx workers on one socket (same DEVICE) are one listener with two processes.
    expect(shape).toContain('tcp ipv4 0.0.0.0 8080 nginx/20244,nginx/20245');
    expect(sockets).toHaveLength(16);
    expect(sockets[0]!.processes[0]).toEqual({ name: 'mongod', pid: 429, fd: '6u', user: 'mac' });
  });

  it('reads the other recording (lsof -i4TCP -sTCP:LISTEN -n -P)', () => {
    const { sockets, malformed } = parseLsof(fixture('lsof-i4TCP-sTCP-LISTEN.macos.hukar.txt'));
    expect(malformed).toBe(0);
    expect(sockets.map((s) => `${s.ip}:${s.port}`)).toEqual(['127.0.0.1:44950', '127.0.0.1:44960', '127.0.0.1:5037', '127.0.0.1:27017']);
  });

  it('skips established connections and connected UDP sockets, counts what it cannot read', () => {
    const text = 'node 53376 u 36u IPv4 0x408e 0t0 TCP 127.0.0.1:55193->127.0.0.1:18800 (ESTABLISHED)\n'
      + 'mDNSRespo 456 root 12u IPv4 0x12347 0t0 UDP *:5353\n'
      + 'x 1 u 3u IPv4 0x1 0t0 UDP 10.0.0.2:5000->10.0.0.3:53\n'
      + 'garbage line\n';
    const r = parseLsof(text);
    expect(r.sockets.map((s) => `${s.transport} ${s.ip} ${s.port}`)).toEqual(['udp 0.0.0.0 5353']);
    expect(r.malformed).toBe(1);
  });
});
