/**
 * Enrollment: fetch the collector's CA over TLS, compare it with the pinned fingerprint the operator
 * gave, then call Enrollment.Enroll with the token and a CSR for a key generated here.
 */
import { arch, hostname, platform, release } from 'node:os';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { certToPem, fingerprint, generateKeyPair, privateKeyToPem, SIGN_ALG, x509 } from '../../common/x509.js';
import { enrollmentService } from '../../proto/index.js';
import { TransportCodes, TransportError } from './errors.js';
import { saveIdentity, type Identity } from './identity.js';

export const AGENT_VERSION = '0.1.0';

/**
 * Channel options for a collector address. For an IP address the certificate name checked is
 * `localhost` (every collector certificate names it): trust comes from the pinned collector CA, and
 * TLS forbids an IP address as the server name.
 */
export function channelOptions(addr: string): grpc.ChannelOptions {
  return isIP(splitHostPort(addr).host) ? { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' } : {};
}

export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(addr.trim());
  if (!m) throw new TransportError(TransportCodes.ENROLL_UNREACHABLE, `collector address ${JSON.stringify(addr)} is not HOST:PORT`, { where: '--collector' });
  return { host: m[1]!, port: Number(m[2]) };
}

/** Connects with TLS, takes the certificate chain the collector presents, returns its root (the CA). */
export function fetchCollectorCa(addr: string, timeoutMs = 10_000): Promise<x509.X509Certificate> {
  const { host, port } = splitHostPort(addr);
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host, port, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: ['h2'], ...(isIP(host) ? {} : { servername: host }) });
    const timer = setTimeout(() => { sock.destroy(); reject(new TransportError(TransportCodes.ENROLL_UNREACHABLE, `no TLS answer from ${addr} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      let c = sock.getPeerCertificate(true) as tls.DetailedPeerCertificate;
      const seen = new Set<string>();
      while (c.issuerCertificate && c.issuerCertificate !== c && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        c = c.issuerCertificate;
      }
      sock.end();
      resolve(new x509.X509Certificate(c.raw));
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(new TransportError(TransportCodes.ENROLL_UNREACHABLE, `cannot reach the collector at ${addr}: ${e.message}`, { cause: e, hint: 'check the address, the port and any firewall in between' }));
    });
  });
}

export interface EnrollOptions { collector: string; token: string; caFingerprint: string; dataDir: string; timeoutMs?: number }

export async function enroll(o: EnrollOptions): Promise<Identity> {
  const want = o.caFingerprint.trim().toLowerCase();
  if (!/^sha256:[0-9a-f]{64}$/.test(want)) {
    throw new TransportError(TransportCodes.ENROLL_FINGERPRINT_MISMATCH, 'the CA fingerprint must look like sha256:<64 hex digits>', {
      where: '--ca-fingerprint', hint: 'copy it from the collector: canhgac token create prints it',
    });
  }
  const ca = await fetchCollectorCa(o.collector, o.timeoutMs);
  const got = fingerprint(ca.rawData);
  if (got !== want) {
    throw new TransportError(TransportCodes.ENROLL_FINGERPRINT_MISMATCH, `the collector's CA is ${got}, not the pinned ${want}`, {
      where: o.collector, hint: 'you may be talking to another server; check the address and the fingerprint printed by the collector',
    });
  }
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${hostname()}`, keys, signingAlgorithm: SIGN_ALG });
  const caPem = certToPem(ca);
  const Client = grpc.makeGenericClientConstructor(enrollmentService, 'Enrollment');
  const client = new Client(o.collector, grpc.credentials.createSsl(Buffer.from(caPem)), channelOptions(o.collector));
  try {
    const res = await new Promise<{ agentId: string; certificateDer: Buffer }>((resolve, reject) => {
      (client as unknown as { Enroll: (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void }).Enroll(
        {
          token: o.token, csrDer: Buffer.from(csr.rawData),
          facts: { hostname: hostname(), osFamily: platform(), osName: platform(), osVersion: release(), architecture: arch(), agentVersion: AGENT_VERSION },
        },
        new grpc.Metadata(), { deadline: Date.now() + (o.timeoutMs ?? 15_000) },
        (e, r) => (e ? reject(e) : resolve(r as { agentId: string; certificateDer: Buffer })),
      );
    });
    const cert = new x509.X509Certificate(res.certificateDer);
    const id: Identity = {
      agentId: res.agentId, collector: o.collector, caFingerprint: got, keyPem: await privateKeyToPem(keys.privateKey),
      certPem: certToPem(cert), caPem, enrolledAt: new Date().toISOString(),
    };
    saveIdentity(o.dataDir, id);
    return id;
  } catch (e) {
    if (e instanceof TransportError) throw e;
    const se = e as grpc.ServiceError;
    throw new TransportError(TransportCodes.ENROLL_REFUSED, `the collector refused the enrollment: ${se.details ?? se.message}`, {
      cause: e,
      ...(se.code === grpc.status.UNAUTHENTICATED ? { hint: 'ask for a new token: canhgac token create' } : {}),
    });
  } finally {
    client.close();
  }
}
