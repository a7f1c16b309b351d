import { describe, expect, it } from 'vitest';
import { COMMANDS, COMMAND_ENV, commandPath, createRunner, runCommand, type CommandSpec } from './run.js';

const spec = (path: string, extra: Partial<CommandSpec> = {}): CommandSpec => ({ paths: [path], timeoutMs: 5_000, maxBytes: 1024 * 1024, ...extra });
const run = createRunner({
  env: spec('/usr/bin/env'),
  echo: spec('/bin/echo'),
  false: spec('/bin/false'),
  sleep: spec('/bin/sleep', { timeoutMs: 300 }),
  slow: spec('/bin/sleep', { timeoutMs: 300, argvTimeoutMs: new Map([['0.6', 3_000]]) }),
  yes: spec('/usr/bin/yes', { maxBytes: 64 * 1024 }),
  ls: spec('/bin/ls'),
  cat: spec('/bin/cat', { timeoutMs: 2_000 }),
  missing: { paths: ['/nonexistent/a', '/nonexistent/b'], timeoutMs: 1000, maxBytes: 1024 },
  fallback: { paths: ['/nonexistent/tool', '/bin/echo'], timeoutMs: 1000, maxBytes: 1024 },
});

describe('runCommand', () => {
  it('maps every id to absolute paths only', () => {
    for (const [id, s] of Object.entries(COMMANDS) as [string, CommandSpec][]) {
      // POSIX absolute, or a Windows drive path (C:\Windows\System32\reg.exe) for the Windows-only probes.
      for (const p of s.paths) expect(p.startsWith('/') || /^[A-Z]:\\/.test(p), `${id}: ${p}`).toBe(true);
    }
  });

  it('runs with a fixed C-locale environment and nothing of the agent\'s', async () => {
    process.env.CANHGAC_SECRET_FOR_TEST = 'leak';
    try {
      const { stdout, path } = await run('env', []);
      const env = Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(env).toEqual(COMMAND_ENV);
      expect(path).toBe('/usr/bin/env');
    } finally {
      delete process.env.CANHGAC_SECRET_FOR_TEST;
    }
  });

  it('passes arguments without a shell', async () => {
    const { stdout } = await run('echo', ['$(id)', ';', 'rm -rf /', '`x`']);
    expect(stdout).toBe('$(id) ; rm -rf / `x`\n');
  });

  it('gives the command an empty, closed stdin (powershell.exe waits for stdin EOF when it is a pipe left open)', async () => {
    // cat reads stdin to EOF: with the pipe left open it would run into the timeout.
    const started = Date.now();
    await expect(run('cat', [])).resolves.toMatchObject({ stdout: '' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('gives the argument lists the table names a longer timeout, and only those', async () => {
    await expect(run('slow', ['0.6'])).resolves.toMatchObject({ stdout: '' });
    await expect(run('slow', ['0.7'])).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_TIMEOUT', message: expect.stringContaining('within 300 ms') });
    // A caller may lower it, never raise it.
    await expect(run('slow', ['0.6'], { timeoutMs: 100 })).rejects.toMatchObject({ message: expect.stringContaining('within 100 ms') });
  });

  it('takes the first path that exists', async () => {
    expect((await run('fallback', ['ok'])).path).toBe('/bin/echo');
  });

  it('says what went wrong, by code', async () => {
    await expect(run('missing', [])).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_MISSING', message: expect.stringContaining('/nonexistent/a') });
    await expect(run('false', [])).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_FAILED', message: expect.stringContaining('exited with status 1') });
    await expect(run('ls', ['/nonexistent-dir'])).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_FAILED', message: expect.stringContaining('No such file') });
    await expect(run('sleep', ['5'])).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_TIMEOUT' });
    await expect(run('yes', [])).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_OUTPUT_TOO_LARGE' });
    await expect((run as (id: string, a: string[]) => Promise<unknown>)('bash', ['-c', 'id'])).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_UNKNOWN' });
    await expect((runCommand as (id: string, a: string[]) => Promise<unknown>)('constructor', [])).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_UNKNOWN' });
  });

  it('never lets a caller raise the timeout above the table', async () => {
    const started = Date.now();
    await expect(run('sleep', ['5'], { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'AGENT_HOST_COMMAND_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('runs the real table on this machine', async () => {
    expect(await commandPath('ss')).toMatch(/\/ss$/);
    expect(await commandPath('dpkg-query')).toBe('/usr/bin/dpkg-query');
    const { stdout } = await runCommand('dpkg-query', ['-W', '-f=${Package}\n', 'dpkg']);
    expect(stdout).toBe('dpkg\n');
  });
});
