import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { Fields } from '../../../common/finding.js';
import type { CheckContext } from '../check.js';
import { loadAccounts, NO_ACCOUNTS } from '../../host/accounts.js';
import { parseGroup, parsePasswd } from '../../host/linux/accounts.js';
import { parseCgroupUnit, parseStatusUids } from '../../host/linux/proc.js';
import { parseSs, parseSsProcesses } from '../../host/linux/ss.js';
import { listenersConfig } from './config.js';
import { exposureOf } from './exposure.js';
import { createListenersCheck } from './index.js';
import { listenerFields, listenerKey, mergeSockets } from './listener-items.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ctx: CheckContext = { log: logger('test', { check: 'listeners' }), stateDir: '/nonexistent', emit: async () => {} };
const defaults = listenersConfig.parse({});

describe('ss parser (recorded ss -Hlntup with sockets of every shape)', () => {
  const { sockets, malformed } = parseSs(fixture('ss-Hlntup.debian12.txt'));
  const byPort = (port: number) => sockets.find((s) => s.port === port)!;

  it('reads every line', () => {
    expect(malformed).toBe(0);
    expect(sockets).toHaveLength(fixture('ss-Hlntup.debian12.txt').trim().split('\n').length);
  });

  it('normalises every address form', () => {
    const shape = (port: number) => {
      const s = byPort(port);
      return [s.transport, s.ip, s.family, s.iface ?? '', s.dualStack, s.mapped].join(' ');
    };
    expect(shape(41001)).toBe('tcp 127.0.0.1 ipv4  false false');
    expect(shape(41002)).toBe('tcp 0.0.0.0 ipv4  false false');
    expect(shape(41003)).toBe('tcp :: ipv6  true false'); // `*`
    expect(shape(41004)).toBe('tcp ::1 ipv6  false false');
    expect(shape(41005)).toBe('tcp 127.0.0.1 ipv4  false true'); // [::ffff:127.0.0.1]
    expect(shape(41006)).toBe('tcp :: ipv6  false false'); // [::]
    expect(shape(41007)).toBe('udp 127.0.0.1 ipv4  false false');
    expect(shape(41008)).toBe('udp :: ipv6  true false');
    expect(shape(41009)).toBe('udp :: ipv6  false false');
    expect(shape(41011)).toBe('tcp fe80::fc:ff:fe00:1 ipv6 eth0 false false');
    expect(shape(41020)).toBe('tcp 0.0.0.0 ipv4 lo false false'); // 0.0.0.0%lo
    expect(shape(41021)).toBe('udp 127.0.0.53 ipv4 lo false false'); // 127.0.0.53%lo
  });

  it('reads every process holding a socket, and none where ss shows none', () => {
    expect(byPort(41022).processes.map((p) => p.name)).toEqual(['python3', 'python3']);
    expect(byPort(41022).processes.map((p) => p.pid)).toHaveLength(2);
    expect(byPort(41001).processes).toEqual([{ name: 'node', pid: expect.any(Number), fd: 19 }]);
    expect(byPort(2024).processes).toEqual([]);
    expect(parseSsProcesses('users:(("Web Content",pid=7,fd=3),("a\\"b",pid=8,fd=4))')).toEqual([
      { name: 'Web Content', pid: 7, fd: 3 }, { name: 'a\\"b', pid: 8, fd: 4 },
    ]);
  });

  it('reads the older iproute2 format, where * was IPv4 and IPv6 had no brackets', () => {
    const old = parseSs('tcp    LISTEN     0      128       *:22                    *:*\ntcp    LISTEN     0      128      :::22                   :::*\n');
    expect(old.sockets.map((s) => `${s.ip} ${s.family} ${s.port}`)).toEqual(['0.0.0.0 ipv4 22', ':: ipv6 22']);
  });

  it('counts lines it cannot read', () => {
    expect(parseSs('tcp LISTEN 0 128 nonsense 0.0.0.0:*\nicmp6 UNCONN 0 0 *:58 *:*\n').malformed).toBe(2);
  });
});

describe('exposure', () => {
  const { sockets } = parseSs(fixture('ss-Hlntup.debian12.txt'));
  const of = (port: number) => exposureOf(sockets.find((s) => s.port === port)!);

  it('is local-only on loopback addresses and the lo device, unknown elsewhere', () => {
    expect(of(41001)).toMatchObject({ scope: 'loopback', verdict: 'local-only' });
    expect(of(41004)).toMatchObject({ scope: 'loopback', verdict: 'local-only' });
    expect(of(41005)).toMatchObject({ scope: 'loopback', verdict: 'local-only' });
    expect(of(41020)).toMatchObject({ scope: 'loopback', verdict: 'local-only' });
    expect(of(41021)).toMatchObject({ scope: 'loopback', verdict: 'local-only' });
    expect(of(41002)).toMatchObject({ scope: 'all', verdict: 'unknown' });
    expect(of(41003)).toMatchObject({ scope: 'all', verdict: 'unknown', reason: expect.stringContaining('IPv4 and IPv6') });
    expect(of(41006)).toMatchObject({ scope: 'all', verdict: 'unknown', reason: expect.stringContaining('IPv6 only') });
    expect(of(41011)).toMatchObject({ scope: 'specific', verdict: 'unknown', reason: expect.stringContaining('eth0') });
    expect(exposureOf({ ip: '0.0.0.0', iface: 'eth0', family: 'ipv4', dualStack: false }).scope).toBe('specific');
    expect(exposureOf({ ip: '192.0.2.2', family: 'ipv4', dualStack: false }).scope).toBe('specific');
  });
});

describe('listener items', () => {
  it('merge SO_REUSEPORT duplicates and honour transports and scopes', () => {
    const text = 'tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=12,fd=6))\n'
      + 'tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=11,fd=6))\n'
      + 'udp UNCONN 0 0 127.0.0.1:323 0.0.0.0:* users:(("chronyd",pid=5,fd=5))\n';
    const { sockets } = parseSs(text);
    const merged = mergeSockets(sockets, defaults);
    expect(merged.map(listenerKey)).toEqual(['tcp:0.0.0.0:80', 'udp:127.0.0.1:323']);
    expect(merged[0]!.processes.map((p) => p.pid)).toEqual([12, 11]);
    expect(listenerFields(merged[0]!, undefined, NO_ACCOUNTS)['process.pid']).toBe(11);
    expect(mergeSockets(sockets, listenersConfig.parse({ transports: ['udp'] })).map(listenerKey)).toEqual(['udp:127.0.0.1:323']);
    expect(mergeSockets(sockets, listenersConfig.parse({ scopes: ['all'] })).map(listenerKey)).toEqual(['tcp:0.0.0.0:80']);
  });

  it('carry process, user and unit facts', () => {
    const [s] = parseSs('tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=700,fd=3))\n').sockets;
    const f = listenerFields(s!, { executable: '/usr/sbin/sshd', uid: 0, unit: 'ssh.service' }, { userName: (u) => (u === 0 ? 'root' : undefined), groupName: () => undefined });
    expect(f).toEqual({
      'server.ip': '0.0.0.0', 'server.port': 22, 'network.transport': 'tcp', 'network.type': 'ipv4',
      'process.pid': 700, 'process.name': 'sshd', 'process.executable': '/usr/sbin/sshd',
      'user.id': '0', 'user.name': 'root', 'service.name': 'ssh.service',
      'exposure.bind_scope': 'all', 'exposure.verdict': 'unknown', 'exposure.reason': 'listens on all IPv4 addresses (0.0.0.0); firewall not analysed yet',
    });
  });
});

describe('/proc and account parsers', () => {
  it('read the effective uid from a recorded /proc/<pid>/status', () => {
    expect(parseStatusUids(fixture('proc-status.txt'))).toEqual({ real: 0, effective: 0 });
    expect(parseStatusUids('Uid:\t1000\t0\t0\t0\n')).toEqual({ real: 1000, effective: 0 });
  });

  it('find the systemd unit in a cgroup file, and none outside one', () => {
    expect(parseCgroupUnit(fixture('proc-cgroup.txt'))).toBeUndefined(); // recorded here: no systemd
    expect(parseCgroupUnit('0::/system.slice/ssh.service\n')).toBe('ssh.service');
    expect(parseCgroupUnit('0::/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service\n')).toBe('syncthing.service');
    expect(parseCgroupUnit('0::/user.slice/user-1000.slice/session-3.scope\n')).toBeUndefined();
    expect(parseCgroupUnit('12:pids:/\n1:name=systemd:/system.slice/nginx.service\n0::/\n')).toBe('nginx.service');
  });

  it('map ids to names like getent does', () => {
    const passwd = parsePasswd(readFileSync('/etc/passwd', 'utf8'));
    const group = parseGroup(readFileSync('/etc/group', 'utf8'));
    for (const uid of [0, 1, 65534]) {
      if (passwd.has(uid)) expect(passwd.get(uid)).toBe(execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8' }).split(':')[0]);
    }
    expect(group.get(0)).toBe('root');
    expect(parsePasswd('# c\n+nis::::::\nroot:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nbad:x:y:0::/:/bin/sh\n')).toEqual(new Map([[0, 'root']]));
  });
});

/** TCP local addresses as ss -Htln prints them (column 4), raw. */
function oracleTcp(): Set<string> {
  const out = execFileSync('ss', ['-Htln'], { encoding: 'utf8', env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  return new Set(out.split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/)[3]!));
}

describe('listeners check on this machine (ss -Htln is the oracle)', () => {
  const servers: net.Server[] = [];
  const ports: Record<'loopback' | 'all', number> = { loopback: 0, all: 0 };

  beforeAll(async () => {
    for (const [scope, host] of [['loopback', '127.0.0.1'], ['all', '0.0.0.0']] as const) {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      servers.push(server);
      ports[scope] = (server.address() as net.AddressInfo).port;
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('reports our two listeners with scope, verdict, process, executable and user', async () => {
    const check = createListenersCheck();
    check.init({});
    const before = oracleTcp();
    const { snapshots } = await check.collect(ctx);
    const after = oracleTcp();
    expect(before.has(`127.0.0.1:${ports.loopback}`) && before.has(`0.0.0.0:${ports.all}`)).toBe(true);

    const items = snapshots[0]!.items;
    expect(snapshots[0]!.kind).toBe('listener');
    const find = (port: number) => items.find((i) => i.fields['server.port'] === port && i.fields['network.transport'] === 'tcp');
    const me = {
      'process.pid': process.pid,
      'process.executable': realpathSync(process.execPath),
      'user.id': String(os.userInfo().uid),
      'user.name': os.userInfo().username,
      'network.transport': 'tcp',
      'network.type': 'ipv4',
    };
    expect(find(ports.loopback)).toMatchObject({
      stateKey: `tcp:127.0.0.1:${ports.loopback}`,
      fields: { ...me, 'server.ip': '127.0.0.1', 'exposure.bind_scope': 'loopback', 'exposure.verdict': 'local-only' },
    });
    expect(find(ports.all)).toMatchObject({
      stateKey: `tcp:0.0.0.0:${ports.all}`,
      fields: { ...me, 'server.ip': '0.0.0.0', 'exposure.bind_scope': 'all', 'exposure.verdict': expect.stringMatching(/^(reachable|blocked|unknown)$/) },
    });
    expect(typeof find(ports.all)!.fields['process.name']).toBe('string');

    // Every TCP listener ss saw both before and after is ours, and we report nothing it never saw.
    const tcp = items.filter((i) => i.fields['network.transport'] === 'tcp');
    const ourPorts = new Set(tcp.map((i) => String(i.fields['server.port'])));
    const portOf = (addr: string) => addr.slice(addr.lastIndexOf(':') + 1);
    for (const addr of before) if (after.has(addr)) expect(ourPorts.has(portOf(addr)), addr).toBe(true);
    const seenPorts = new Set([...before, ...after].map(portOf));
    for (const p of ourPorts) expect(seenPorts.has(p), p).toBe(true);
  });

  it('emits UDP sockets too, with numbers where numbers belong', async () => {
    const check = createListenersCheck();
    check.init({ transports: ['udp'] });
    const { snapshots } = await check.collect(ctx);
    for (const item of snapshots[0]!.items) {
      const f: Fields = item.fields;
      expect(f['network.transport']).toBe('udp');
      expect(typeof f['server.port']).toBe('number');
      expect(String(f['server.ip'])).not.toMatch(/[[\]%*]/);
    }
  });

  it('loads the local accounts', async () => {
    expect((await loadAccounts()).userName(0)).toBe('root');
  });
});
