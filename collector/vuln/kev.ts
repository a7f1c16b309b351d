/**
 * CISA's Known Exploited Vulnerabilities catalogue, in its published JSON shape
 * (`{ title, catalogVersion, dateReleased, count, vulnerabilities: [{ cveID, … }] }`).
 * A bundle may carry the whole catalogue or a subset in the same shape.
 */
import { z } from 'zod';
import { VulnCodes, VulnError } from './errors.js';

const kevEntrySchema = z.object({
  cveID: z.string().regex(/^CVE-\d{4}-\d{4,}$/, 'cveID must look like CVE-2023-4911'),
  vendorProject: z.string().optional(),
  product: z.string().optional(),
  vulnerabilityName: z.string().optional(),
  dateAdded: z.string().optional(),
  shortDescription: z.string().optional(),
  requiredAction: z.string().optional(),
  dueDate: z.string().optional(),
  knownRansomwareCampaignUse: z.string().optional(),
  notes: z.string().optional(),
  cwes: z.array(z.string()).optional(),
});

export const kevCatalogSchema = z.object({
  title: z.string().optional(),
  catalogVersion: z.string().optional(),
  dateReleased: z.string().optional(),
  count: z.number().int().nonnegative().optional(),
  vulnerabilities: z.array(kevEntrySchema),
});

export type KevEntry = z.infer<typeof kevEntrySchema>;
export type KevCatalog = z.infer<typeof kevCatalogSchema>;

export function parseKev(value: unknown, where: string): KevCatalog {
  const r = kevCatalogSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new VulnError(VulnCodes.KEV_INVALID, `not a KEV catalogue: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`, { where });
  }
  return r.data;
}

/** cveID → entry. */
export function kevIndex(catalog: KevCatalog | undefined): Map<string, KevEntry> {
  const m = new Map<string, KevEntry>();
  for (const v of catalog?.vulnerabilities ?? []) m.set(v.cveID, v);
  return m;
}
