/**
 * Builds and signs a feed bundle on a machine with internet access, from files downloaded
 * there: OSV dumps per ecosystem (`all.zip` or JSON) and the CISA KEV catalogue.
 *
 *   node dist/scripts/feed/build-bundle.js --key feed-signing.key --out feed.cgfeed \
 *     --osv Debian:12=Debian/all.zip --osv Ubuntu:22.04:LTS=Ubuntu/all.zip \
 *     --kev known_exploited_vulnerabilities.json
 *
 * Options: --built-at / --retrieved-at (ISO times; default now / each file's mtime),
 * --licence <source-id>=<text>, --attribution <source-id>=<text>, --origin <source-id>=<text>,
 * --windows-builds <file>, --eol <file>. Only the named ecosystem's affected[] entries of a
 * record are kept in its file (an all.zip covers every release of a distribution).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildBundle, ecosystemFileStem, type BundleFileInput, type FeedManifest, type FeedSource } from '../../collector/vuln/bundle.js';
import { parseKev } from '../../collector/vuln/kev.js';
import { parseEcosystem, parseOsvRecord, type OsvRecord } from '../../collector/vuln/osv.js';
import { parseWindowsBuilds } from '../../collector/vuln/windows.js';
import { describeError } from '../../common/errors.js';
import { loadJsonInput, loadOsvInput } from './inputs.js';

export interface BuildOptions {
  out: string;
  /** PEM PKCS#8 Ed25519 private key (from scripts/feed/keygen). */
  keyFile: string;
  osv: Array<{ ecosystem: string; path: string }>;
  kev?: string | undefined;
  windowsBuilds?: string | undefined;
  eol?: string | undefined;
  builtAt?: Date | undefined;
  /** Retrieval time of every input; default: each file's modification time. */
  retrievedAt?: Date | undefined;
  licence?: Record<string, string>;
  attribution?: Record<string, string>;
  origin?: Record<string, string>;
  log?: (line: string) => void;
}

interface DefaultTerms { licence: string; attribution: string }

/** Licence and attribution per data source, as the publishers state them (override with --licence/--attribution). */
const OSV_TERMS: Record<string, DefaultTerms> = {
  Debian: {
    licence: 'not stated separately: Debian Security Tracker data, converted to OSV by the OSV project',
    attribution: 'Debian Security Tracker (DSA, DLA and DEBIAN-CVE records) as converted to OSV by the OSV project',
  },
  Ubuntu: { licence: 'CC-BY-SA-4.0', attribution: 'Ubuntu Security Notices and CVE tracker, Canonical Ltd., via the OSV project' },
  'Rocky Linux': { licence: 'BSD', attribution: 'Rocky Linux security advisories, Rocky Enterprise Software Foundation, via the OSV project' },
  AlmaLinux: { licence: 'MIT', attribution: 'AlmaLinux errata, AlmaLinux OS Foundation, via the OSV project' },
  'Red Hat': { licence: 'as published by Red Hat', attribution: 'Red Hat security data via the OSV project' },
};
const KEV_TERMS: DefaultTerms = {
  licence: 'CISA terms of use (U.S. Government work)',
  attribution: 'Known Exploited Vulnerabilities Catalog, Cybersecurity and Infrastructure Security Agency (CISA)',
};

/** Keeps only the affected[] entries of `ecosystem`; undefined when none is left. */
export function restrictToEcosystem(raw: Record<string, unknown>, ecosystem: string): Record<string, unknown> | undefined {
  const affected = (raw['affected'] as Array<{ package?: { ecosystem?: string } }> | undefined) ?? [];
  const kept = affected.filter((a) => a.package?.ecosystem === ecosystem);
  return kept.length === 0 ? undefined : { ...raw, affected: kept };
}

/** One record per line, sorted by id: stable bytes and readable diffs. */
export function serializeRecords(records: ReadonlyArray<Record<string, unknown>>): Buffer {
  const sorted = [...records].sort((a, b) => (String(a['id']) < String(b['id']) ? -1 : String(a['id']) > String(b['id']) ? 1 : 0));
  return Buffer.from(`[\n${sorted.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`, 'utf8');
}

export function buildFromInputs(opts: BuildOptions): { manifest: FeedManifest; bytes: Buffer; warnings: string[] } {
  const log = opts.log ?? (() => undefined);
  const keyPem = readFileSync(opts.keyFile);
  const privateKey = createPrivateKey(keyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${opts.keyFile}: feed keys are Ed25519, this one is ${privateKey.asymmetricKeyType}`);
  const publicKey = createPublicKey(privateKey);
  const sources: FeedSource[] = [];
  const files: BundleFileInput[] = [];
  const warnings: string[] = [];
  const terms = (id: string, d: DefaultTerms) => ({ licence: opts.licence?.[id] ?? d.licence, attribution: opts.attribution?.[id] ?? d.attribution });

  for (const { ecosystem, path } of opts.osv) {
    const eco = parseEcosystem(ecosystem);
    const input = loadOsvInput(path);
    const kept: Array<Record<string, unknown>> = [];
    const ids = new Set<string>();
    for (const { value, where } of input.values) {
      let record: OsvRecord;
      try {
        record = parseOsvRecord(value, where);
      } catch (e) {
        warnings.push(describeError(e));
        continue;
      }
      const restricted = restrictToEcosystem(value as Record<string, unknown>, ecosystem);
      if (restricted === undefined) continue;
      if (ids.has(record.id)) {
        warnings.push(`${where}: ${record.id} appears twice; the first one is kept`);
        continue;
      }
      ids.add(record.id);
      kept.push(restricted);
    }
    const id = `osv-${ecosystemFileStem(ecosystem).toLowerCase().replace(/_/g, '-')}`;
    const data = serializeRecords(kept);
    sources.push({
      id,
      kind: 'osv',
      origin: opts.origin?.[id] ?? `OSV records for ${ecosystem} (${basename(path)})`,
      retrieved_at: (opts.retrievedAt ?? input.mtime).toISOString(),
      sha256: input.sha256,
      records: kept.length,
      ...terms(id, OSV_TERMS[eco.family]!),
    });
    files.push({ kind: 'osv', ecosystem, source: id, data, records: kept.length });
    log(`${ecosystem}: ${kept.length} records from ${input.values.length} read (${path})`);
  }

  if (opts.kev !== undefined) {
    const input = loadJsonInput(opts.kev);
    const catalog = parseKev(input.value, opts.kev);
    const id = 'cisa-kev';
    sources.push({
      id,
      kind: 'kev',
      origin: opts.origin?.[id] ?? `CISA Known Exploited Vulnerabilities catalogue${catalog.catalogVersion ? ` ${catalog.catalogVersion}` : ''} (${basename(opts.kev)})`,
      retrieved_at: (opts.retrievedAt ?? input.mtime).toISOString(),
      sha256: input.sha256,
      records: catalog.vulnerabilities.length,
      ...terms(id, KEV_TERMS),
    });
    files.push({ kind: 'kev', source: id, data: Buffer.from(JSON.stringify(input.value, null, 1) + '\n', 'utf8'), records: catalog.vulnerabilities.length });
    log(`KEV: ${catalog.vulnerabilities.length} entries`);
  }

  for (const [kind, path] of [['windows-builds', opts.windowsBuilds], ['eol', opts.eol]] as const) {
    if (path === undefined) continue;
    const input = loadJsonInput(path);
    const records = kind === 'windows-builds' ? parseWindowsBuilds(input.value, path).fixes.length : Array.isArray(input.value) ? input.value.length : 1;
    const id = kind;
    sources.push({
      id,
      kind,
      origin: opts.origin?.[id] ?? basename(path),
      retrieved_at: (opts.retrievedAt ?? input.mtime).toISOString(),
      sha256: input.sha256,
      records,
      licence: opts.licence?.[id] ?? (kind === 'windows-builds' ? 'Microsoft security update guide data (MSRC CVRF API); Microsoft terms of use' : 'see origin'),
      attribution: opts.attribution?.[id] ?? basename(path),
    });
    files.push({ kind, source: id, data: Buffer.from(JSON.stringify(input.value) + '\n', 'utf8'), records });
  }

  const { bytes, manifest } = buildBundle({ builtAt: opts.builtAt ?? new Date(), sources, files, privateKey, publicKey, generator: 'canhgac scripts/feed/build-bundle' });
  writeFileSync(opts.out, bytes);
  log(`wrote ${opts.out}: ${bytes.length} bytes, feed ${manifest.id}`);
  return { manifest, bytes, warnings };
}

function pairs(list: string[] | undefined, option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`--${option} takes <source-id>=<text>, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function time(value: string | undefined, option: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`--${option}: "${value}" is not an ISO-8601 time`);
  return d;
}

export function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      key: { type: 'string' },
      osv: { type: 'string', multiple: true },
      kev: { type: 'string' },
      'windows-builds': { type: 'string' },
      eol: { type: 'string' },
      'built-at': { type: 'string' },
      'retrieved-at': { type: 'string' },
      licence: { type: 'string', multiple: true },
      attribution: { type: 'string', multiple: true },
      origin: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help || values.out === undefined || values.key === undefined || (values.osv ?? []).length === 0) {
    console.error('usage: build-bundle --key <private.key> --out <file.cgfeed> --osv <Ecosystem>=<all.zip|dir|file.json> [--osv …] [--kev <kev.json>]\n'
      + '                    [--windows-builds <file>] [--eol <file>] [--built-at <ISO>] [--retrieved-at <ISO>]\n'
      + '                    [--licence <source-id>=<text>] [--attribution <source-id>=<text>] [--origin <source-id>=<text>]');
    return values.help ? 0 : 2;
  }
  const osv = (values.osv ?? []).map((spec) => {
    const eq = spec.lastIndexOf('=');
    if (eq <= 0) throw new Error(`--osv takes <Ecosystem>=<path>, got "${spec}"`);
    return { ecosystem: spec.slice(0, eq), path: spec.slice(eq + 1) };
  });
  const { warnings } = buildFromInputs({
    out: values.out,
    keyFile: values.key,
    osv,
    kev: values.kev,
    windowsBuilds: values['windows-builds'],
    eol: values.eol,
    builtAt: time(values['built-at'], 'built-at'),
    retrievedAt: time(values['retrieved-at'], 'retrieved-at'),
    licence: pairs(values.licence, 'licence'),
    attribution: pairs(values.attribution, 'attribution'),
    origin: pairs(values.origin, 'origin'),
    log: (line) => console.log(line),
  });
  for (const w of warnings.slice(0, 50)) console.warn(`skipped: ${w}`);
  if (warnings.length > 50) console.warn(`… and ${warnings.length - 50} more`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(describeError(e));
    process.exitCode = 1;
  }
}
