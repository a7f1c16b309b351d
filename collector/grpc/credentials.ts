import * as grpc from '@grpc/grpc-js';

/**
 * TLS 1.3 server credentials that ask for a client certificate but do not require one at the handshake:
 * Enrollment is server-authenticated (the token is the credential) while AgentStream demands a
 * certificate verified against the collector CA (checked per call from the auth context, which
 * grpc-js fills only when Node's TLS verified the certificate against `ca`).
 */
export class CollectorServerCredentials extends grpc.ServerCredentials {
  constructor(caPem: string, keyPem: string, certChainPem: string) {
    super(
      { requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' },
      { ca: caPem, key: keyPem, cert: certChainPem, minVersion: 'TLSv1.3' },
    );
  }
  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}
