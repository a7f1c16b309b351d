import { z } from 'zod';
import { FINDING_KINDS } from '../../common/finding.js';
import { SEVERITIES } from '../store/types.js';

/**
 * The shape of one rule file (DESIGN §3.5), checked before compiling. Strict: an unknown key is an
 * error, so a typo such as `x-canhgac.dedupe` is reported instead of silently ignored.
 * `detection` is only checked for being a map here; compile.ts checks selections and the condition.
 */

/** Flat ECS field name as used in findings: `file.path`, `@timestamp`, `server.port`. */
export const FIELD_NAME = /^[A-Za-z0-9_@][A-Za-z0-9_.@-]*$/;
const FieldName = z.string().regex(FIELD_NAME, 'expected a flat ECS field name such as file.path');

/** `30s`, `15m`, `24h`, `7d`. */
const DURATION = /^(\d+)(s|m|h|d)$/;
const Duration = z.string().regex(DURATION, 'expected a duration such as 15m, 24h or 7d');

const Text = z.string().trim().min(1);
const TextList = z.array(Text);
const SigmaDate = z.string().regex(/^\d{4}[-/]\d{2}[-/]\d{2}$/, 'expected a date YYYY-MM-DD');

export const RULE_STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] as const;

const Compliance = z
  .strictObject({
    tcvn_11930_2017: TextList.optional(),
    nist_800_53: TextList.optional(),
    cis_v8: TextList.optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined && v.length > 0), {
    message: 'cite at least one control (tcvn_11930_2017, nist_800_53 or cis_v8)',
  });

const CanhGacBlock = z.strictObject({
  kind: z.enum(['event', 'state']),
  dedup: z
    .strictObject({
      key: z.array(FieldName).min(1),
      suppress: Duration.optional(),
    })
    .optional(),
  compliance: Compliance,
  mitre: z.array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'expected a MITRE ATT&CK technique id such as T1053.003')).default([]),
  i18n: z.strictObject({
    vi: z.strictObject({ title: Text, remediation: Text, description: Text.optional() }),
    en: z.strictObject({ remediation: Text, title: Text.optional(), description: Text.optional() }),
  }),
});

export const RuleDocSchema = z.strictObject({
  title: Text.max(256),
  id: z.uuid('expected a UUID such as 0b6e4f7a-2c1d-4e5f-9a8b-7c6d5e4f3a2b'),
  name: Text.optional(),
  related: z.array(z.strictObject({ id: z.uuid(), type: z.enum(['derived', 'obsolete', 'merged', 'renamed', 'similar']) })).optional(),
  status: z.enum(RULE_STATUSES),
  level: z.enum(SEVERITIES),
  description: Text,
  author: Text.optional(),
  date: SigmaDate.optional(),
  modified: SigmaDate.optional(),
  references: TextList.optional(),
  falsepositives: TextList.optional(),
  license: Text.optional(),
  fields: z.array(FieldName).optional(),
  tags: z.array(z.string().regex(/^[a-z0-9_-]+\.[a-z0-9_.-]+$/i, 'expected a Sigma tag such as attack.persistence')).default([]),
  logsource: z.strictObject({
    product: z.literal('canhgac'),
    category: z.enum(FINDING_KINDS),
    service: Text.optional(),
    definition: Text.optional(),
  }),
  detection: z.record(z.string(), z.unknown()),
  'x-canhgac': CanhGacBlock,
});

export type RuleDoc = z.infer<typeof RuleDocSchema>;

/** `24h` → milliseconds. Assumes the string passed the schema. */
export function durationMs(s: string): number {
  const m = DURATION.exec(s);
  if (!m) throw new Error(`not a duration: ${s}`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
