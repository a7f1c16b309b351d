/**
 * Windows build-to-fix matching (DESIGN §3.7): the bundle's `windows-builds.json` lists, per CVE and
 * Microsoft product, the build that fixes it (`10.0.<build>.<UBR>`) and the KB of that update, as
 * Microsoft's security update guide (the MSRC CVRF documents) publishes them. A Windows host is
 * affected when its build is on the same servicing branch (same build number, same product class:
 * client or server) and its UBR is lower than the fixed UBR. Cumulative updates raise the UBR
 * monotonically per branch, so one comparison decides; the fix's KB among the installed hotfixes
 * does not make the host fixed while its UBR is lower (installed, not yet running: restart pending).
 *
 * Built by scripts/feed/windows-builds.ts from CVRF documents; docs/vulnerability-data.md §2.
 */
import { z } from 'zod';
import type { Fields } from '../../common/finding.js';
import { VulnCodes, VulnError } from './errors.js';
import type { KevEntry } from './kev.js';
import type { VulnMatch } from './match.js';
import type { VulnSeverity } from './severity.js';

export const WINDOWS_BUILDS_SCHEMA = 'canhgac-windows-builds/1';

const FIXED_BUILD = /^10\.0\.(\d{4,6})\.(\d{1,6})$/;

const fixSchema = z.object({
  cve: z.string().regex(/^CVE-\d{4}-\d{4,}$/, 'a CVE id'),
  /** Microsoft's product name, as the update guide spells it. */
  product: z.string().min(1),
  /** `10.0.<build>.<UBR>`. */
  fixed_build: z.string().regex(FIXED_BUILD, '10.0.<build>.<UBR>'),
  kb: z.string().regex(/^KB\d{6,8}$/, 'KB followed by the article number'),
  title: z.string().optional(),
  /** Microsoft's severity word (Critical, Important, Moderate, Low). */
  severity: z.string().optional(),
  cvss_score: z.number().min(0).max(10).optional(),
  cvss_vector: z.string().optional(),
  /** Microsoft says it is exploited in the wild. */
  exploited: z.boolean().optional(),
  /** The CVRF document (month) it comes from: 2025-May. */
  document: z.string().optional(),
}).passthrough();

export const windowsBuildsSchema = z.object({
  schema: z.literal(WINDOWS_BUILDS_SCHEMA),
  /** Where the table comes from, in words. */
  source: z.string().min(1),
  fixes: z.array(fixSchema),
}).passthrough();

export type WindowsFix = z.infer<typeof fixSchema>;
export type WindowsBuilds = z.infer<typeof windowsBuildsSchema>;

/** Parses `windows-builds.json`; COLLECTOR_WINDOWS_BUILDS_INVALID names the entry and field at fault. */
export function parseWindowsBuilds(value: unknown, where: string): WindowsBuilds {
  const r = windowsBuildsSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new VulnError(VulnCodes.WINDOWS_BUILDS_INVALID, `not a Windows fixed-build table: ${issue.path.join('.') || '(top)'}: ${issue.message}`, {
      where, hint: `expected {"schema":"${WINDOWS_BUILDS_SCHEMA}","source":…,"fixes":[{"cve","product","fixed_build","kb",…}]}; build it with scripts/feed/windows-builds`,
    });
  }
  // Rows the matcher would misread: a product that is not Windows (its build is not an OS build), or a
  // product of the class a known servicing branch does not have (a mapping error that would silently
  // leave that branch without data).
  r.data.fixes.forEach((fix, i) => {
    const fail = (what: string): never => {
      throw new VulnError(VulnCodes.WINDOWS_BUILDS_INVALID, `not a Windows fixed-build table: fixes.${i} (${fix.cve}, "${fix.product}"): ${what}`, {
        where, hint: 'rebuild the table with scripts/feed/windows-builds from the MSRC documents; rows are matched by build number and client/server class',
      });
    };
    if (!/^(?:Microsoft )?Windows\b/i.test(fix.product)) fail('the product is not Windows, and its fixed_build would be read as a Windows build');
    const build = Number(FIXED_BUILD.exec(fix.fixed_build)![1]);
    const branch = BRANCHES.get(build);
    const cls = productFacts(fix.product).class;
    if (branch !== undefined && branch[cls] === undefined) {
      fail(`build ${build} is ${Object.values(branch).join(' / ')}, which has no Windows ${cls === 'server' ? 'Server' : 'client'} release`);
    }
  });
  return r.data;
}

/** Client or server: builds 14393, 17763 and 26100 are shared by a Windows 10/11 release and a Windows Server. */
export type ProductClass = 'client' | 'server';

/**
 * Servicing branches by build number → the product of each class (the names Microsoft's update
 * guide uses, without architecture or installation suffix).
 */
const BRANCHES: ReadonlyMap<number, Partial<Record<ProductClass, string>>> = new Map([
  [10240, { client: 'Windows 10 Version 1507' }],
  [14393, { client: 'Windows 10 Version 1607', server: 'Windows Server 2016' }],
  [17763, { client: 'Windows 10 Version 1809', server: 'Windows Server 2019' }],
  [19044, { client: 'Windows 10 Version 21H2' }],
  [19045, { client: 'Windows 10 Version 22H2' }],
  [20348, { server: 'Windows Server 2022' }],
  [22621, { client: 'Windows 11 Version 22H2' }],
  [22631, { client: 'Windows 11 Version 23H2' }],
  [25398, { server: 'Windows Server 2022, 23H2 Edition' }],
  [26100, { client: 'Windows 11 Version 24H2', server: 'Windows Server 2025' }],
  [26200, { client: 'Windows 11 Version 25H2' }],
]);

export type WindowsArch = 'x64' | 'ARM64' | '32-bit';

/** The class and architecture a product name of the update guide states. */
export function productFacts(product: string): { class: ProductClass; arch: WindowsArch | undefined } {
  const arch = /for x64-based Systems/i.test(product) ? 'x64' : /for ARM64-based Systems/i.test(product) ? 'ARM64' : /for 32-bit Systems/i.test(product) ? '32-bit' : undefined;
  return { class: /^(?:Microsoft )?Windows Server/i.test(product) ? 'server' : 'client', arch };
}

interface IndexedFix {
  fix: WindowsFix;
  build: number;
  ubr: number;
  class: ProductClass;
  arch: WindowsArch | undefined;
}

export interface WindowsIndex {
  /** Build number → fixes of that servicing branch. */
  readonly byBuild: ReadonlyMap<number, readonly IndexedFix[]>;
  readonly source: string;
  readonly fixes: number;
}

export function buildWindowsIndex(table: WindowsBuilds): WindowsIndex {
  const byBuild = new Map<number, IndexedFix[]>();
  for (const fix of table.fixes) {
    const m = FIXED_BUILD.exec(fix.fixed_build)!;
    const build = Number(m[1]);
    const facts = productFacts(fix.product);
    const list = byBuild.get(build) ?? [];
    list.push({ fix, build, ubr: Number(m[2]), ...facts });
    byBuild.set(build, list);
  }
  return { byBuild, source: table.source, fixes: table.fixes.length };
}

/** A Windows host as the inventory describes it (`host` finding fields). */
export interface WindowsHost {
  version: string;
  build: number;
  ubr: number;
  class: ProductClass | undefined;
  arch: WindowsArch | undefined;
  /** The product of its branch and class ("Windows Server 2022"), when known. */
  product: string | undefined;
}

function str(f: Fields, k: string): string | undefined {
  return typeof f[k] === 'string' && f[k] !== '' ? (f[k] as string) : undefined;
}

/**
 * The Windows host of a `host` finding, or why it cannot be matched. `host.os.version` must be
 * `10.0.<build>.<UBR>`; client or server comes from `host.os.edition` (EditionID: Server…) or
 * `host.os.name` (ProductName "Windows Server …"), needed only on builds both share.
 */
export function windowsHostOf(f: Fields): WindowsHost | { reason: string } {
  const version = str(f, 'host.os.version');
  const m = version === undefined ? null : FIXED_BUILD.exec(version);
  if (!m) {
    const q = JSON.stringify(version ?? null);
    if (version === undefined) return { reason: 'the inventory has no host.os.version: the Windows build (10.0.<build>.<UBR>) cannot be compared' };
    if (/^10\.0\.\d{4,6}$/.test(version)) return { reason: `host.os.version ${q} has no UBR (update build revision): the installed cumulative update is unknown, so the build cannot be compared with fixed builds` };
    const nt = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
    if (nt && Number(nt[1]) < 10) return { reason: `host.os.version ${q} is Windows NT ${nt[1]}.${nt[2]} (build ${nt[3]}), older than Windows 10: the fixed-build table covers Windows 10/11 and Server 2016 and later only` };
    return { reason: `host.os.version ${q} is not a Windows build 10.0.<build>.<UBR>` };
  }
  const build = Number(m[1]);
  const ubr = Number(m[2]);
  const edition = str(f, 'host.os.edition');
  const name = str(f, 'host.os.name');
  // EditionID "ServerRdsh" is Windows 10/11 Enterprise multi-session: a client product in Microsoft's
  // update guide (its fixes are listed under Windows 10/11), despite the "Server" in the id.
  const said = edition !== undefined ? (/server/i.test(edition) && !/^ServerRdsh$/i.test(edition) ? 'server' : 'client')
    : name !== undefined ? (/windows server/i.test(name) ? 'server' : 'client') : undefined;
  const branch = BRANCHES.get(build);
  const only = branch ? (Object.keys(branch) as ProductClass[]) : [];
  const cls = said ?? (only.length === 1 ? only[0] : undefined);
  const a = str(f, 'host.architecture')?.toLowerCase();
  const arch: WindowsArch | undefined = a === undefined ? undefined
    : ['x86_64', 'amd64', 'x64'].includes(a) ? 'x64' : ['arm64', 'aarch64'].includes(a) ? 'ARM64' : ['x86', 'i386', 'i686', 'ia32'].includes(a) ? '32-bit' : undefined;
  return { version: version!, build, ubr, class: cls, arch, product: cls === undefined ? undefined : branch?.[cls] };
}

export interface WindowsMatchResult {
  matches: VulnMatch[];
  /**
   * Matches whose fix KB is listed among the installed hotfixes while the host's UBR is still below
   * the fixed build: the update is installed but not running (a restart is pending, or it was rolled
   * back). They stay matches — the vulnerable build is what runs — with that in the explanation.
   */
  installedNotRunning: Array<{ cve: string; kb: string }>;
  /** Why nothing could be compared (unknown branch, client/server unknown…). */
  reason: string | undefined;
}

function severityWord(w: string | undefined): VulnSeverity | undefined {
  switch (w?.trim().toLowerCase()) {
    case 'critical': return 'critical';
    case 'important': return 'high';
    case 'moderate': return 'medium';
    case 'low': return 'low';
    default: return undefined;
  }
}

function scoreRating(s: number): VulnSeverity {
  return s === 0 ? 'none' : s < 4 ? 'low' : s < 7 ? 'medium' : s < 9 ? 'high' : 'critical';
}

/**
 * Matches one Windows host against the fixed-build index. `hotfixes` are the host's installed KBs
 * (`KB5046616`, upper case; from `hotfix` package items).
 */
export function matchWindows(host: WindowsHost, hotfixes: ReadonlySet<string>, index: WindowsIndex, kev: ReadonlyMap<string, KevEntry>): WindowsMatchResult {
  const out: WindowsMatchResult = { matches: [], installedNotRunning: [], reason: undefined };
  const branch = index.byBuild.get(host.build);
  if (branch === undefined) {
    out.reason = `the feed has no fixed-build data for build ${host.build}${host.product ? ` (${host.product})` : ''}`;
    return out;
  }
  if (host.class === undefined) {
    out.reason = `build ${host.build} is both a Windows client and a Windows Server release, and the inventory does not say which (host.os.edition / host.os.name)`;
    return out;
  }
  // One fix per CVE: the one for this class and architecture (an entry without architecture fits any).
  const best = new Map<string, IndexedFix>();
  const product = host.product ?? `Windows build ${host.build}`;
  const ofClass = branch.filter((e) => e.class === host.class);
  if (ofClass.length === 0) {
    // The build is in the table only for the other class (17763: Server 2019 rows, a Windows 10 1809
    // host): "nothing matched" would read as "nothing missing", so say it could not be compared.
    out.reason = `the feed has fixed-build data for build ${host.build} only for Windows ${host.class === 'server' ? 'client' : 'Server'} products, none for ${product} (${host.class})`;
    return out;
  }
  const fitting = ofClass.filter((e) => e.arch === undefined || host.arch === undefined || e.arch === host.arch);
  if (fitting.length === 0) {
    out.reason = `the feed has fixed-build data for ${product} (build ${host.build}) only for ${[...new Set(ofClass.map((e) => e.arch))].join(', ')}, none for ${host.arch}`;
    return out;
  }
  for (const e of fitting) {
    const prior = best.get(e.fix.cve);
    if (prior === undefined || e.ubr > prior.ubr || (e.ubr === prior.ubr && prior.arch === undefined && e.arch !== undefined)) best.set(e.fix.cve, e);
  }
  for (const e of [...best.values()].sort((a, b) => (a.fix.cve < b.fix.cve ? -1 : 1))) {
    if (host.ubr >= e.ubr) continue;
    // A cumulative update raises the UBR when it takes effect; its KB in the hotfix list (Windows
    // Update history says "succeeded" before the restart) with the old UBR still running means the
    // fix is not in force, so it is no reason to call the host fixed.
    const kbListed = hotfixes.has(e.fix.kb.toUpperCase());
    if (kbListed) out.installedNotRunning.push({ cve: e.fix.cve, kb: e.fix.kb });
    const k = kev.get(e.fix.cve);
    const fromScore = e.fix.cvss_score !== undefined ? scoreRating(e.fix.cvss_score) : undefined;
    const fromWord = severityWord(e.fix.severity);
    out.matches.push({
      id: e.fix.cve,
      aliases: [],
      cves: [e.fix.cve],
      summary: e.fix.title,
      ecosystem: 'Windows',
      package: { name: product, version: host.version, matchedOn: 'binary', binaries: [{ name: product, version: host.version, architecture: host.arch }] },
      installedVersion: host.version,
      fixedVersion: e.fix.fixed_build,
      fixAvailable: true,
      explanation: `installed ${host.version} < fixed ${e.fix.fixed_build} (${e.fix.kb}) for ${product}; same servicing branch (build ${host.build}), UBR ${host.ubr} < ${e.ubr}; `
        + (kbListed
          ? `${e.fix.kb} is listed as installed but the host still runs UBR ${host.ubr}: the update takes effect after a restart (restart pending, or the update was rolled back)`
          : `${e.fix.kb} is not among the installed hotfixes`),
      severity: fromScore ?? fromWord ?? 'unknown',
      score: e.fix.cvss_score ?? null,
      cvss: null,
      severitySource: fromScore !== undefined ? 'cvss' : fromWord !== undefined ? 'distribution' : 'none',
      distributionRating: e.fix.severity?.toLowerCase(),
      kev: k !== undefined,
      kevDateAdded: k?.dateAdded,
      modified: undefined,
    });
  }
  return out;
}

/** Installed KBs from the host's `hotfix` package items (`package.name` KB…). */
export function hotfixSet(packages: ReadonlyArray<{ fields: Fields }>): Set<string> {
  const out = new Set<string>();
  for (const p of packages) {
    if (p.fields['package.type'] !== 'hotfix') continue;
    const name = p.fields['package.name'];
    if (typeof name === 'string' && /^KB\d+$/i.test(name)) out.add(name.toUpperCase());
  }
  return out;
}
