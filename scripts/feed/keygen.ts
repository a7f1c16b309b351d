/**
 * Creates a feed signing key pair:
 *
 *   node dist/scripts/feed/keygen.js --out-dir <dir> [--name feed-signing]
 *
 * writes <name>.key (private, PKCS#8 PEM, mode 0600 — keep it on the build machine) and
 * <name>.pub (public, SPKI PEM — copy it to each collector's <data dir>/feed-trust/).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateFeedKeyPair } from '../../collector/vuln/trust.js';

export function keygen(outDir: string, name: string): { keyFile: string; pubFile: string; keyId: string } {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`--name "${name}": use letters, digits, . _ -`);
  const keyFile = join(outDir, `${name}.key`);
  const pubFile = join(outDir, `${name}.pub`);
  for (const f of [keyFile, pubFile]) if (existsSync(f)) throw new Error(`${f} exists; refusing to overwrite a key`);
  mkdirSync(outDir, { recursive: true });
  const pair = generateFeedKeyPair();
  writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  writeFileSync(pubFile, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  return { keyFile, pubFile, keyId: pair.keyId };
}

export function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { 'out-dir': { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean' } }, strict: true });
  if (values.help || values['out-dir'] === undefined) {
    console.error('usage: keygen --out-dir <dir> [--name feed-signing]');
    return values.help ? 0 : 2;
  }
  const r = keygen(values['out-dir'], values.name ?? 'feed-signing');
  console.log(`key id ${r.keyId}\nprivate key: ${r.keyFile} (keep it secret, on the build machine)\npublic key:  ${r.pubFile} (copy to <data dir>/feed-trust/ on each collector)`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  }
}
