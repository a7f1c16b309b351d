/**
 * Typos in collector.yaml / agent.yaml: every refusal names the file and the line of the mistake, through
 * the function the commands use and through the real agent command.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlConfig } from '../common/config.js';
import { isCanhGacError } from '../common/errors.js';
import { collectorConfigSchema } from '../collector/config.js';
import { AGENT, CANHGAC, cleanup, run, tempDir } from './helpers.js';

function refusal(text: string): { where: string; message: string; hint: string } {
  try {
    parseYamlConfig(text, 'collector.yaml', collectorConfigSchema, 'COLLECTOR_CONFIG_INVALID');
  } catch (e) {
    if (!isCanhGacError(e, 'COLLECTOR_CONFIG_INVALID')) throw e;
    return { where: e.where ?? '', message: e.message, hint: e.hint ?? '' };
  }
  throw new Error('accepted');
}

describe('collector.yaml mistakes carry file:line', () => {
  it('a tab used for indentation: the line of the tab, and a hint about spaces', () => {
    const r = refusal('listen:\n  host: 127.0.0.1\n\tport: 7443\n');
    expect(r.where).toBe('collector.yaml:3');
    expect(r.hint).toMatch(/spaces/);
  });

  it('an unclosed flow sequence: not line 1', () => {
    const r = refusal('# comment\nserver_names: [a.example\nlisten:\n  port: 7443\n');
    expect(r.message).toMatch(/^not valid YAML/);
    expect(r.where).not.toBe('collector.yaml:1');
  });

  it('an unknown key (typo) and a wrong type name their key and line', () => {
    expect(refusal('listen:\n  host: 127.0.0.1\n  prot: 7443\n')).toMatchObject({ where: 'collector.yaml:3', message: expect.stringMatching(/prot/) });
    expect(refusal('retention:\n  alerts_days: 400\n  findings_days: "ninety"\n')).toMatchObject({ where: 'collector.yaml:3', message: expect.stringMatching(/^retention\.findings_days:/) });
  });

  it('valid YAML is accepted (the check can pass)', () => {
    expect(parseYamlConfig('listen:\n  port: 7443\n', 'collector.yaml', collectorConfigSchema).listen.port).toBe(7443);
  });
});

describe('agent.yaml in the data directory', () => {
  it('canhgac-agent run --data-dir reads its agent.yaml and refuses a typo with file:line, exit 1', () => {
    const d = tempDir('cli-agentyaml');
    try {
      writeFileSync(join(d, 'agent.yaml'), 'transport:\n  window: 4\n  heartbeat: 30\n');
      const r = run(AGENT, ['run', '--once', '--data-dir', d], { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${join(d, 'agent.yaml')}:3: transport: Unrecognized key: "heartbeat" [AGENT_CONFIG_INVALID]`);
      expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    } finally { cleanup(d); }
  });
});

describe('the store section of collector.yaml', () => {
  it('serve names the file and line of a store mistake and never prints the password', () => {
    const d = tempDir('cli-storecfg');
    try {
      const cases: [string, number, RegExp][] = [
        ['listen: {port: 0}\nstore:\n  type: elasticsearch\n  nodes: [http://127.0.0.1:1]\n  auth: {type: basic, username: u, password: S3cretPassw0rd}\n  fo: 1\n', 6, /Unrecognized key: "fo"/],
        ['listen: {port: 0}\nstore:\n  type: elastic\n', 3, /store\.type: invalid store configuration/],
      ];
      for (const [yaml, line, re] of cases) {
        writeFileSync(join(d, 'collector.yaml'), yaml);
        const r = run(CANHGAC, ['serve', '--data-dir', d], { timeoutMs: 20_000 });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`${join(d, 'collector.yaml')}:${line}: `);
        expect(r.stderr).toMatch(re);
        expect(r.stderr).toMatch(/\[STORE_INVALID_INPUT\]/);
        expect(r.stderr).not.toContain('S3cretPassw0rd');
        expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      }
      // With debug logging the stack is there, for whoever debugs.
      const dbg = run(CANHGAC, ['serve', '--data-dir', d], { timeoutMs: 20_000, env: { CANHGAC_LOG_LEVEL: 'debug' } });
      expect(dbg.stderr).toMatch(/\n\s+at .+:\d+:\d+/);
    } finally { cleanup(d); }
  });
});
