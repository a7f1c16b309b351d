/**
 * The format of an SCA policy (rules/sca/*.yaml, DESIGN §3.6): policy metadata, requirements that
 * decide whether it applies to a host, and checks made of typed, read-only probes combined with
 * `condition: all | any | none`. A probe names what to look at (a file, a sysctl, the effective sshd
 * configuration…) and what to expect; it never carries a command. One zod schema, strict everywhere.
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';

const scalar = z.union([z.string(), z.number()]);

/** Expectations on one value; all that are given must hold. */
const expect = {
  equals: scalar.optional().describe('The value equals this (strings: exactly; numbers: numerically).'),
  in: z.array(scalar).min(1).optional().describe('The value is one of these.'),
  not_in: z.array(scalar).min(1).optional().describe('The value is none of these.'),
  gte: z.number().optional().describe('The value is a number ≥ this.'),
  lte: z.number().optional().describe('The value is a number ≤ this.'),
  matches: z.string().optional().describe('The value matches this regular expression (JavaScript syntax).'),
  not_matches: z.string().optional().describe('The value does not match this regular expression.'),
};
/** What a missing value (key not set) means for the probe. */
const missing = z.enum(['pass', 'fail', 'not_applicable']).optional().describe('Result when the value is not set (default fail).');
const mode = z.string().regex(/^0?[0-7]{3,4}$/, 'an octal mode such as "0640"');
const unit = z.string().regex(/^[A-Za-z0-9@._\\:-]+$/, 'a unit or service name');
const regKey = z.string().regex(/^(HKLM|HKCU|HKU|HKCR|HKCC)\\[^"\r\n]+$/, 'a registry key such as HKLM\\SOFTWARE\\…');

export const probeSchema = z.union([
  z.object({ file: z.string().startsWith('/'), exists: z.boolean().optional(), mode_max: mode.optional(), owner: z.string().optional(), group: z.string().optional(), contains: z.string().optional(), not_contains: z.string().optional() }).strict(),
  z.object({ directory: z.string().startsWith('/'), exists: z.boolean().optional(), mode_max: mode.optional(), owner: z.string().optional(), group: z.string().optional() }).strict(),
  z.object({ sysctl: z.string().regex(/^[a-z0-9_.-]+$/), ...expect, missing }).strict(),
  z.object({ package: z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/), installed: z.boolean() }).strict(),
  z.object({ service: unit, enabled: z.boolean().optional(), active: z.boolean().optional() }).strict(),
  z.object({ sshd: z.string().regex(/^[a-z0-9]+$/), ...expect, missing }).strict(),
  z.object({ login_defs: z.string().regex(/^[A-Z_]+$/), ...expect, missing }).strict(),
  z.object({ config: z.string().startsWith('/'), key: z.string().min(1), ...expect, missing }).strict(),
  z.object({ pam: z.string().regex(/^[a-z0-9_-]+$/), type: z.enum(['auth', 'account', 'password', 'session']), module: z.string().regex(/^pam_[a-z0-9_]+\.so$/), present: z.boolean().default(true), arg: z.string().optional(), ...expect, missing }).strict(),
  z.object({ firewall: z.literal('linux'), default_inbound: z.enum(['deny', 'allow']) }).strict(),
  z.object({ registry: regKey, value: z.string().min(1), ...expect, missing }).strict(),
  z.object({ net_accounts: z.string().min(1), ...expect, missing }).strict(),
  z.object({
    auditpol: z.string().min(1).describe('The subcategory (English name, as auditpol prints it on an English system; used in evidence).'),
    guid: z.string().regex(/^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/, 'a subcategory GUID such as {0CCE9215-69AE-11D9-BED3-505054503030}').optional()
      .describe('The subcategory GUID: matched instead of the name, which auditpol prints in the display language.'),
    includes: z.array(z.enum(['Success', 'Failure'])).min(1),
  }).strict(),
  z.object({ local_user: z.string().regex(/^[A-Za-z0-9_$ .-]+$/), active: z.boolean() }).strict(),
]);
export type Probe = z.output<typeof probeSchema>;

const ruleSet = z.object({
  condition: z.enum(['all', 'any', 'none']),
  rules: z.array(probeSchema).min(1),
}).strict();

const text = z.string().min(1);

export const checkSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ -'),
  title: text,
  description: text.optional(),
  rationale: text.optional(),
  remediation: text,
  compliance: z.object({
    cis: z.array(z.string()).min(1),
    nist_800_53: z.array(z.string()).min(1),
    tcvn: z.array(z.string()).min(1),
  }).strict(),
  i18n: z.object({ vi: z.object({ title: text, remediation: text.optional() }).strict() }).strict().optional(),
  condition: z.enum(['all', 'any', 'none']),
  rules: z.array(probeSchema).min(1),
}).strict();
export type ScaCheck = z.output<typeof checkSchema>;

export const policySchema = z.object({
  policy: z.object({
    id: z.string().regex(/^[a-z0-9_]+$/),
    title: text,
    description: text.optional(),
    version: z.string().optional(),
    /** Which agent platforms may run it (process.platform values). */
    platforms: z.array(z.enum(['linux', 'win32', 'darwin'])).min(1),
    /** What the compliance ids refer to: catalogue names, for people and exports. */
    references: z.record(z.string(), z.string()).optional(),
  }).strict(),
  requirements: ruleSet.extend({ title: text }).strict(),
  checks: z.array(checkSchema).min(1),
}).strict();
export type Policy = z.output<typeof policySchema>;

/** Parses a policy file; throws an Error naming the file, line and path of the first problem. */
export function parsePolicy(source: string, file: string): Policy {
  const doc = parseDocument(source, { keepSourceTokens: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new Error(`${file}:${e.linePos?.[0]?.line ?? 0}: ${e.message}`);
  }
  const result = policySchema.safeParse(doc.toJS());
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  const ids = new Set<string>();
  for (const c of result.data.checks) {
    if (ids.has(c.id)) throw new Error(`${file}: check id ${c.id} is used twice`);
    ids.add(c.id);
  }
  return result.data;
}
