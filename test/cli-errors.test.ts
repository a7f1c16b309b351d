/**
 * The mistakes a new administrator makes, through the real commands: each gets a clear message (what,
 * where, what to do), a non-zero exit, no stack trace, no secret, and nothing left half-made on disk.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT, CANHGAC, cleanup, run, start, startCollector, tempDir, type Service } from './helpers.js';

const STACK = /\n\s+at .+:\d+:\d+/;

function expectClear(r: { code: number; stderr: string }, code: number, re: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(re);
  expect(r.stderr).not.toMatch(STACK);
}

describe('canhgac --help on every command', () => {
  const cases: [string[], RegExp][] = [
    [['demo', '--help'], /^\s+demo \[--once\]/m],
    [['serve', '-h'], /^\s+serve \[--config FILE\]/m],
    [['token', '--help'], /^\s+token create/m],
    [['token', 'create', '--help'], /^\s+token create/m],
    [['alerts', 'list', '--help'], /^\s+alerts list/m],
    [['findings', 'list', '--help'], /^\s+findings list --kind KIND/m],
    [['agents', '--help'], /^\s+agents revoke/m],
    [['feed', 'import', '--help'], /^\s+feed import FILE/m],
    [['feed', 'trust', '--help'], /^\s+feed trust add/m],
  ];
  it.each(cases)('%j prints that command\'s usage and exits 0', (args, re) => {
    const r = run(CANHGAC, args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(re);
    // Only the asked command: `alerts list --help` does not list `serve`.
    if (args[0] !== 'serve') expect(r.stdout).not.toMatch(/^\s+serve /m);
  });

  it('canhgac-agent run --help and enroll -h print their usage and exit 0', () => {
    for (const [cmd, re] of [['run', /^\s+run \[--config FILE\]/m], ['enroll', /^\s+enroll --collector/m]] as const) {
      const r = run(AGENT, [cmd, '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(re);
    }
  });
});

describe('commands against the wrong data directory', () => {
  const dirs: string[] = [];
  afterAll(() => cleanup(...dirs));

  it('alerts/findings/agents list on an empty directory say there is no collector data and create nothing', () => {
    const d = tempDir('cli-empty');
    dirs.push(d);
    for (const args of [['alerts', 'list'], ['findings', 'list', '--kind', 'host'], ['agents', 'list']]) {
      const r = run(CANHGAC, [...args, '--data-dir', d]);
      expectClear(r, 1, /no collector data here yet \[COLLECTOR_DATA_DIR\]/);
      expect(r.stderr).toContain(d);
    }
    expect(readdirSync(d)).toEqual([]);
  });

  it('token create on a directory where no collector ran refuses, and makes no CA nor store there', () => {
    const parent = tempDir('cli-token');
    dirs.push(parent);
    const d = join(parent, 'typo');
    const r = run(CANHGAC, ['token', 'create', '--data-dir', d]);
    expectClear(r, 1, /no collector has run with this data directory.*\[COLLECTOR_DATA_DIR\]/);
    expect(r.stdout).not.toMatch(/cgt_/);
    expect(existsSync(d)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('a data directory of another user is named as such, not as "no data"', () => {
    const d = tempDir('cli-owner');
    dirs.push(d);
    writeFileSync(join(d, 'canhgac.db'), '');
    chmodSync(d, 0o700);
    // Run as nobody: the directory (root's, mode 0700) is closed to it.
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CANHGAC, 'alerts', 'list', '--data-dir', d], { encoding: 'utf8' });
    if (r.error) return; // no setpriv on this machine
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/may not read the data directory \(it belongs to uid 0, mode 700\) \[COLLECTOR_DATA_DIR\]/);
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe('option values', () => {
  it('--limit that is not a whole number is refused with the option named', () => {
    const d = tempDir('cli-limit');
    try {
      for (const bad of ['abc', '0', '1.5']) {
        const r = run(CANHGAC, ['alerts', 'list', '--data-dir', d, '--limit', bad]);
        expectClear(r, 2, new RegExp(`--limit: "${bad.replace('.', '\\.')}" is not a whole number of at least 1 \\[USAGE\\]`));
      }
    } finally { cleanup(d); }
  });

  it('an unknown option names itself and shows only that command\'s usage', () => {
    const r = run(CANHGAC, ['findings', 'list', '--kinds', 'host']);
    expectClear(r, 2, /Unknown option '--kinds' \[USAGE\]/);
    expect(r.stderr).toMatch(/findings list --kind KIND/);
    expect(r.stderr).not.toMatch(/To specify a positional argument/);
    expect(r.stderr).not.toMatch(/^\s+serve /m);
  });

  it('canhgac-agent enroll without --collector says which option is missing and prints no token', () => {
    const r = run(AGENT, ['enroll', '--token', 'cgt_secret_value_123', '--ca-fingerprint', `sha256:${'0'.repeat(64)}`]);
    expectClear(r, 2, /--collector is required \[USAGE\]/);
    expect(r.stderr).toMatch(/canhgac token create/);
    expect(r.stderr + r.stdout).not.toContain('cgt_secret_value_123');
  });
});

describe('canhgac serve mistakes', () => {
  const dirs: string[] = [];
  let first: Service | undefined;
  afterAll(async () => {
    await first?.stop();
    cleanup(...dirs);
  });

  it('--config naming a missing file is an error, not a silent start on the defaults', () => {
    const d = tempDir('cli-config');
    dirs.push(d);
    const r = run(CANHGAC, ['serve', '--data-dir', d, '--config', join(d, 'colector.yaml')], { timeoutMs: 20_000 });
    expectClear(r, 1, /colector\.yaml: cannot read the configuration file: ENOENT \[COLLECTOR_CONFIG_INVALID\]/);
  });

  it('a rules_dir that cannot be read stops serve and demo with the path and the key to fix', () => {
    const d = tempDir('cli-rules');
    dirs.push(d);
    writeFileSync(join(d, 'collector.yaml'), `listen: {port: 0}\nrules_dir: ${join(d, 'no-such-rules')}\n`);
    for (const args of [['serve'], ['demo', '--once']]) {
      const r = run(CANHGAC, [...args, '--data-dir', d], { timeoutMs: 20_000 });
      expectClear(r, 1, /no-such-rules: cannot read the rules folder: ENOENT \[COLLECTOR_RULE_READ\]/);
      expect(r.stderr).toMatch(/set rules_dir in collector\.yaml/);
    }
  });

  it('a tab in collector.yaml is refused with file:line', () => {
    const d = tempDir('cli-tab');
    dirs.push(d);
    writeFileSync(join(d, 'collector.yaml'), 'listen:\n  host: 127.0.0.1\n\tport: 7443\n');
    const r = run(CANHGAC, ['serve', '--data-dir', d], { timeoutMs: 20_000 });
    expectClear(r, 1, /collector\.yaml:3: not valid YAML: .*[Tt]ab.* \[COLLECTOR_CONFIG_INVALID\]/);
  });

  it('a second serve on the same port says the port is in use and exits 1', async () => {
    const d = tempDir('cli-twice');
    dirs.push(d);
    const c = await startCollector(d);
    first = c.svc;
    const port = c.port;
    const other = tempDir('cli-twice2');
    dirs.push(other);
    writeFileSync(join(other, 'collector.yaml'), `listen: {port: ${port}}\n`);
    const r = run(CANHGAC, ['serve', '--data-dir', other], { timeoutMs: 20_000 });
    expectClear(r, 1, new RegExp(`127\\.0\\.0\\.1:${port} is already in use .*\\[COLLECTOR_LISTEN\\]`));
    expect(r.stderr).toMatch(/listen\.port/);
  });
});

describe('canhgac demo stopped with Ctrl-C', () => {
  it('before its first summary says so and where the data is, exit 0', async () => {
    const d = tempDir('cli-demo-int');
    mkdirSync(d, { recursive: true });
    const svc = start(CANHGAC, ['demo', '--data-dir', d]);
    try {
      // The agent is enrolled and running once its outbox exists; then interrupt.
      const t0 = Date.now();
      while (!existsSync(join(d, 'agent', 'outbox.db')) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(join(d, 'agent', 'outbox.db'))).toBe(true);
      const code = await svc.stop('SIGINT');
      expect(code).toBe(0);
      expect(svc.lines.join('\n')).toMatch(/stopped before the first pass finished; what was stored so far stays in .*canhgac alerts list --data-dir/);
    } finally { cleanup(d); }
  });
});

describe('one collector per data directory', () => {
  it('a second serve on the same data directory (other port) is refused naming the first; a stale pid file is taken over', async () => {
    const d = tempDir('cli-busy');
    const other = tempDir('cli-busy-cfg');
    let svc: Service | undefined;
    try {
      const c = await startCollector(d);
      svc = c.svc;
      writeFileSync(join(other, 'collector.yaml'), 'listen: {port: 0}\n');
      const r = run(CANHGAC, ['serve', '--data-dir', d, '--config', join(other, 'collector.yaml')], { timeoutMs: 20_000 });
      expectClear(r, 1, new RegExp(`another collector \\(process ${svc.proc.pid}\\) is running with this data directory \\[COLLECTOR_DATA_DIR_BUSY\\]`));
      // The demo is a collector too.
      expectClear(run(CANHGAC, ['demo', '--once', '--data-dir', d], { timeoutMs: 20_000 }), 1, /\[COLLECTOR_DATA_DIR_BUSY\]/);
      expect(await svc.stop('SIGKILL')).not.toBe(0);
      svc = undefined;
      expect(existsSync(join(d, 'collector.pid'))).toBe(true); // left behind by the killed one
      const again = await startCollector(d);
      svc = again.svc;
      expect(again.port).toBeGreaterThan(0);
      expect(await svc.stop('SIGTERM')).toBe(0);
      svc = undefined;
      expect(existsSync(join(d, 'collector.pid'))).toBe(false); // released on a clean stop
    } finally {
      await svc?.stop('SIGKILL');
      cleanup(d, other);
    }
  });
});

describe('feed import of a path that is not a bundle file', () => {
  it('names the path and the reason, and leaves no data directory behind', () => {
    const parent = tempDir('cli-feed');
    try {
      const d = join(parent, 'data');
      for (const [file, why] of [[join(parent, 'nope.cgfeed'), 'ENOENT'], [parent, 'EISDIR']] as const) {
        const r = run(CANHGAC, ['feed', 'import', file, '--data-dir', d]);
        expectClear(r, 1, new RegExp(`${file.replace(/[.]/g, '\\.')}: cannot read the bundle file: ${why} \\[COLLECTOR_FEED_IMPORT\\]`));
      }
      expect(existsSync(d)).toBe(false);
    } finally { cleanup(parent); }
  });
});

describe('canhgac-agent and its data directory', () => {
  const fp = `sha256:${'0'.repeat(64)}`;

  it('an enrollment that fails leaves no data directory it created', () => {
    const parent = tempDir('cli-agent-dd');
    try {
      const d = join(parent, 'agent');
      const r = run(AGENT, ['enroll', '--collector', '127.0.0.1:1', '--token', 'cgt_not_a_real_token', '--ca-fingerprint', fp, '--data-dir', d]);
      expectClear(r, 1, /cannot reach the collector at 127\.0\.0\.1:1.*\[AGENT_ENROLL_UNREACHABLE\]/);
      expect(r.stderr).not.toContain('cgt_not_a_real_token');
      expect(existsSync(d)).toBe(false);
    } finally { cleanup(parent); }
  });

  it.skipIf(process.getuid?.() !== 0)('a data directory closed to this user is named before any enrollment is tried (no token spent) and by run', () => {
    const d = tempDir('cli-agent-owner');
    try {
      chmodSync(d, 0o700);
      const asNobody = (args: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, AGENT, ...args], { encoding: 'utf8' });
      const e = asNobody(['enroll', '--collector', '127.0.0.1:1', '--token', 'cgt_x', '--ca-fingerprint', fp, '--data-dir', d]);
      if (e.error) return; // no setpriv on this machine
      expect(e.status).toBe(1);
      // AGENT_DATA_DIR, not AGENT_ENROLL_UNREACHABLE: the collector was never asked.
      expect(e.stderr).toMatch(/this user cannot use the agent data directory \(it belongs to uid 0, mode 700\): EACCES \[AGENT_DATA_DIR\]/);
      const r = asNobody(['run', '--once', '--data-dir', d]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/\[AGENT_DATA_DIR\]/);
      expect(r.stderr).not.toMatch(/AGENT_NOT_ENROLLED/);
    } finally { cleanup(d); }
  });
});

describe('--fim-path that does not exist', () => {
  it('is refused by demo (no data dir made) and by canhgac-agent run, naming the path', () => {
    const parent = tempDir('cli-fimpath');
    try {
      const missing = join(parent, 'no-such-dir');
      const d = join(parent, 'data');
      expectClear(run(CANHGAC, ['demo', '--once', '--data-dir', d, '--fim-path', missing]), 2, new RegExp(`--fim-path: ${missing} does not exist \\[USAGE\\]`));
      expect(existsSync(d)).toBe(false);
      expectClear(run(AGENT, ['run', '--once', '--data-dir', d, '--fim-path', missing]), 2, new RegExp(`--fim-path: ${missing} does not exist \\[USAGE\\]`));
    } finally { cleanup(parent); }
  });
});

describe('a rules folder without one usable rule', () => {
  it('serve runs but says no alert will be raised, and a broken rule is skipped with file:line', async () => {
    const d = tempDir('cli-norules');
    const rules = join(d, 'rules');
    mkdirSync(rules);
    // Hand-written broken rule (an unclosed flow sequence on line 4): the loader must name that file and line.
    writeFileSync(join(rules, 'broken.yml'), 'title: broken\nid: 5c1b0a56-9a55-4d5e-9a1b-000000000001\ndetection:\n  sel: [a\n');
    writeFileSync(join(d, 'collector.yaml'), `listen: {port: 0}\nrules_dir: ${rules}\n`);
    const svc = start(CANHGAC, ['serve', '--data-dir', d]);
    try {
      await svc.waitFor(/collector listening on/);
      await svc.waitFor(/^rule skipped: .*broken\.yml:\d+: YAML: .*\[COLLECTOR_RULE_YAML\]/);
      await svc.waitFor(new RegExp(`^no usable detection rule in ${rules}: no alert will be raised`));
      expect(await svc.stop('SIGTERM')).toBe(0);
    } finally {
      await svc.stop('SIGKILL');
      cleanup(d);
    }
  });
});

describe('canhgac-agent run --once against a port where nothing listens', () => {
  it('gives up after --wait with AGENT_DELIVERY_TIMEOUT, saying the findings stay in the outbox', async () => {
    const d = tempDir('cli-once');
    const agentDir = join(d, 'agent');
    let svc: Service | undefined;
    try {
      // A real enrollment first (the agent needs an identity), then the collector goes away.
      const c = await startCollector(d);
      svc = c.svc;
      const tok = run(CANHGAC, ['token', 'create', '--data-dir', d, '--json']);
      const token = (JSON.parse(tok.stdout) as { token: string }).token;
      expect(run(AGENT, ['enroll', '--collector', `127.0.0.1:${c.port}`, '--token', token, '--ca-fingerprint', c.fingerprint, '--data-dir', agentDir]).code).toBe(0);
      await svc.stop('SIGTERM');
      svc = undefined;
      writeFileSync(join(agentDir, 'agent.yaml'), 'checks:\n  packages: {enabled: "off"}\n  sca: {enabled: "off"}\n  fim: {enabled: "off"}\n');
      const r = run(AGENT, ['run', '--once', '--wait', '2s', '--data-dir', agentDir, '--collector', `127.0.0.1:${c.port}`], { timeoutMs: 60_000 });
      expectClear(r, 1, new RegExp(`--once: 127\\.0\\.0\\.1:${c.port} did not acknowledge the findings within 2 s; \\d+ findings stay in the outbox .*\\[AGENT_DELIVERY_TIMEOUT\\]`));
      expect(existsSync(join(agentDir, 'outbox.db'))).toBe(true);
      expectClear(run(AGENT, ['run', '--wait', '2s', '--data-dir', agentDir]), 2, /--wait: only applies with --once \[USAGE\]/);
    } finally {
      await svc?.stop('SIGKILL');
      cleanup(d);
    }
  });
});

describe('demo --store / --es-url / --os-url values', () => {
  it.each([
    [['--store', 'elastic'], /--store: "elastic" is not one of sqlite, elasticsearch, opensearch \[USAGE\]/],
    [['--store', 'opensearch'], /--os-url: --store opensearch needs --os-url URL \[USAGE\]/],
    [['--es-url', '127.0.0.1:9200'], /--es-url: "127\.0\.0\.1:9200" is not an http\(s\) URL \[USAGE\]/],
  ])('%j is a usage error naming the option', (args, re) => {
    const d = tempDir('cli-store-opt');
    try {
      expectClear(run(CANHGAC, ['demo', '--once', '--data-dir', d, ...args]), 2, re);
    } finally { cleanup(d); }
  });
});

describe('canhgac demo --once stopped with Ctrl-C', () => {
  // Once the demo holds its data directory (collector.pid), while it starts; and later, during the agent's pass.
  it.each(['collector.pid', 'agent/outbox.db'])('once %s exists: closes cleanly (no collector.pid left), says so, exit 130', async (marker) => {
    const d = tempDir('cli-demo-once-int');
    const svc = start(CANHGAC, ['demo', '--once', '--data-dir', d]);
    try {
      const t0 = Date.now();
      while (!existsSync(join(d, marker)) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
      expect(await svc.stop('SIGINT')).toBe(130);
      expect(svc.lines.join('\n')).toMatch(/stopped before the first pass finished/);
      expect(svc.lines.join('\n')).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(existsSync(join(d, 'collector.pid'))).toBe(false);
    } finally { cleanup(d); }
  });
});
