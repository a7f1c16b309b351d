/**
 * Severity of an advisory for one affected package: the CVSS base score computed with
 * ae-cvss-calculator from the record's vector, or, without a usable vector, the word the
 * distribution uses (database_specific / ecosystem_specific severity, Ubuntu priority,
 * Debian urgency), or "unknown".
 */
import cvssCalculator from 'ae-cvss-calculator';
import type { OsvAffected, OsvRecord, OsvSeverity } from './osv.js';

export const VULN_SEVERITIES = ['none', 'low', 'medium', 'high', 'critical', 'unknown'] as const;
export type VulnSeverity = (typeof VULN_SEVERITIES)[number];

export interface Cvss {
  version: '2.0' | '3.0' | '3.1' | '4.0';
  vector: string;
  baseScore: number;
}

export interface SeverityInfo {
  severity: VulnSeverity;
  /** CVSS base score, when a vector was usable. */
  score: number | null;
  cvss: Cvss | null;
  /** Where the severity came from, for the explanation. */
  source: 'cvss' | 'distribution' | 'none';
  /** The distribution's own word, when that is what was used ("medium", "unimportant", …). */
  label?: string;
}

/** OSV severity types in order of preference: CVSS 3.x first (most feeds and dashboards rank on it), then 4.0, then 2.0. */
const PREFERENCE = ['CVSS_V3', 'CVSS_V4', 'CVSS_V2'];

const cache = new Map<string, Cvss | null>();

/** What we use of ae-cvss-calculator's vector objects (its `fromVector` is typed `any`). */
interface ParsedVector {
  isBaseFullyDefined(): boolean;
  getVectorName(): string;
  calculateScores(): { base?: number; overall: number };
}

/** The base score of a CVSS vector (2.0, 3.0, 3.1 or 4.0); null when the vector is not complete and valid. */
export function cvssBase(vector: string): Cvss | null {
  const hit = cache.get(vector);
  if (hit !== undefined) return hit;
  let out: Cvss | null = null;
  try {
    const v = cvssCalculator.fromVector(vector) as ParsedVector | null;
    if (v !== null && v !== undefined && v.isBaseFullyDefined()) {
      const scores = v.calculateScores();
      const name = v.getVectorName();
      const version = name === 'CVSS:2.0' ? '2.0' : name === 'CVSS:3.0' ? '3.0' : name === 'CVSS:3.1' ? '3.1' : name === 'CVSS:4.0' ? '4.0' : undefined;
      const base = scores.base ?? scores.overall;
      if (version !== undefined && Number.isFinite(base)) out = { version, vector, baseScore: base };
    }
  } catch {
    out = null;
  }
  if (cache.size > 50_000) cache.clear();
  cache.set(vector, out);
  return out;
}

/** Qualitative rating of a base score, per the CVSS specification of that version. */
export function ratingOf(cvss: Cvss): VulnSeverity {
  const s = cvss.baseScore;
  if (cvss.version === '2.0') return s < 4 ? 'low' : s < 7 ? 'medium' : 'high';
  if (s === 0) return 'none';
  return s < 4 ? 'low' : s < 7 ? 'medium' : s < 9 ? 'high' : 'critical';
}

const WORDS: Record<string, VulnSeverity> = {
  critical: 'critical',
  high: 'high',
  important: 'high',
  medium: 'medium',
  moderate: 'medium',
  low: 'low',
  negligible: 'low',
  unimportant: 'low',
};

function fromVectors(list: readonly OsvSeverity[] | undefined): Cvss | null {
  if (list === undefined) return null;
  for (const type of PREFERENCE) {
    for (const s of list) {
      if (s.type !== type) continue;
      const c = cvssBase(s.score);
      if (c !== null) return c;
    }
  }
  return null;
}

/**
 * The severity word that starts an erratum's summary: AlmaLinux, Rocky and Red Hat advisories
 * rate the update there ("Important: openssh security update") and nowhere else in their OSV records.
 */
function summaryWord(record: OsvRecord): string | undefined {
  if (!/^(?:AL|RL|RH)[SBE]A-/.test(record.id)) return undefined;
  return /^(Critical|Important|Moderate|Low):/.exec(record.summary ?? '')?.[1];
}

function word(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const w = value.trim().toLowerCase();
  return WORDS[w] === undefined ? undefined : w;
}

/** Severity of `record` for one of its affected entries (entry-level data wins over record-level). */
export function severityOf(record: OsvRecord, affected: OsvAffected | undefined): SeverityInfo {
  const cvss = fromVectors(affected?.severity) ?? fromVectors(record.severity);
  if (cvss !== null) return { severity: ratingOf(cvss), score: cvss.baseScore, cvss, source: 'cvss' };
  const candidates: unknown[] = [
    affected?.ecosystem_specific?.['severity'],
    affected?.database_specific?.['severity'],
    record.database_specific?.['severity'],
    ...[...(affected?.severity ?? []), ...(record.severity ?? [])].filter((s) => s.type === 'Ubuntu').map((s) => s.score),
    affected?.ecosystem_specific?.['ubuntu_priority'],
    affected?.ecosystem_specific?.['urgency'],
    summaryWord(record),
  ];
  for (const c of candidates) {
    const w = word(c);
    if (w !== undefined) return { severity: WORDS[w]!, score: null, cvss: null, source: 'distribution', label: w };
  }
  return { severity: 'unknown', score: null, cvss: null, source: 'none' };
}

/**
 * The distribution's own word for how much the issue matters in it, whatever the CVSS says:
 * Debian's urgency (`unimportant`, `low`, `not yet assigned`…), an Ubuntu priority, a
 * database-specific severity. Lower case; undefined when there is none.
 */
export function distributionRating(record: OsvRecord, affected: OsvAffected | undefined): string | undefined {
  const candidates: unknown[] = [
    affected?.ecosystem_specific?.['urgency'],
    ...[...(affected?.severity ?? []), ...(record.severity ?? [])].filter((s) => s.type === 'Ubuntu').map((s) => s.score),
    affected?.ecosystem_specific?.['ubuntu_priority'],
    affected?.ecosystem_specific?.['severity'],
    affected?.database_specific?.['severity'],
    record.database_specific?.['severity'],
    summaryWord(record),
  ];
  for (const c of candidates) if (typeof c === 'string' && c.trim() !== '') return c.trim().toLowerCase();
  return undefined;
}
