/**
 * Builds the bundle's Windows fixed-build table (`windows-builds.json`, collector/vuln/windows.ts)
 * from Microsoft's security update guide: the MSRC CVRF v3 monthly documents in their JSON form
 * (`https://api.msrc.microsoft.com/cvrf/v3.0/cvrf/<yyyy-Mmm>` with `Accept: application/json`).
 *
 *   node dist/scripts/feed/windows-builds.js --out windows-builds.json 2025-May.json 2025-Jun.json …
 *   node dist/scripts/feed/windows-builds.js --out windows-builds.json --cve-kb-mapping mapping.json
 *
 * From each document: `ProductTree.FullProductName[]` (ProductID → product name) and, per
 * `Vulnerability[]`, its `CVE`, `Title`, the severity word of its `Threats[]` of type 3 per product,
 * "Exploited:Yes" in its threat of type 1, `CVSSScoreSets[]` per product, and every
 * `Remediations[]` entry of type 2 ("Vendor Fix") with a Windows `FixedBuild` (10.0.<build>.<UBR>)
 * and a KB number in `Description.Value` — one row per (CVE, product). Hotpatch updates (SubType
 * "Security Hotpatch Update") are left out: their builds are on a separate hotpatch baseline.
 *
 * `--cve-kb-mapping` reads instead arrays of `{cve, patches: [{os, kb, fixedBuild, severity}]}`
 * (a CVE→KB mapping some projects derive from the same CVRF documents; `fixedBuild` without the
 * `10.0.` prefix, `severity` a CVSS base score).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseWindowsBuilds, WINDOWS_BUILDS_SCHEMA, type WindowsBuilds, type WindowsFix } from '../../collector/vuln/windows.js';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
/** CVRF JSON wraps most strings as {"Value": "…"}. */
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof obj(v)?.['Value'] === 'string' ? (obj(v)!['Value'] as string) : undefined);
const ids = (v: unknown): string[] => arr(v).map((x) => (typeof x === 'string' || typeof x === 'number' ? String(x) : text(x))).filter((x): x is string => x !== undefined);

const WINDOWS_BUILD = /^10\.0\.\d{4,6}\.\d{1,6}$/;

export interface ConvertReport {
  fixes: WindowsFix[];
  /** Remediations skipped, with why (counted per reason). */
  skipped: Record<string, number>;
}

function skip(r: ConvertReport, why: string): void {
  r.skipped[why] = (r.skipped[why] ?? 0) + 1;
}

/** One CVRF JSON document → fixed-build rows. Throws when the value is not a CVRF document. */
export function fromCvrf(doc: unknown, where: string, report: ConvertReport = { fixes: [], skipped: {} }): ConvertReport {
  const d = obj(doc);
  const tree = obj(d?.['ProductTree']);
  if (d === undefined || tree === undefined || !Array.isArray(d['Vulnerability'])) {
    throw new Error(`${where}: not an MSRC CVRF document (expected ProductTree and Vulnerability[]; download the JSON form of /cvrf/v3.0/cvrf/<yyyy-Mmm>)`);
  }
  const docId = text(obj(obj(d['DocumentTracking'])?.['Identification'])?.['ID']);
  const products = new Map<string, string>();
  for (const p of arr(tree['FullProductName'])) {
    const id = obj(p)?.['ProductID'];
    const name = text(p);
    if ((typeof id === 'string' || typeof id === 'number') && name !== undefined) products.set(String(id), name);
  }
  for (const v of d['Vulnerability'] as unknown[]) {
    const vuln = obj(v);
    const cve = typeof vuln?.['CVE'] === 'string' ? (vuln['CVE'] as string) : undefined;
    if (vuln === undefined || cve === undefined || !/^CVE-\d{4}-\d{4,}$/.test(cve)) {
      skip(report, 'vulnerability without a CVE id');
      continue;
    }
    const title = text(vuln['Title']);
    const severity = new Map<string, string>();
    let exploited = false;
    for (const t of arr(vuln['Threats'])) {
      const th = obj(t);
      const type = th?.['Type'];
      const desc = text(th?.['Description']);
      if ((type === 3 || type === 'Severity') && desc !== undefined) for (const id of ids(th!['ProductID'])) severity.set(id, desc);
      if ((type === 1 || type === 'Exploit Status') && desc !== undefined && /Exploited:Yes/i.test(desc)) exploited = true;
    }
    const cvss = new Map<string, { score: number; vector: string | undefined }>();
    for (const s of arr(vuln['CVSSScoreSets'])) {
      const set = obj(s);
      const score = typeof set?.['BaseScore'] === 'number' ? (set['BaseScore'] as number) : Number(set?.['BaseScore']);
      if (!Number.isFinite(score)) continue;
      const vector = typeof set!['Vector'] === 'string' ? (set!['Vector'] as string) : undefined;
      for (const id of ids(set!['ProductID'])) cvss.set(id, { score, vector });
    }
    for (const r of arr(vuln['Remediations'])) {
      const rem = obj(r);
      const type = rem?.['Type'];
      if (!(type === 2 || type === 'Vendor Fix')) continue;
      const build = typeof rem!['FixedBuild'] === 'string' ? (rem!['FixedBuild'] as string).trim() : '';
      if (!WINDOWS_BUILD.test(build)) {
        skip(report, build === '' ? 'vendor fix without FixedBuild' : 'FixedBuild not 10.0.<build>.<UBR> (not Windows)');
        continue;
      }
      if (/hotpatch/i.test(String(rem!['SubType'] ?? ''))) {
        skip(report, 'hotpatch update');
        continue;
      }
      const kbText = text(rem!['Description']) ?? '';
      const kb = /^(?:KB)?(\d{6,8})$/i.exec(kbText.trim())?.[1];
      if (kb === undefined) {
        skip(report, 'vendor fix without a KB number');
        continue;
      }
      for (const id of ids(rem!['ProductID'])) {
        const product = products.get(id);
        if (product === undefined || !/^(?:Microsoft )?Windows/i.test(product)) {
          skip(report, product === undefined ? 'ProductID not in the ProductTree' : 'not a Windows product');
          continue;
        }
        const c = cvss.get(id);
        report.fixes.push({
          cve, product, fixed_build: build, kb: `KB${kb}`,
          ...(title !== undefined ? { title } : {}),
          ...(severity.get(id) !== undefined ? { severity: severity.get(id)! } : {}),
          ...(c !== undefined ? { cvss_score: c.score, ...(c.vector !== undefined ? { cvss_vector: c.vector } : {}) } : {}),
          ...(exploited ? { exploited } : {}),
          ...(docId !== undefined ? { document: docId } : {}),
        });
      }
    }
  }
  return report;
}

/** A CVE→KB mapping array (`[{cve, patches: [{os, kb, fixedBuild, severity}]}]`) → rows. */
export function fromCveKbMapping(value: unknown, where: string, document?: string, report: ConvertReport = { fixes: [], skipped: {} }): ConvertReport {
  if (!Array.isArray(value)) throw new Error(`${where}: expected a JSON array of {cve, patches}`);
  for (const item of value) {
    const o = obj(item);
    const cve = typeof o?.['cve'] === 'string' ? (o['cve'] as string) : undefined;
    if (cve === undefined || !/^CVE-\d{4}-\d{4,}$/.test(cve)) {
      skip(report, 'entry without a CVE id');
      continue;
    }
    for (const p of arr(o!['patches'])) {
      const patch = obj(p);
      const os = typeof patch?.['os'] === 'string' ? (patch['os'] as string) : undefined;
      const raw = typeof patch?.['fixedBuild'] === 'string' ? (patch['fixedBuild'] as string) : '';
      const build = /^\d{4,6}\.\d{1,6}$/.test(raw) ? `10.0.${raw}` : raw;
      const kb = /^KB\d{6,8}$/i.exec(String(patch?.['kb'] ?? ''))?.[0]?.toUpperCase();
      if (os === undefined || !WINDOWS_BUILD.test(build) || kb === undefined) {
        skip(report, 'patch without product, Windows build or KB');
        continue;
      }
      const score = Number(patch!['severity']);
      const status = typeof patch!['exploitStatus'] === 'string' ? (patch!['exploitStatus'] as string) : '';
      report.fixes.push({
        cve, product: os, fixed_build: build, kb,
        ...(Number.isFinite(score) && score >= 0 && score <= 10 ? { cvss_score: score } : {}),
        ...(/Exploited:Yes/i.test(status) ? { exploited: true } : {}),
        ...(document !== undefined ? { document } : {}),
      });
    }
  }
  return report;
}

/** Rows sorted by CVE, product, build; exact duplicates dropped. */
export function windowsTable(fixes: readonly WindowsFix[], source: string): WindowsBuilds {
  const seen = new Set<string>();
  const out: WindowsFix[] = [];
  const key = (f: WindowsFix): string => `${f.cve}\u0000${f.product}\u0000${f.fixed_build}\u0000${f.kb}`;
  for (const f of [...fixes].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))) {
    const k = key(f);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return parseWindowsBuilds({ schema: WINDOWS_BUILDS_SCHEMA, source, fixes: out }, '(built table)');
}

export function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { out: { type: 'string' }, 'cve-kb-mapping': { type: 'string', multiple: true }, source: { type: 'string' }, document: { type: 'string' }, help: { type: 'boolean' } },
  });
  const mappings = values['cve-kb-mapping'] ?? [];
  if (values.help || values.out === undefined || (positionals.length === 0 && mappings.length === 0)) {
    console.error('usage: windows-builds --out windows-builds.json <cvrf.json>… [--cve-kb-mapping <file>]… [--document 2025-May] [--source TEXT]');
    return 2;
  }
  const report: ConvertReport = { fixes: [], skipped: {} };
  for (const f of positionals) fromCvrf(JSON.parse(readFileSync(f, 'utf8')), f, report);
  for (const f of mappings) fromCveKbMapping(JSON.parse(readFileSync(f, 'utf8')), f, values.document, report);
  const source = values.source ?? `Microsoft security update guide (MSRC CVRF): ${[...positionals, ...mappings].map((p) => basename(p)).join(', ')}`;
  const table = windowsTable(report.fixes, source);
  writeFileSync(values.out, JSON.stringify(table, null, 1) + '\n');
  console.log(`${values.out}: ${table.fixes.length} fixes (CVE × product)`);
  for (const [why, n] of Object.entries(report.skipped)) console.log(`  skipped ${n}: ${why}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(main(process.argv.slice(2)));
