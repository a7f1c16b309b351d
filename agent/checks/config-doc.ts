/**
 * The "Configuration" section of a check's README, generated from its zod schema so the two never
 * drift (a test compares them; CANHGAC_UPDATE_DOCS=1 rewrites the READMEs).
 */
import { z } from 'zod';

export const CONFIG_DOC_START = '<!-- config:start (generated from config.ts; do not edit) -->';
export const CONFIG_DOC_END = '<!-- config:end -->';

interface JsonProp {
  type?: string;
  enum?: unknown[];
  items?: { type?: string; enum?: unknown[] };
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
}

function typeOf(p: JsonProp): string {
  if (p.enum) return p.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (p.type === 'array') return `list of ${p.items?.enum ? p.items.enum.map((v) => `\`${String(v)}\``).join(' \\| ') : (p.items?.type ?? 'value')}`;
  const range = p.minimum !== undefined && p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER
    ? ` (${p.minimum}–${p.maximum})`
    : p.minimum !== undefined ? ` (≥ ${p.minimum})` : '';
  return `${p.type ?? 'value'}${range}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderConfigReference(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, JsonProp> };
  const rows = Object.entries(json.properties ?? {}).map(([key, p]) =>
    `| \`${key}\` | ${typeOf(p)} | \`${JSON.stringify(p.default)}\` | ${cell(p.description ?? '')} |`);
  return [
    CONFIG_DOC_START,
    '| option | type | default | description |',
    '|---|---|---|---|',
    ...rows,
    CONFIG_DOC_END,
  ].join('\n');
}

/** Replaces the generated block of a README (or returns undefined when it has none). */
export function replaceConfigReference(readme: string, block: string): string | undefined {
  const start = readme.indexOf(CONFIG_DOC_START);
  const end = readme.indexOf(CONFIG_DOC_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(0, start) + block + readme.slice(end + CONFIG_DOC_END.length);
}
