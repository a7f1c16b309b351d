/**
 * The format of a check's `fields.yaml`: every ECS field the check emits, with its type. The fields
 * test holds checks to it, and the collector builds its index templates from the same files.
 */
import { isIP } from 'node:net';
import { parse } from 'yaml';
import { z } from 'zod';
import { FINDING_KINDS } from '../../common/finding.js';

/** Elasticsearch mapping types we use. keyword/ip/date/text values are strings, long/float numbers. */
export const FIELD_TYPES = ['keyword', 'text', 'ip', 'date', 'long', 'float', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const fieldSpecSchema = z.object({
  name: z.string().regex(/^[@a-z0-9_]+(\.[a-z0-9_]+)*$/, 'a dotted ECS name in lower case'),
  type: z.enum(FIELD_TYPES),
  list: z.boolean().default(false).describe('The value is a list of this type'),
  kinds: z.array(z.enum(FINDING_KINDS)).min(1).describe('Finding kinds that carry the field'),
  description: z.string().min(1),
}).strict();

export const fieldsFileSchema = z.object({
  check: z.string().min(1),
  fields: z.array(fieldSpecSchema).min(1),
}).strict();

export type FieldSpec = z.output<typeof fieldSpecSchema>;
export type FieldsFile = z.output<typeof fieldsFileSchema>;

/** Parses and validates a fields.yaml text; throws with the first problem and its path. */
export function parseFieldsFile(text: string, file: string): FieldsFile {
  const result = fieldsFileSchema.safeParse(parse(text));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const seen = new Set<string>();
  for (const f of result.data.fields) {
    if (seen.has(f.name)) throw new Error(`${file}: field ${f.name} is declared twice`);
    seen.add(f.name);
  }
  return result.data;
}

/** Whether a value fits its declared type (a list: each element fits; `ip`: a bare IPv4/IPv6 address). */
export function valueFits(spec: FieldSpec, value: unknown): boolean {
  if (spec.list) return Array.isArray(value) && value.every((v) => valueFits({ ...spec, list: false }, v));
  if (Array.isArray(value)) return false;
  switch (spec.type) {
    case 'long':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0;
    default:
      return typeof value === 'string';
  }
}
