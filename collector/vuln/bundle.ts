/**
 * Feed bundles: one file (`.cgfeed`), a ustar archive of
 *
 *   manifest.json            what the bundle holds (below), the signed bytes
 *   manifest.sig             Ed25519 signature over manifest.json, with the signer's key id
 *   osv/<Ecosystem>.json     JSON array of OSV records ("Debian:12" → osv/Debian_12.json)
 *   kev.json                 CISA KEV catalogue (whole or a subset, same shape)
 *   windows-builds.json      optional
 *   eol.json                 optional: OS lifecycle, { releases: [...] } as rules/data/os-lifecycle.yaml
 *
 * in that order. The manifest lists every other file with its SHA-256, size and record
 * count, and every source with its origin, retrieval time, digest, record count and
 * licence/attribution. `verifyBundle` checks, in order: format (and truncation), signature,
 * manifest schema, every file's digest, every file's schema; a refusal names the check.
 */
import { createHash, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { FeedError, VulnError } from './errors.js';
import { parseKev, type KevCatalog } from './kev.js';
import { parseLifecycle } from './lifecycle.js';
import { parseWindowsBuilds } from './windows.js';
import { parseOsvArray, type OsvRecord } from './osv.js';
import { readTar, writeTar, type TarEntry } from './tar.js';
import { keyIdOf, type TrustedKey } from './trust.js';

export const FEED_SCHEMA = 'canhgac-feed/1';
export const BUNDLE_EXTENSION = '.cgfeed';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex');
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO-8601 time');
/**
 * The build time the rollback check compares: ISO-8601 with a time zone (Z or ±hh:mm), so that every
 * collector reads the same instant (Date.parse reads a zone-less time as local time).
 */
const zonedTime = z.string().refine((s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)),
  'an ISO-8601 time with a time zone, e.g. 2026-05-01T00:00:00.000Z');

export const FILE_KINDS = ['osv', 'kev', 'windows-builds', 'eol'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

const sourceSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ -'),
  kind: z.enum(FILE_KINDS),
  origin: z.string().min(1).describe('Who published the data and which download it was, e.g. "OSV Debian all.zip".'),
  retrieved_at: isoTime,
  sha256: sha256Hex.describe('Digest of the downloaded file the records were taken from.'),
  records: z.number().int().nonnegative(),
  licence: z.string().min(1),
  attribution: z.string().min(1),
}).strict();

const fileSchema = z.object({
  path: z.string().min(1),
  kind: z.enum(FILE_KINDS),
  ecosystem: z.string().min(1).optional(),
  source: z.string().min(1),
  sha256: sha256Hex,
  bytes: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
}).strict();

export const manifestSchema = z.object({
  schema: z.literal(FEED_SCHEMA),
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (it names a folder)'),
  built_at: zonedTime,
  generator: z.string().optional(),
  sources: z.array(sourceSchema).min(1),
  files: z.array(fileSchema).min(1),
}).strict().superRefine((m, ctx) => {
  const sources = new Set(m.sources.map((s) => s.id));
  const paths = new Set<string>();
  m.files.forEach((f, i) => {
    if (!sources.has(f.source)) ctx.addIssue({ code: 'custom', path: ['files', i, 'source'], message: `no source "${f.source}" in sources` });
    if (paths.has(f.path)) ctx.addIssue({ code: 'custom', path: ['files', i, 'path'], message: `"${f.path}" listed twice` });
    paths.add(f.path);
    const want = expectedPath(f.kind, f.ecosystem);
    if (want !== f.path) ctx.addIssue({ code: 'custom', path: ['files', i, 'path'], message: `a ${f.kind} file${f.ecosystem ? ` for ${f.ecosystem}` : ''} must be named ${want ?? '(needs an ecosystem)'}` });
  });
});

export type FeedManifest = z.infer<typeof manifestSchema>;
export type FeedSource = z.infer<typeof sourceSchema>;
export type FeedFile = z.infer<typeof fileSchema>;

const signatureSchema = z.object({
  algorithm: z.literal('ed25519'),
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
}).strict();

/** "Debian:12" → "Debian_12": file names carry no ":" or spaces (Windows, shells). */
export function ecosystemFileStem(ecosystem: string): string {
  return ecosystem.replace(/[^A-Za-z0-9.-]/g, '_');
}

export function expectedPath(kind: FileKind, ecosystem: string | undefined): string | undefined {
  switch (kind) {
    case 'osv': return ecosystem === undefined ? undefined : `osv/${ecosystemFileStem(ecosystem)}.json`;
    case 'kev': return 'kev.json';
    case 'windows-builds': return 'windows-builds.json';
    case 'eol': return 'eol.json';
  }
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---------------------------------------------------------------- building

export interface BundleFileInput {
  kind: FileKind;
  ecosystem?: string;
  source: string;
  /** The file's bytes (JSON). */
  data: Buffer;
  records: number;
}

export interface BuildBundleInput {
  builtAt: Date;
  sources: FeedSource[];
  files: BundleFileInput[];
  privateKey: KeyObject;
  publicKey: KeyObject;
  generator?: string;
}

function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Builds and signs a bundle. Deterministic: same inputs, same bytes (Ed25519 signatures are). */
export function buildBundle(input: BuildBundleInput): { bytes: Buffer; manifest: FeedManifest } {
  const files: FeedFile[] = input.files.map((f) => {
    const path = expectedPath(f.kind, f.ecosystem);
    if (path === undefined) throw new Error(`an ${f.kind} file needs an ecosystem`);
    return { path, kind: f.kind, ...(f.ecosystem !== undefined ? { ecosystem: f.ecosystem } : {}), source: f.source, sha256: sha256(f.data), bytes: f.data.length, records: f.records };
  });
  const contentDigest = sha256(files.map((f) => `${f.path}\n${f.sha256}\n`).join(''));
  const draft = {
    schema: FEED_SCHEMA,
    id: `${compactTime(input.builtAt)}-${contentDigest.slice(0, 12)}`,
    built_at: input.builtAt.toISOString(),
    ...(input.generator !== undefined ? { generator: input.generator } : {}),
    sources: input.sources,
    files,
  };
  const manifest = manifestSchema.parse(draft);
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8');
  const signature = edSign(null, manifestBytes, input.privateKey);
  const sig = { algorithm: 'ed25519', key_id: keyIdOf(input.publicKey), signature: signature.toString('base64') };
  const entries: TarEntry[] = [
    { name: 'manifest.json', data: manifestBytes },
    { name: 'manifest.sig', data: Buffer.from(JSON.stringify(sig) + '\n', 'utf8') },
    ...files.map((f, i) => ({ name: f.path, data: input.files[i]!.data })),
  ];
  return { bytes: writeTar(entries, Math.floor(input.builtAt.getTime() / 1000)), manifest };
}

// ---------------------------------------------------------------- verifying

export interface VerifiedBundle {
  manifest: FeedManifest;
  manifestBytes: Buffer;
  signatureBytes: Buffer;
  /** Key that signed it. */
  keyId: string;
  /** path → bytes, for every file of the manifest. */
  files: Map<string, Buffer>;
  /** Parsed content, per ecosystem. */
  osv: Map<string, OsvRecord[]>;
  kev: KevCatalog | undefined;
}

function parseJson(data: Buffer, path: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new FeedError('schema', `${path} is not valid JSON`, { cause: e, where: path });
  }
}

/**
 * Checks a bundle completely and returns its content. Throws FeedError naming the check
 * that failed: format, truncated, trust (no keys), signature, schema (manifest), digest, schema (files).
 */
export function verifyBundle(bytes: Buffer, trustedKeys: readonly TrustedKey[]): VerifiedBundle {
  const entries = readTar(bytes);
  if (entries[0]?.name !== 'manifest.json' || entries[1]?.name !== 'manifest.sig') {
    throw new FeedError('format', 'a bundle starts with manifest.json and manifest.sig');
  }
  const manifestBytes = entries[0].data;
  const signatureBytes = entries[1].data;

  // signature
  if (trustedKeys.length === 0) throw new FeedError('trust', 'no trusted feed keys are configured');
  let sigDoc: z.infer<typeof signatureSchema>;
  try {
    sigDoc = signatureSchema.parse(JSON.parse(signatureBytes.toString('utf8')));
  } catch (e) {
    throw new FeedError('signature', 'manifest.sig is not a signature record', { cause: e });
  }
  // Byte-exact, so that no change to manifest.sig goes unnoticed (whitespace included).
  if (!signatureBytes.equals(Buffer.from(JSON.stringify(sigDoc) + '\n', 'utf8'))) {
    throw new FeedError('signature', 'manifest.sig is not in its canonical form');
  }
  const signer = trustedKeys.find((k) => k.keyId === sigDoc.key_id);
  if (signer === undefined) {
    throw new FeedError('signature', `manifest.json is signed by key ${sigDoc.key_id}, which is not trusted (trusted: ${trustedKeys.map((k) => k.keyId).join(', ')})`);
  }
  const signature = Buffer.from(sigDoc.signature, 'base64');
  if (signature.length !== 64 || signature.toString('base64') !== sigDoc.signature) {
    throw new FeedError('signature', 'the signature in manifest.sig is not a canonical 64-byte Ed25519 signature');
  }
  if (!edVerify(null, manifestBytes, signer.key, signature)) {
    throw new FeedError('signature', `the signature of manifest.json does not verify with trusted key ${sigDoc.key_id}: the manifest or the signature was altered`);
  }

  // manifest schema (signed, so a failure here is a bad build, not tampering)
  const parsed = manifestSchema.safeParse(parseJson(manifestBytes, 'manifest.json'));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new FeedError('schema', `manifest.json: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid'}`);
  }
  const manifest = parsed.data;

  // every file listed, nothing else, each matching its digest
  const byName = new Map(entries.slice(2).map((e) => [e.name, e.data]));
  for (const name of byName.keys()) {
    if (!manifest.files.some((f) => f.path === name)) throw new FeedError('format', `${name} is in the archive but not in the manifest`);
  }
  const files = new Map<string, Buffer>();
  for (const f of manifest.files) {
    const data = byName.get(f.path);
    if (data === undefined) throw new FeedError('format', `${f.path} is in the manifest but not in the archive`);
    if (data.length !== f.bytes) throw new FeedError('digest', `${f.path} has ${data.length} bytes, the manifest says ${f.bytes}`, { where: f.path });
    const digest = sha256(data);
    if (digest !== f.sha256) throw new FeedError('digest', `${f.path} has SHA-256 ${digest}, the manifest says ${f.sha256}`, { where: f.path });
    files.set(f.path, data);
  }

  // file content
  const osv = new Map<string, OsvRecord[]>();
  let kev: KevCatalog | undefined;
  for (const f of manifest.files) {
    const value = parseJson(files.get(f.path)!, f.path);
    let count: number;
    try {
      if (f.kind === 'osv') {
        const records = parseOsvArray(value, f.path);
        osv.set(f.ecosystem!, records);
        count = records.length;
      } else if (f.kind === 'kev') {
        kev = parseKev(value, f.path);
        count = kev.vulnerabilities.length;
      } else if (f.kind === 'eol') {
        count = parseLifecycle(value, f.path).length;
      } else if (f.kind === 'windows-builds') {
        count = parseWindowsBuilds(value, f.path).fixes.length;
      } else {
        count = Array.isArray(value) ? value.length : f.records;
      }
    } catch (e) {
      if (e instanceof FeedError) throw e;
      const where = e instanceof VulnError && e.where !== undefined ? e.where : f.path;
      throw new FeedError('schema', `${where}: ${(e as Error).message}`, { cause: e, where });
    }
    if (count !== f.records) throw new FeedError('schema', `${f.path} holds ${count} records, the manifest says ${f.records}`, { where: f.path });
  }
  return { manifest, manifestBytes, signatureBytes, keyId: signer.keyId, files, osv, kev };
}
