/**
 * Parser for the Windows Update Agent search for updates not installed (`IUpdateSearcher.Search(
 * 'IsInstalled=0 and IsHidden=0')` → Select-Object Title, MsrcSeverity, RebootRequired, UpdateID,
 * RevisionNumber, KBArticleIDs, CveIDs, SecurityBulletinIDs, CategoryIDs → ConvertTo-Json). Text in,
 * pending updates out, no I/O.
 *
 * The answer means something only when the host reaches its update source (Windows Update or the
 * agency's WSUS): offline, the search fails or returns what the last successful scan knew. Like
 * `apt list --upgradable` on Linux it is supplementary; "security updates pending" comes from the
 * vulnerability findings.
 *
 * Security is decided without localised text: MsrcSeverity is one of Microsoft's fixed English
 * words (Critical, Important, Moderate, Low) whatever the display language, and the update
 * classification "Security Updates" has the fixed category id 0fa1201d-4330-4fa8-8ae9-b877473b6441.
 * KB ids come from KBArticleIDs (digits), else from the title.
 */
import { psGet, psInt, psList, psRows, psString, type PsRow } from './powershell-json.js';
import { kbIdsInTitle } from './update-history.js';

/** The "Security Updates" classification (WSUS / Windows Update category id). */
export const SECURITY_UPDATES_CATEGORY = '0fa1201d-4330-4fa8-8ae9-b877473b6441';

const SEVERITIES = ['Critical', 'Important', 'Moderate', 'Low'] as const;
export type MsrcSeverity = typeof SEVERITIES[number];

export interface PendingUpdate {
  /** KB ids (`KB4538461`); empty for updates without one (some drivers, definition packages). */
  kbs: string[];
  title?: string;
  updateId?: string;
  revision?: number;
  severity?: MsrcSeverity;
  /** MsrcSeverity set, or classified as a security update. */
  security: boolean;
  cves: string[];
  categoryIds: string[];
  rebootRequired?: boolean;
}

export interface PendingUpdatesParse { updates: PendingUpdate[]; malformed: number }

/** An array property's strings (a lone value when PowerShell unrolled a one-element array, or `{ value, Count }`). */
const strings = (value: unknown): string[] => psList(value) ?? [];

export function pendingUpdate(row: PsRow): PendingUpdate | undefined {
  const title = psString(psGet(row, 'Title'));
  const updateId = psString(psGet(row, 'UpdateID'));
  if (title === undefined && updateId === undefined) return undefined;
  const fromArticles = strings(psGet(row, 'KBArticleIDs')).filter((id) => /^(KB)?\d{4,8}$/i.test(id)).map((id) => `KB${id.replace(/^KB/i, '')}`);
  const kbs = fromArticles.length > 0 ? [...new Set(fromArticles)] : kbIdsInTitle(title ?? '');
  const sev = psString(psGet(row, 'MsrcSeverity'));
  const severity = SEVERITIES.find((s) => s.toLowerCase() === sev?.toLowerCase());
  const categoryIds = strings(psGet(row, 'CategoryIDs')).map((c) => c.toLowerCase());
  const u: PendingUpdate = {
    kbs,
    security: severity !== undefined || categoryIds.includes(SECURITY_UPDATES_CATEGORY),
    cves: strings(psGet(row, 'CveIDs')).filter((c) => /^CVE-\d{4}-\d{4,}$/i.test(c)).map((c) => c.toUpperCase()),
    categoryIds,
  };
  const revision = psInt(psGet(row, 'RevisionNumber'));
  const reboot = psGet(row, 'RebootRequired');
  if (title !== undefined) u.title = title;
  if (updateId !== undefined) u.updateId = updateId;
  if (revision !== undefined) u.revision = revision;
  if (severity !== undefined) u.severity = severity;
  if (typeof reboot === 'boolean') u.rebootRequired = reboot;
  return u;
}

export function parsePendingUpdates(text: string): PendingUpdatesParse {
  const updates: PendingUpdate[] = [];
  let malformed = 0;
  for (const row of psRows(text)) {
    const u = pendingUpdate(row);
    if (u === undefined) malformed++;
    else updates.push(u);
  }
  return { updates, malformed };
}
