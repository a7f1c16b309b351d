/**
 * The collector's certificate authority (DESIGN §4): created at first start in <dataDir>/pki, keys mode 0600.
 * It signs the collector's server certificate and agent client certificates from their CSRs.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CollectorCodes, CollectorError } from '../errors.js';
import { type CryptoKeyPair, certToPem, fingerprint, generateKeyPair, pemToKeyPair, privateKeyToPem, SIGN_ALG, x509 } from '../../common/x509.js';

export interface Pki {
  caCert: x509.X509Certificate;
  caPem: string;
  caFingerprint: string;
  serverKeyPem: string;
  serverCertPem: string;
  /** Issues a client certificate for `agentId` from a DER CSR (its signature is checked first). */
  signCsr(csrDer: Uint8Array, agentId: string): Promise<x509.X509Certificate>;
  /** True if the DER certificate was issued by this CA and is within its validity. */
  verifyClient(der: Uint8Array): Promise<boolean>;
}

const DAY = 86_400_000;

type IssueParams = Parameters<typeof x509.X509CertificateGenerator.create>[0];

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

function writeSecret(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function checkMode(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new CollectorError(CollectorCodes.PKI_FILE_MODE, `private key is readable by others (mode ${mode.toString(8)})`, {
      where: path, hint: `run: chmod 600 ${path}`,
    });
  }
}

/** The CA fingerprint, creating the CA if this is the first start (without issuing a server certificate). */
export async function caFingerprint(dataDir: string): Promise<string> {
  const caCertPath = join(dataDir, 'pki', 'ca.crt');
  if (existsSync(caCertPath)) return fingerprint(new x509.X509Certificate(readFileSync(caCertPath, 'utf8')).rawData);
  return (await openPki(dataDir)).caFingerprint;
}

export async function openPki(dataDir: string, serverNames: string[] = []): Promise<Pki> {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKeyPath = join(dir, 'ca.key');
  const caCertPath = join(dir, 'ca.crt');

  let caKeys: CryptoKeyPair;
  let caCert: x509.X509Certificate;
  if (existsSync(caKeyPath) && existsSync(caCertPath)) {
    checkMode(caKeyPath);
    caCert = new x509.X509Certificate(readFileSync(caCertPath, 'utf8'));
    caKeys = await pemToKeyPair(readFileSync(caKeyPath, 'utf8'), caCert);
  } else {
    caKeys = await generateKeyPair();
    const now = Date.now();
    caCert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=Canh Gac collector CA ${hostname()}, O=Canh Gac`,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 3650 * DAY),
      keys: caKeys,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
    writeSecret(caKeyPath, await privateKeyToPem(caKeys.privateKey));
    writeFileSync(caCertPath, certToPem(caCert));
  }

  /** A leaf certificate signed by the CA: not a CA itself, valid from yesterday for `days`. */
  const issue = (subject: string, publicKey: IssueParams['publicKey'], days: number, extensions: x509.Extension[]) => {
    const t = Date.now();
    return x509.X509CertificateGenerator.create({
      serialNumber: serial(), subject, issuer: caCert.subject, notBefore: new Date(t - DAY), notAfter: new Date(t + days * DAY),
      signingKey: caKeys.privateKey, publicKey, signingAlgorithm: SIGN_ALG,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), ...extensions],
    });
  };

  // A fresh server certificate each start: short-lived, names this machine and loopback.
  const serverKeys = await generateKeyPair();
  const names = [...new Set(['localhost', hostname(), ...serverNames])];
  const serverCert = await issue(`CN=${hostname()}, O=Canh Gac collector`, serverKeys.publicKey, 90, [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      ...names.map((n) => ({ type: 'dns' as const, value: n })),
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ]),
  ]);
  const serverKeyPem = await privateKeyToPem(serverKeys.privateKey);
  writeSecret(join(dir, 'server.key'), serverKeyPem);
  writeFileSync(join(dir, 'server.crt'), certToPem(serverCert));

  const caPublic = caKeys.publicKey;
  return {
    caCert,
    caPem: certToPem(caCert),
    caFingerprint: fingerprint(caCert.rawData),
    serverKeyPem,
    // The chain (server, then CA) so an enrolling agent can pin the CA by fingerprint.
    serverCertPem: certToPem(serverCert) + certToPem(caCert),
    async signCsr(csrDer, agentId) {
      let csr: x509.Pkcs10CertificateRequest;
      try {
        csr = new x509.Pkcs10CertificateRequest(Buffer.from(csrDer));
      } catch (e) {
        throw new CollectorError(CollectorCodes.ENROLL_CSR_INVALID, 'the certificate request is not a valid PKCS#10 DER', { cause: e });
      }
      if (!(await csr.verify())) {
        throw new CollectorError(CollectorCodes.ENROLL_CSR_INVALID, 'the certificate request signature does not verify');
      }
      return issue(`CN=${agentId}, O=Canh Gac agent`, csr.publicKey, 365, [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ]);
    },
    async verifyClient(der) {
      try {
        const c = new x509.X509Certificate(Buffer.from(der));
        const now = new Date();
        if (c.notBefore > now || c.notAfter < now) return false;
        return await c.verify({ publicKey: caPublic, signatureOnly: true });
      } catch {
        return false;
      }
    },
  };
}

/** The agent id is the CN of its certificate subject. */
export function agentIdFromCert(der: Uint8Array): string | undefined {
  try {
    const c = new x509.X509Certificate(Buffer.from(der));
    const m = /CN=([^,]+)/.exec(c.subject);
    return m?.[1]?.trim();
  } catch {
    return undefined;
  }
}
