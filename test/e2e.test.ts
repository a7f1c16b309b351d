/**
 * End to end, with real processes, sockets and TLS in temp dirs: a collector (`canhgac serve`) and an
 * agent (`canhgac-agent`) built from this tree, talking gRPC over mutual TLS.
 */
import { appendFileSync, chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../collector/store/index.js';
import type { Store } from '../collector/store/types.js';
import { agentStreamService } from '../proto/index.js';
import { channelOptions } from '../agent/transport/enroll.js';
import { generateKeyPair, privateKeyToPem, certToPem, SIGN_ALG, x509 } from '../common/x509.js';
import {
  AGENT, CANHGAC, cleanup, createToken, run, start, startCollector, tempDir, until, writeCollectorConfig, writeFimOnlyAgentConfig, type Service,
} from './helpers.js';

async function withStore<T>(dataDir: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore({ type: 'sqlite' }, dataDir);
  try { return await fn(s); } finally { await s.close(); }
}

async function fimEvents(dataDir: string): Promise<{ path: string; action: string; seq: number; id: string }[]> {
  return withStore(dataDir, async (s) => (await s.listFindings({ kind: 'fim', limit: 100_000 })).items.map((r) => ({
    path: String(r.fields['file.path']), action: String(r.fields['event.action']), seq: r.seq, id: r.id,
  })));
}

describe('end to end: enrollment, streaming, alerts', () => {
  let dataDir: string; let agentDir: string; let fimDir: string;
  let collector: { svc: Service; port: number; fingerprint: string };
  let agent: Service | undefined;

  beforeAll(async () => {
    dataDir = tempDir('e2e-collector');
    agentDir = tempDir('e2e-agent');
    fimDir = tempDir('e2e-fim');
    writeFileSync(join(fimDir, 'notes.txt'), 'hi\n');
    writeCollectorConfig(dataDir);
    collector = await startCollector(dataDir);
  });

  afterAll(async () => {
    await agent?.stop();
    await collector?.svc.stop();
    cleanup(dataDir, agentDir, fimDir);
  });

  it('enrolls with a token; the key and certificate are kept with mode 0600; the token is single-use', () => {
    const token = createToken(dataDir, ['--uses', '1', '--ttl', '1h']);
    const addr = `127.0.0.1:${collector.port}`;
    const r = run(AGENT, ['enroll', '--collector', addr, '--token', token, '--ca-fingerprint', collector.fingerprint, '--data-dir', agentDir]);
        expect(r.code).toBe(0);
    for (const f of ['agent.key', 'agent.crt', 'ca.crt', 'agent.json']) {
      expect((statSync(join(agentDir, 'identity', f)).mode & 0o777).toString(8)).toBe('600');
    }
    expect(readFileSync(join(agentDir, 'identity', 'agent.key'), 'utf8')).toMatch(/BEGIN PRIVATE KEY/);

    const other = tempDir('e2e-agent2');
    try {
      const again = run(AGENT, ['enroll', '--collector', addr, '--token', token, '--ca-fingerprint', collector.fingerprint, '--data-dir', other]);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/refused the enrollment.*(used|STORE_TOKEN_USED_UP)/i);
      expect(again.stderr).not.toContain(token);
    } finally { cleanup(other); }
  });

  it('enrolls with the token from a file or from CANHGAC_ENROLL_TOKEN (kept out of the process list); two sources at once are refused', () => {
    const addr = `127.0.0.1:${collector.port}`;
    const dirs = [tempDir('e2e-agent-tf'), tempDir('e2e-agent-env'), tempDir('e2e-agent-two')];
    try {
      const fileToken = createToken(dataDir, ['--uses', '1']);
      const tokenFile = join(dirs[0]!, '..', `token-${Date.now()}.txt`);
      writeFileSync(tokenFile, `${fileToken}\n`, { mode: 0o600 });
      const byFile = run(AGENT, ['enroll', '--collector', addr, '--token-file', tokenFile, '--ca-fingerprint', collector.fingerprint, '--data-dir', join(dirs[0]!, 'a')]);
      rmSync(tokenFile, { force: true });
      expect(byFile.stderr).toBe('');
      expect(byFile.code).toBe(0);
      const byEnv = run(AGENT, ['enroll', '--collector', addr, '--ca-fingerprint', collector.fingerprint, '--data-dir', join(dirs[1]!, 'a')], { env: { CANHGAC_ENROLL_TOKEN: createToken(dataDir, ['--uses', '1']) } });
      expect(byEnv.code).toBe(0);
      const two = run(AGENT, ['enroll', '--collector', addr, '--token', 'cgt_a', '--ca-fingerprint', collector.fingerprint, '--data-dir', join(dirs[2]!, 'a')], { env: { CANHGAC_ENROLL_TOKEN: 'cgt_b' } });
      expect(two.code).not.toBe(0);
      expect(two.stderr).toMatch(/give the enrollment token once, not with --token and CANHGAC_ENROLL_TOKEN/);
      const missing = run(AGENT, ['enroll', '--collector', addr, '--token-file', join(dirs[2]!, 'nope.txt'), '--ca-fingerprint', collector.fingerprint, '--data-dir', join(dirs[2]!, 'a')]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/cannot read the token file: ENOENT/);
    } finally { cleanup(...dirs); }
  });

  it('refuses enrollment when the pinned CA fingerprint does not match', () => {
    const token = createToken(dataDir);
    const other = tempDir('e2e-agent3');
    try {
      const bad = `sha256:${'0'.repeat(64)}`;
      const r = run(AGENT, ['enroll', '--collector', `127.0.0.1:${collector.port}`, '--token', token, '--ca-fingerprint', bad, '--data-dir', other]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/AGENT_ENROLL_FINGERPRINT_MISMATCH/);
    } finally { cleanup(other); }
  });

  it('streams file changes: created, modified and deleted files are stored within seconds, with alerts', async () => {
    writeFimOnlyAgentConfig(agentDir, [fimDir]);
    agent = start(AGENT, ['run', '--data-dir', agentDir, '--collector', `127.0.0.1:${collector.port}`]);
    await agent.waitFor(/connected to collector/, 30_000);
    // Let the first pass build the baseline before changing anything.
    await until('the baseline', () => withStore(dataDir, async (s) => (await s.listAgents())[0]?.lastSeq !== undefined || undefined), 10_000);
    await new Promise((r) => setTimeout(r, 1500));

    const script = join(fimDir, 'run.sh');
    writeFileSync(script, '#!/bin/sh\necho x\n');
    chmodSync(script, 0o755);
    appendFileSync(join(fimDir, 'notes.txt'), 'changed\n');
    writeFileSync(join(fimDir, 'gone.txt'), 'soon deleted\n');

    await until('created and modified events', async () => {
      const ev = await fimEvents(dataDir);
      return ev.some((e) => e.path === script && e.action === 'created') && ev.some((e) => e.path === join(fimDir, 'notes.txt') && e.action === 'modified') || undefined;
    }, 20_000);
    await until('gone.txt created', async () => (await fimEvents(dataDir)).some((e) => e.path.endsWith('gone.txt') && e.action === 'created') || undefined, 20_000);
    rmSync(join(fimDir, 'gone.txt'));
    await until('the deletion', async () => (await fimEvents(dataDir)).some((e) => e.path.endsWith('gone.txt') && e.action === 'deleted') || undefined, 20_000);

    const alerts = await withStore(dataDir, async (s) => (await s.listAlerts({ limit: 100 })).items);
    expect(alerts.some((a) => /temp/i.test(a.rule.title) && a.summary.includes('run.sh'))).toBe(true);
  });

  it('refuses a stream from a client without a certificate, and from one with a certificate of another CA', async () => {
    const Client = grpc.makeGenericClientConstructor(agentStreamService, 'AgentStream');
    const ca = readFileSync(join(agentDir, 'identity', 'ca.crt'));
    const attempt = async (creds: grpc.ChannelCredentials): Promise<grpc.ServiceError> => {
      const c = new Client(`127.0.0.1:${collector.port}`, creds, channelOptions(`127.0.0.1:${collector.port}`));
      try {
        return await new Promise<grpc.ServiceError>((resolve, reject) => {
          const call = (c as unknown as { Connect: () => grpc.ClientDuplexStream<unknown, unknown> }).Connect();
          call.on('error', resolve);
          call.on('data', () => reject(new Error('the collector answered an unauthenticated client')));
          call.write({ hello: { agentId: 'intruder' } });
        });
      } finally { c.close(); }
    };
    const noCert = await attempt(grpc.credentials.createSsl(ca));
    expect(noCert.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(noCert.details).toMatch(/COLLECTOR_AUTH_NO_CERTIFICATE/);

    const keys = await generateKeyPair();
    const rogue = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01', name: 'CN=rogue', notBefore: new Date(Date.now() - 3600e3), notAfter: new Date(Date.now() + 3600e3), keys, signingAlgorithm: SIGN_ALG,
    });
    const foreign = await attempt(grpc.credentials.createSsl(ca, Buffer.from(await privateKeyToPem(keys.privateKey)), Buffer.from(certToPem(rogue))));
    expect(foreign.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it.each([
    ['SIGKILL', 'killed (no clean shutdown)'],
    ['SIGTERM', 'stopped (clean shutdown, exit 0)'],
  ] as const)('loses nothing and stores nothing twice when the collector is %s mid-stream: %s', async (signal) => {
    // Every change must arrive one by one here, so the agent runs with a storm threshold above the burst.
    await agent?.stop();
    writeFimOnlyAgentConfig(agentDir, [fimDir], '    storm_threshold: 100000');
    agent = start(AGENT, ['run', '--data-dir', agentDir, '--collector', `127.0.0.1:${collector.port}`]);
    await agent.waitFor(/connected to collector/, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    const burst = join(fimDir, `burst-${signal}`);
    mkdirSync(burst);
    const N = 600;
    const writer = (async () => {
      for (let i = 0; i < N; i++) {
        writeFileSync(join(burst, `f${i}.txt`), `file ${i}\n`);
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // Kill the collector while the burst is streaming, then start it again on the same port.
    const inBurst = (e: { path: string }) => e.path.includes(`/burst-${signal}/`);
    await until('some burst findings stored', async () => (await fimEvents(dataDir)).filter(inBurst).length > 20 || undefined, 30_000, 50);
    const stoppedAt = Date.now();
    const code = await collector.svc.stop(signal);
    // A clean stop finishes the commits in flight and exits 0, promptly.
    if (signal === 'SIGTERM') {
      expect(code).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    }
    await writer;
    await agent!.waitFor(/collector connection lost/, 10_000); // the agent saw the outage and keeps its outbox
    writeCollectorConfig(dataDir, collector.port);
    collector = await startCollector(dataDir);

    const created = await until(`all ${N} burst creations`, async () => {
      const ev = (await fimEvents(dataDir)).filter((e) => inBurst(e) && e.action === 'created');
      return ev.length >= N ? ev : undefined;
    }, 60_000, 500);
    const paths = created.map((e) => e.path);
    expect(new Set(paths).size).toBe(N);
    expect(paths.length).toBe(N); // no duplicate creation events

    // Every sequence number the agent assigned is stored exactly once: no gaps, no repeats.
    const all = await withStore(dataDir, async (s) => {
      const kinds = await s.countFindings('kind');
      const items = [];
      for (const k of Object.keys(kinds)) items.push(...(await s.listFindings({ kind: k as never, current: false, limit: 1_000_000 })).items);
      return items;
    });
    const seqs = all.filter((r) => r.check !== 'collector').map((r) => r.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs[0]).toBe(1);
    expect(seqs[seqs.length - 1]).toBe(seqs.length);
  }, 120_000);

  it('revokes an agent: it is refused from its next connection, and the audit trail says who and why', async () => {
    const id = JSON.parse(readFileSync(join(agentDir, 'identity', 'agent.json'), 'utf8')).agent_id as string;
    const noReason = run(CANHGAC, ['agents', 'revoke', id, '--data-dir', dataDir]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const r = run(CANHGAC, ['agents', 'revoke', id, '--data-dir', dataDir, '--reason', 'laptop reported stolen']);
    expect(r.code).toBe(0);
    await agent?.stop();
    agent = start(AGENT, ['run', '--data-dir', agentDir, '--collector', `127.0.0.1:${collector.port}`]);
    const refused = await agent.waitFor(/collector refused this agent.*"reason":"([^"]*)"/, 30_000);
    expect(refused[1]).toMatch(/revoked/);
    const audit = await withStore(dataDir, (s) => s.listAudit({ limit: 100 }));
    expect(audit.find((a) => a.action === 'agent.revoke')).toMatchObject({ target: `agent:${id}`, to: 'revoked', reason: 'laptop reported stolen' });
    expect(audit.filter((a) => a.action === 'token.create').length).toBeGreaterThan(0);
    expect(JSON.stringify(audit)).not.toMatch(/cgt_/);
  });
});
