/** Key and certificate helpers shared by agent (CSR) and collector (CA). ECDSA P-256 everywhere. */
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
x509.cryptoProvider.set(webcrypto as any);

export const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

export { x509 };

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
}

export async function pemToKeyPair(privatePem: string, cert: x509.X509Certificate): Promise<CryptoKeyPair> {
  const b64 = privatePem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const privateKey = (await webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), KEY_ALG, true, ['sign'])) as unknown as CryptoKey;
  const publicKey = await cert.publicKey.export(KEY_ALG, ['verify']);
  return { privateKey, publicKey };
}

/** `sha256:<hex>` of a certificate's DER bytes — what operators compare and agents pin. */
export function fingerprint(der: ArrayBuffer | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der))).digest('hex');
}

export function certToPem(cert: x509.X509Certificate): string {
  return cert.toString('pem') + '\n';
}
