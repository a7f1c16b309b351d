/**
 * The agent's identity on disk: key (generated here, never leaves the host), certificate, pinned CA.
 * Files are mode 0600 in <dataDir>/identity.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransportCodes, TransportError } from './errors.js';

export interface Identity {
  agentId: string;
  collector: string;
  caFingerprint: string;
  keyPem: string;
  certPem: string;
  caPem: string;
  enrolledAt: string;
}

export function identityDir(dataDir: string): string {
  return join(dataDir, 'identity');
}

export function writeSecretFile(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function saveIdentity(dataDir: string, id: Identity): void {
  const dir = identityDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSecretFile(join(dir, 'agent.key'), id.keyPem);
  writeSecretFile(join(dir, 'agent.crt'), id.certPem);
  writeSecretFile(join(dir, 'ca.crt'), id.caPem);
  writeSecretFile(join(dir, 'agent.json'), JSON.stringify({
    agent_id: id.agentId, collector: id.collector, ca_fingerprint: id.caFingerprint, enrolled_at: id.enrolledAt,
  }, null, 2) + '\n');
}

export function hasIdentity(dataDir: string): boolean {
  return existsSync(join(identityDir(dataDir), 'agent.json'));
}

export function loadIdentity(dataDir: string): Identity {
  const dir = identityDir(dataDir);
  if (!hasIdentity(dataDir)) {
    throw new TransportError(TransportCodes.NOT_ENROLLED, 'this agent is not enrolled', {
      where: dir, hint: 'run: canhgac-agent enroll --collector HOST:PORT --token TOKEN --ca-fingerprint sha256:…',
    });
  }
  const meta = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as Record<string, string>;
  return {
    agentId: meta.agent_id!, collector: meta.collector!, caFingerprint: meta.ca_fingerprint!, enrolledAt: meta.enrolled_at!,
    keyPem: readFileSync(join(dir, 'agent.key'), 'utf8'),
    certPem: readFileSync(join(dir, 'agent.crt'), 'utf8'),
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
  };
}
