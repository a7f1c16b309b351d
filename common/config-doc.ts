/**
 * Renders a zod schema as a Markdown table of dotted option names, types, defaults and descriptions.
 * The README's configuration reference is generated from the schemas with it (a test keeps it in step).
 */
import { z } from 'zod';

interface J {
  type?: string | string[]; enum?: unknown[]; items?: J; default?: unknown; description?: string;
  properties?: Record<string, J>; anyOf?: J[]; minimum?: number; maximum?: number; additionalProperties?: unknown;
}

function typeOf(p: J): string {
  if (p.enum) return p.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (p.anyOf) return p.anyOf.map(typeOf).filter((t) => t !== 'null').join(' \\| ');
  if (p.type === 'array') return `list of ${p.items ? typeOf(p.items) : 'value'}`;
  const t = Array.isArray(p.type) ? p.type.join('/') : (p.type ?? 'value');
  if (p.minimum !== undefined && p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER) return `${t} (${p.minimum}–${p.maximum})`;
  if (p.minimum !== undefined && p.minimum > Number.MIN_SAFE_INTEGER) return `${t} (≥ ${p.minimum})`;
  return t;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function walk(p: J, prefix: string, rows: string[]): void {
  if (p.properties && p.type === 'object') {
    if (prefix && p.description) rows.push(`| \`${prefix}\` | section | | ${cell(p.description)} |`);
    for (const [k, v] of Object.entries(p.properties)) walk(v, prefix ? `${prefix}.${k}` : k, rows);
    return;
  }
  const def = p.default === undefined ? '' : `\`${JSON.stringify(p.default)}\``;
  rows.push(`| \`${prefix}\` | ${typeOf(p)} | ${def} | ${cell(p.description ?? '')} |`);
}

export function configTable(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as J;
  const rows: string[] = [];
  walk(json, '', rows);
  return ['| option | type | default | description |', '|---|---|---|---|', ...rows].join('\n');
}
