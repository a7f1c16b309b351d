/**
 * OSV records (the Open Source Vulnerability schema) and ecosystems.
 *
 * Parsing is tolerant: unknown fields are ignored, so newer schema versions still load;
 * only what matching needs is checked. Debian records name the CVE they describe in
 * `upstream` rather than `aliases`; both are kept.
 */
import { z } from 'zod';
import { VulnCodes, VulnError } from './errors.js';
import { DPKG_ORDER, RPM_ORDER, type VersionOrder } from './version/index.js';

const eventSchema = z.object({
  introduced: z.string().min(1).optional(),
  fixed: z.string().min(1).optional(),
  last_affected: z.string().min(1).optional(),
  limit: z.string().min(1).optional(),
}).refine((e) => [e.introduced, e.fixed, e.last_affected, e.limit].filter((x) => x !== undefined).length === 1, {
  message: 'an event has exactly one of introduced, fixed, last_affected, limit',
});

const rangeSchema = z.object({
  type: z.string().min(1),
  repo: z.string().optional(),
  events: z.array(eventSchema).min(1),
});

const severitySchema = z.object({ type: z.string().min(1), score: z.string().min(1) });

const looseObject = z.record(z.string(), z.unknown());

const affectedSchema = z.object({
  package: z.object({
    ecosystem: z.string().min(1),
    name: z.string().min(1),
    purl: z.string().optional(),
  }).optional(),
  ranges: z.array(rangeSchema).optional(),
  versions: z.array(z.string()).optional(),
  severity: z.array(severitySchema).optional(),
  ecosystem_specific: looseObject.optional(),
  database_specific: looseObject.optional(),
});

export const osvRecordSchema = z.object({
  schema_version: z.string().optional(),
  id: z.string().min(1),
  modified: z.string().optional(),
  published: z.string().optional(),
  withdrawn: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  upstream: z.array(z.string()).optional(),
  related: z.array(z.string()).optional(),
  summary: z.string().optional(),
  details: z.string().optional(),
  severity: z.array(severitySchema).optional(),
  affected: z.array(affectedSchema).default([]),
  database_specific: looseObject.optional(),
});

export type OsvRecord = z.infer<typeof osvRecordSchema>;
export type OsvAffected = z.infer<typeof affectedSchema>;
export type OsvRange = z.infer<typeof rangeSchema>;
export type OsvEvent = z.infer<typeof eventSchema>;
export type OsvSeverity = z.infer<typeof severitySchema>;

function describeIssues(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
}

/** One record; throws COLLECTOR_OSV_INVALID naming `where` and the offending field. */
export function parseOsvRecord(value: unknown, where: string): OsvRecord {
  const r = osvRecordSchema.safeParse(value);
  if (!r.success) {
    throw new VulnError(VulnCodes.OSV_INVALID, `not a usable OSV record: ${describeIssues(r.error)}`, { where });
  }
  return r.data;
}

/** A JSON array of records (the `osv/<ecosystem>.json` files of a bundle). */
export function parseOsvArray(value: unknown, where: string): OsvRecord[] {
  if (!Array.isArray(value)) throw new VulnError(VulnCodes.OSV_INVALID, 'expected a JSON array of OSV records', { where });
  return value.map((v, i) => parseOsvRecord(v, `${where}[${i}]${typeof (v as { id?: unknown })?.id === 'string' ? ` (${(v as { id: string }).id})` : ''}`));
}

/**
 * Errata: a distribution's update advisory (AlmaLinux ALSA/ALBA/ALEA, Rocky RLSA/RLBA/RLEA, Red Hat
 * RHSA/RHBA/RHEA, Ubuntu USN/LSN). Their OSV records list the CVEs the update fixes in `related`
 * (ALSA-2024:4312 → CVE-2024-6387), not in `aliases`.
 */
const ERRATA_ID = /^(?:AL|RL|RH)[SBE]A-\d{4}:\d+$|^(?:USN|LSN)-\d+-\d+$/;
const CVE_ID = /^CVE-\d{4}-\d+$/;

/**
 * Aliases and upstream ids of a record, without duplicates and without the record's own id; for an
 * erratum also the CVE ids in its `related` (the CVEs it fixes — so the KEV flag and `cves` work for
 * AlmaLinux and Rocky advisories). `related` of other records (other advisories about a similar
 * issue) is not an alias and is left out.
 */
export function recordAliases(r: OsvRecord): string[] {
  const out = new Set<string>();
  const fixes = ERRATA_ID.test(r.id) ? (r.related ?? []).filter((x) => CVE_ID.test(x)) : [];
  for (const a of [...(r.aliases ?? []), ...(r.upstream ?? []), ...fixes]) if (a !== r.id) out.add(a);
  return [...out];
}

// ---------------------------------------------------------------- ecosystems

export interface Ecosystem {
  /** As OSV spells it: "Debian:12", "Ubuntu:22.04:LTS", "Rocky Linux:9", "AlmaLinux:9". */
  name: string;
  family: 'Debian' | 'Ubuntu' | 'Rocky Linux' | 'AlmaLinux' | 'Red Hat';
  /** The version order of its ECOSYSTEM ranges. */
  order: VersionOrder;
  /**
   * Debian and Ubuntu advisories are keyed by source package; rpm distributions list the
   * binary packages (the source package is tried when no binary name is listed).
   */
  keyedBySource: boolean;
}

const LTS = /^(\d\d)\.04$/;

/** Validates an OSV ecosystem name for an operating system and says how to match it. */
export function parseEcosystem(name: string): Ecosystem {
  const parts = name.split(':');
  const [family] = parts;
  const fail = (detail: string, hint: string): never => {
    throw new VulnError(VulnCodes.ECOSYSTEM_UNKNOWN, `"${name}" is not an ecosystem Canh Gác can match: ${detail}`, { hint });
  };
  switch (family) {
    case 'Debian':
      if (parts.length !== 2 || !/^\d+$/.test(parts[1]!)) fail('Debian ecosystems are "Debian:<major release>"', 'e.g. Debian:12');
      return { name, family: 'Debian', order: DPKG_ORDER, keyedBySource: true };
    case 'Ubuntu': {
      const rest = parts[1] === 'Pro' ? parts.slice(2) : parts.slice(1);
      const release = rest[0] ?? '';
      if (!/^\d\d\.\d\d$/.test(release)) fail('Ubuntu ecosystems are "Ubuntu:<YY.MM>[:LTS]"', 'e.g. Ubuntu:22.04:LTS or Ubuntu:Pro:18.04:LTS');
      const lts = LTS.exec(release);
      const isLts = lts !== null && Number(lts[1]) % 2 === 0;
      if (isLts && rest[1] !== 'LTS') fail(`${release} is an LTS release and OSV names it with the ":LTS" suffix`, `use ${parts[1] === 'Pro' ? 'Ubuntu:Pro:' : 'Ubuntu:'}${release}:LTS`);
      if (rest.length > (isLts ? 2 : 1) || (!isLts && rest[1] !== undefined)) fail('unexpected parts after the release', 'e.g. Ubuntu:22.04:LTS or Ubuntu:23.10');
      return { name, family: 'Ubuntu', order: DPKG_ORDER, keyedBySource: true };
    }
    case 'Rocky Linux':
    case 'AlmaLinux':
      if (parts.length !== 2 || !/^\d+$/.test(parts[1]!)) fail(`${family} ecosystems are "${family}:<major release>"`, `e.g. ${family}:9`);
      return { name, family, order: RPM_ORDER, keyedBySource: false };
    case 'Red Hat':
      if (parts.length < 2) fail('Red Hat ecosystems are "Red Hat:<product>"', 'e.g. Red Hat:enterprise_linux:9::baseos');
      return { name, family: 'Red Hat', order: RPM_ORDER, keyedBySource: false };
    default:
      return fail('only Debian, Ubuntu, Rocky Linux, AlmaLinux and Red Hat ecosystems are matched', 'e.g. Debian:12, Ubuntu:22.04:LTS, Rocky Linux:9, AlmaLinux:9');
  }
}

export function isKnownEcosystem(name: string): boolean {
  try {
    parseEcosystem(name);
    return true;
  } catch {
    return false;
  }
}
