import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIptablesSave, splitArgs } from '../../host/linux/iptables.js';
import { parseFirewallCmdListAll } from '../../host/linux/firewalld.js';
import { parseNftJson } from '../../host/linux/nft.js';
import { parseUfwStatus } from '../../host/linux/ufw.js';
import { COMMANDS, type CommandId, type Runner } from '../../host/run.js';
import { firewallConfig } from './config.js';
import { evaluateExposure, NO_RULES_REASON, type ListenerAddress } from './exposure.js';
import { firewallItems } from './firewall-items.js';
import { createFirewallCheck } from './index.js';
import { readLinuxFirewall, type LinuxFirewall } from './state.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const missing = { status: 'missing' } as const;
const ok = <T>(data: T) => ({ status: 'ok', data }) as const;
const NONE: LinuxFirewall = { nft: missing, iptables: missing, ip6tables: missing, ufw: missing, firewalld: missing };

const v4 = (port: number, transport: 'tcp' | 'udp' = 'tcp'): ListenerAddress => ({ ip: '0.0.0.0', port, transport, family: 'ipv4', dualStack: false, scope: 'all' });
const v6only = (port: number): ListenerAddress => ({ ip: '::', port, transport: 'tcp', family: 'ipv6', dualStack: false, scope: 'all' });
const dual = (port: number): ListenerAddress => ({ ip: '::', port, transport: 'tcp', family: 'ipv6', dualStack: true, scope: 'all' });

describe('parsers (recorded with the real tools, fixtures/record.sh)', () => {
  it('nft -j: tables, base chains, rules, named sets', () => {
    const rs = parseNftJson(fixture('nft-inet-filter.json'));
    expect(rs.version).toBe('1.0.6');
    expect(rs.tables).toEqual([{ family: 'inet', name: 'filter' }, { family: 'ip', name: 'extra' }]);
    expect(rs.chains.find((c) => c.name === 'input')).toMatchObject({ type: 'filter', hook: 'input', prio: 0, policy: 'drop' });
    expect(rs.chains.find((c) => c.name === 'early')).toMatchObject({ prio: -10, policy: 'accept' });
    expect(rs.chains.find((c) => c.name === 'services')!.hook).toBeUndefined();
    expect(rs.sets.map((s) => `${s.name}:${JSON.stringify(s.elem)}`)).toEqual(['admin_ports:[9090,10000]', 'admin_nets:[{"prefix":{"addr":"10.10.0.0","len":16}}]']);
    expect(rs.rules.filter((r) => r.chain === 'input')).toHaveLength(9);
    expect(rs.rules.find((r) => r.comment === 'app servers')?.chain).toBe('services');
    expect(parseNftJson(fixture('nft-empty.json'))).toMatchObject({ tables: [], chains: [], rules: [], version: '1.0.6' });
    expect(() => parseNftJson('table inet filter {')).toThrow();
  });

  it('iptables-save: backend, policies, user chains, quoted comments', () => {
    const ufw = parseIptablesSave(fixture('iptables-save-ufw.txt'));
    expect(ufw.backend).toBe('nf_tables');
    expect(ufw.malformed).toBe(0);
    const filter = ufw.tables.get('filter')!;
    expect(filter.chains.get('INPUT')).toBe('DROP');
    expect(filter.chains.get('ufw-user-input')).toBe('-');
    expect(filter.rules.filter((r) => r.chain === 'ufw-user-input').map((r) => r.args.join(' '))).toContain('-p tcp -m tcp --dport 22 -j ACCEPT');
    const legacy = parseIptablesSave(fixture('iptables-legacy-save.txt'));
    expect(legacy.backend).toBe('legacy');
    expect(legacy.tables.get('filter')!.rules.find((r) => r.args.includes('--comment'))!.args).toContain('app servers');
    expect(splitArgs('-m comment --comment "a \\"b\\" c" -j ACCEPT')).toEqual(['-m', 'comment', '--comment', 'a "b" c', '-j', 'ACCEPT']);
    expect(parseIptablesSave('-A INPUT -j ACCEPT\n').malformed).toBe(1);
  });

  it('ufw status verbose: status, defaults, rule rows', () => {
    const u = parseUfwStatus(fixture('ufw-active.txt'));
    expect(u).toMatchObject({ active: true, logging: 'on (low)', defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' } });
    expect(u.rules).toHaveLength(9);
    expect(u.rules[1]).toEqual({ to: '5432/tcp', action: 'ALLOW IN', from: '10.20.0.0/16', v6: false });
    expect(u.rules[3]).toMatchObject({ to: '2222/tcp', action: 'LIMIT IN' });
    expect(u.rules[5]).toMatchObject({ to: '22/tcp (v6)', v6: true });
    expect(parseUfwStatus(fixture('ufw-inactive.txt'))).toEqual({ active: false, defaults: {}, rules: [] });
    expect(parseUfwStatus('To  Action  From\n--  ------  ----\n10000:10100/tcp on eth0           ALLOW IN    192.0.2.0/24\n').rules[0]).toMatchObject({ to: '10000:10100/tcp on eth0', action: 'ALLOW IN' });
  });
});

describe('exposure evaluator on a hand-written nftables ruleset', () => {
  const fw: LinuxFirewall = { ...NONE, nft: ok(parseNftJson(fixture('nft-inet-filter.json'))), iptables: ok(parseIptablesSave('')), ip6tables: ok(parseIptablesSave('')) };
  const ev = (l: ListenerAddress) => evaluateExposure(l, fw);

  it('accepts what a rule accepts, and says which rule', () => {
    expect(ev(v4(22))).toEqual({ verdict: 'reachable', reason: expect.stringContaining('tcp dport { 22, 80, 443 } accept') });
    expect(ev(v4(8080))).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('tcp dport 8080 accept') }); // the services chain returns
  });

  it('drops by rule, by a chain it jumps to, by an earlier base chain, and by the final reject', () => {
    expect(ev(v4(8081))).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('tcp dport 8081 drop') });
    expect(ev(v4(6379))).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('redis never from outside') });
    expect(ev(v4(12345))).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('reject') });
    expect(ev(v4(54, 'udp'))).toMatchObject({ verdict: 'blocked' });
    expect(ev(v4(53, 'udp'))).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('chain services') });
    expect(ev(v4(5353, 'udp'))).toMatchObject({ verdict: 'blocked' }); // accepted for the mDNS group address only
  });

  it('source restrictions: reachable from those sources only, with named sets resolved', () => {
    expect(ev(v4(5432))).toEqual({ verdict: 'reachable', reason: expect.stringMatching(/only when source address in 192\.0\.2\.0\/24 .*everything else dropped/) });
    expect(ev(v4(9090)).reason).toContain('source address in 10.10.0.0/16');
    expect(ev(v6only(5432))).toMatchObject({ verdict: 'blocked' }); // ip saddr never matches IPv6
  });

  it('a dual-stack socket is reachable when either family is, and the reason says which', () => {
    expect(ev(dual(6379))).toMatchObject({ verdict: 'blocked' });
    const r = ev(dual(5432));
    expect(r.verdict).toBe('reachable');
    expect(r.reason).toMatch(/^IPv4: /);
  });

  it('is unknown where the decision hangs on what it cannot evaluate (a rate limit)', () => {
    expect(ev(v4(2222))).toMatchObject({ verdict: 'unknown', reason: expect.stringContaining('limit rate 5/second') });
  });

  it('loopback is local-only whatever the firewall says; a specific address is matched against daddr', () => {
    expect(ev({ ...v4(22), ip: '127.0.0.1', scope: 'loopback' }).verdict).toBe('local-only');
    expect(ev({ ...v4(22), ip: '192.0.2.7', scope: 'specific' }).verdict).toBe('reachable');
  });
});

describe('exposure evaluator on ufw (iptables-nft: read through iptables-save, not the xt-opaque nft JSON)', () => {
  const fw: LinuxFirewall = {
    ...NONE,
    nft: ok(parseNftJson(fixture('nft-ufw.json'))),
    iptables: ok(parseIptablesSave(fixture('iptables-save-ufw.txt'))),
    ip6tables: ok(parseIptablesSave(fixture('ip6tables-save-ufw.txt'))),
    ufw: ok(parseUfwStatus(fixture('ufw-active.txt'))),
  };
  const ev = (l: ListenerAddress) => evaluateExposure(l, fw);

  it('follows ufw chains to the user rules and the default policy', () => {
    expect(ev(v4(22))).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT') });
    expect(ev(v6only(22)).reason).toContain('ip6tables filter');
    expect(ev(v4(23))).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('--dport 23 -j DROP') });
    expect(ev(v4(8089))).toEqual({ verdict: 'blocked', reason: 'dropped by policy drop of iptables filter chain INPUT' });
    expect(ev(v4(60005, 'udp')).verdict).toBe('reachable');
    expect(ev(v4(5432))).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('source address in 10.20.0.0/16') });
  });

  it('ufw limit: reachable, except for sources over the rate', () => {
    expect(ev(v4(2222))).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('except when') });
  });

  it('firewall items: ufw active with default deny, iptables on nf_tables, nftables holds only iptables-nft tables', () => {
    const items = firewallItems(fw, firewallConfig.parse({}));
    const by = (k: string) => items.find((i) => i.stateKey === k)!.fields;
    expect(by('ufw:all')).toMatchObject({ 'firewall.enabled': true, 'firewall.default_inbound': 'deny', 'firewall.rules.count': 9 });
    expect(by('iptables:ipv4')).toMatchObject({ 'firewall.enabled': true, 'firewall.default_inbound': 'deny', 'firewall.backend': 'nf_tables' });
    expect(by('ip6tables:ipv6')).toMatchObject({ 'firewall.enabled': true, 'firewall.default_inbound': 'deny' });
    expect(by('nftables:all')).toMatchObject({ 'firewall.enabled': false });
  });
});

describe('exposure evaluator on a real firewalld ruleset (public zone, nftables backend)', () => {
  const zone = parseFirewallCmdListAll(fixture('firewalld-list-all.txt'))!;
  const fw: LinuxFirewall = { ...NONE, nft: ok(parseNftJson(fixture('nft-firewalld.json'))), firewalld: ok({ running: fixture('firewalld-state.txt').trim() === 'running', zone }) };

  it('firewall-cmd --list-all: zone, target, services, ports, rich rules', () => {
    expect(zone).toEqual({
      zone: 'public', active: false, target: 'default', interfaces: [], sources: [],
      services: ['dhcpv6-client', 'ssh'], ports: ['8443/tcp'],
      richRules: ['rule family="ipv4" source address="192.0.2.0/24" port port="5432" protocol="tcp" accept'],
    });
    expect(parseFirewallCmdListAll('work (active)\n  target: DROP\n  interfaces: eth0 eth1\n  rich rules: \n')).toMatchObject({ zone: 'work', active: true, target: 'DROP', interfaces: ['eth0', 'eth1'], richRules: [] });
  });
  const ev = (l: ListenerAddress) => evaluateExposure(l, fw);

  it('follows the zone dispatch (goto) into the zone allow chain, and its final reject', () => {
    expect(ev(v4(22))).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('chain filter_IN_public_allow') });
    expect(ev(dual(8443))).toMatchObject({ verdict: 'reachable', reason: expect.stringMatching(/^IPv4: .*8443.*IPv6: .*8443/) });
    expect(ev(v4(12345))).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('reject') });
    expect(ev(v4(68, 'udp')).verdict).toBe('blocked');
  });

  it('a rich rule with a source address is reachable from that source only', () => {
    expect(ev(v4(5432)).reason).toMatch(/only when source address in 192\.0\.2\.0\/24 .*everything else dropped/);
    expect(ev(v6only(5432)).verdict).toBe('blocked');
  });

  it('firewall items: default deny even though every firewalld chain says policy accept', () => {
    const items = firewallItems(fw, firewallConfig.parse({}));
    expect(items.find((i) => i.stateKey === 'nftables:all')!.fields).toMatchObject({ 'firewall.enabled': true, 'firewall.default_inbound': 'deny' });
    expect(items.find((i) => i.stateKey === 'firewalld:public')!.fields).toMatchObject({
      'firewall.enabled': true, 'firewall.default_inbound': 'deny', 'firewall.profile': 'public', 'firewall.rules.count': 4,
      'firewall.rules.summary': ['target default', 'service dhcpv6-client', 'service ssh', 'port 8443/tcp', expect.stringContaining('192.0.2.0/24')],
    });
  });
});

describe('exposure evaluator on legacy iptables and on nothing', () => {
  it('legacy iptables with a user chain, multiport and a source restriction', () => {
    const fw: LinuxFirewall = { ...NONE, nft: ok(parseNftJson(fixture('nft-empty.json'))), iptables: ok(parseIptablesSave(fixture('iptables-legacy-save.txt'))) };
    expect(evaluateExposure(v4(443), fw)).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('--dports 80,443 -j ACCEPT') });
    expect(evaluateExposure(v4(3306), fw).reason).toContain('source address in 192.0.2.0/24');
    expect(evaluateExposure(v4(161, 'udp'), fw)).toMatchObject({ verdict: 'blocked', reason: expect.stringContaining('REJECT') });
    expect(evaluateExposure(v4(22), fw)).toMatchObject({ verdict: 'blocked', reason: 'dropped by policy drop of iptables filter chain INPUT' });
  });

  it('empty rulesets: reachable, "no host firewall rules"; unreadable: unknown', () => {
    const empty: LinuxFirewall = { ...NONE, nft: ok(parseNftJson(fixture('nft-empty.json'))), iptables: ok(parseIptablesSave('')), ip6tables: ok(parseIptablesSave('')) };
    expect(evaluateExposure(dual(8089), empty)).toEqual({ verdict: 'reachable', reason: `IPv4: ${NO_RULES_REASON}; IPv6: ${NO_RULES_REASON}` });
    expect(evaluateExposure(v4(8089), NONE)).toMatchObject({ verdict: 'unknown', reason: expect.stringContaining('neither nft nor iptables-save is installed') });
    expect(evaluateExposure(v4(8089), { ...empty, nft: { status: 'failed', error: 'Operation not permitted' } })).toMatchObject({ verdict: 'unknown', reason: expect.stringContaining('Operation not permitted') });
  });
});

// ---------------------------------------------------------------------------------------------------
// The oracle: real connections between two network namespaces, through the real kernel firewall.

const canNetns = process.getuid?.() === 0 && existsSync('/usr/sbin/nft') && existsSync('/usr/sbin/ip') && existsSync('/usr/bin/python3');
const pexec = promisify(execFile);
const SRV = `cgfw-srv-${process.pid}`;
const CLI = `cgfw-cli-${process.pid}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

function nsRunner(ns: string): Runner<CommandId> {
  return async (id, args) => {
    const path = COMMANDS[id].paths.find((p) => existsSync(p));
    if (!path) throw Object.assign(new Error(`${id} missing`), { code: 'AGENT_HOST_COMMAND_MISSING' });
    const t0 = performance.now();
    const { stdout, stderr } = await pexec('ip', ['netns', 'exec', ns, path, ...args], { env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    return { path, stdout, stderr, durationMs: performance.now() - t0 };
  };
}

describe.skipIf(!canNetns)('verdicts agree with real connections between two network namespaces', () => {
  const ports = [22, 5432, 6379, 8080, 8081, 9090, 12345];
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    ip('netns', 'add', SRV);
    ip('netns', 'add', CLI);
    ip('link', 'add', `v${process.pid}a`, 'netns', SRV, 'type', 'veth', 'peer', 'name', `v${process.pid}b`, 'netns', CLI);
    ip('-n', SRV, 'addr', 'add', '192.0.2.1/24', 'dev', `v${process.pid}a`);
    ip('-n', CLI, 'addr', 'add', '192.0.2.2/24', 'dev', `v${process.pid}b`);
    for (const ns of [SRV, CLI]) { ip('-n', ns, 'link', 'set', 'lo', 'up'); }
    ip('-n', SRV, 'link', 'set', `v${process.pid}a`, 'up');
    ip('-n', CLI, 'link', 'set', `v${process.pid}b`, 'up');
    execFileSync('ip', ['netns', 'exec', SRV, 'nft', '-f', new URL('./fixtures/ruleset.nft', import.meta.url).pathname]);
    const py = `import socket,time\nss=[]\nfor p in ${JSON.stringify(ports)}:\n  s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",p)); s.listen(); ss.append(s)\nprint("ready", flush=True)\ntime.sleep(120)\n`;
    server = spawn('ip', ['netns', 'exec', SRV, 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => server!.stdout!.once('data', () => resolve()));
  });

  afterAll(() => {
    server?.kill('SIGKILL');
    for (const ns of [SRV, CLI]) { try { ip('netns', 'del', ns); } catch { /* already gone */ } }
  });

  async function connects(port: number): Promise<boolean> {
    const py = `import socket,sys\ns=socket.socket(); s.settimeout(1.5)\ntry:\n  s.connect(("192.0.2.1",${port})); print("yes")\nexcept Exception: print("no")\n`;
    const { stdout } = await pexec('ip', ['netns', 'exec', CLI, 'python3', '-c', py]);
    return stdout.trim() === 'yes';
  }

  it('reachable exactly where a client connects, blocked exactly where it cannot', async () => {
    const fw = await readLinuxFirewall(nsRunner(SRV));
    expect(fw.nft.status).toBe('ok');
    for (const port of ports) {
      const verdict = evaluateExposure(v4(port), fw);
      const real = await connects(port);
      if (port === 9090) {
        // Allowed from 10.10.0.0/16 only; the client is 192.0.2.2, so it cannot connect, and the verdict says why.
        expect(real).toBe(false);
        expect(verdict).toMatchObject({ verdict: 'reachable', reason: expect.stringContaining('only when source address in 10.10.0.0/16') });
        continue;
      }
      expect(verdict.verdict, `port ${port}: ${verdict.reason}`).toBe(real ? 'reachable' : 'blocked');
    }
  });

  it('the firewall check reads the namespace: nftables enabled, default deny', async () => {
    const check = createFirewallCheck({ run: nsRunner(SRV), platform: 'linux' });
    check.init({});
    const { snapshots } = await check.collect({} as never);
    const nft = snapshots[0]!.items.find((i) => i.stateKey === 'nftables:all')!;
    expect(nft.fields).toMatchObject({ 'firewall.enabled': true, 'firewall.default_inbound': 'deny' });
  });
});

describe('firewall check', () => {
  it('rejects unknown options; refuses other platforms with a code', async () => {
    expect(() => createFirewallCheck().init({ product: ['ufw'] })).toThrow(/checks\.firewall/);
    const c = createFirewallCheck({ platform: 'freebsd' });
    c.init({});
    await expect(c.collect({} as never)).rejects.toMatchObject({ code: 'AGENT_CHECK_UNSUPPORTED_PLATFORM' });
  });
});

describe('listeners check with the firewall (the exposure join)', () => {
  it('gives every non-loopback listener the evaluator verdict and keeps loopback local-only', async () => {
    const ss = 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=700,fd=3))\n'
      + 'tcp LISTEN 0 128 0.0.0.0:6379 0.0.0.0:* users:(("redis-server",pid=701,fd=6))\n'
      + 'tcp LISTEN 0 128 127.0.0.1:8090 0.0.0.0:* users:(("node",pid=702,fd=20))\n';
    const { createListenersCheck } = await import('../listeners/index.js');
    const run: Runner<CommandId> = async () => ({ path: '/usr/bin/ss', stdout: ss, stderr: '', durationMs: 1 });
    const fw: LinuxFirewall = { ...NONE, nft: ok(parseNftJson(fixture('nft-inet-filter.json'))) };
    const check = createListenersCheck({ run, platform: 'linux', processFacts: async () => ({}), accounts: async () => ({ userName: () => undefined, groupName: () => undefined }), firewall: async () => fw });
    check.init({});
    const { snapshots } = await check.collect({ log: { warn: () => {} } } as never);
    const by = (port: number) => snapshots[0]!.items.find((i) => i.fields['server.port'] === port)!.fields;
    expect(by(22)).toMatchObject({ 'exposure.verdict': 'reachable', 'exposure.reason': expect.stringContaining('tcp dport { 22, 80, 443 } accept') });
    expect(by(6379)).toMatchObject({ 'exposure.verdict': 'blocked', 'exposure.reason': expect.stringContaining('redis never from outside') });
    expect(by(8090)).toMatchObject({ 'exposure.bind_scope': 'loopback', 'exposure.verdict': 'local-only' });
  });
});
