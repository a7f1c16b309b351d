/**
 * YAML configuration files validated by zod, with errors that name the file and line of the offending
 * value and say what was expected.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, type Node } from 'yaml';
import type { z } from 'zod';
import { CanhGacError } from './errors.js';

export class ConfigError extends CanhGacError {}

function nodeAt(doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[]): Node | undefined {
  let node: unknown = doc.contents;
  let last: Node | undefined = doc.contents ?? undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === String(key));
      if (!pair) return last;
      last = (pair.key as Node) ?? last;
      node = pair.value;
      if (node) last = node as Node;
    } else if (isSeq(node)) {
      node = node.items[Number(key)];
      if (node) last = node as Node;
    } else return last;
  }
  return last;
}

/** Parses and validates `text` (the content of `file`); throws ConfigError with file:line. */
export function parseYamlConfig<S extends z.ZodType>(text: string, file: string, schema: S, code = 'CONFIG_INVALID'): z.infer<S> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    // linePos is only filled with prettyErrors; the offset is always there.
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
    const tab = /\btab/i.test(e.message) || /^ *\t/m.test(text.split('\n')[line - 1] ?? '');
    throw new ConfigError(code, `not valid YAML: ${e.message.split('\n')[0]}`, {
      where: `${file}:${line}`, hint: tab ? 'indent with spaces: YAML does not allow tabs for indentation' : 'fix the YAML syntax at that line',
    });
  }
  const value = doc.toJS() ?? {};
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  // zod reports an unknown key at its parent's path; the person needs the line of the key itself.
  const keys = issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys ?? [] : [];
  const node = nodeAt(doc, keys.length ? [...issue.path, keys[0]!] : issue.path);
  const line = node?.range ? lc.linePos(node.range[0]).line : 1;
  const at = issue.path.length ? issue.path.join('.') : '(top level)';
  const extra = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem${r.error.issues.length > 2 ? 's' : ''})` : '';
  throw new ConfigError(code, `${at}: ${issue.message}${extra}`, { where: `${file}:${line}`, hint: 'see the configuration reference in README.md' });
}

export function loadYamlConfig<S extends z.ZodType>(file: string, schema: S, code = 'CONFIG_INVALID'): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(code, `cannot read the configuration file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where: file, cause: e });
  }
  return parseYamlConfig(text, file, schema, code);
}

/**
 * The line of the value at `path` in the YAML file, for errors found after loading (e.g. the store
 * section, validated by the store itself); undefined when the file or the key is not there.
 */
export function yamlLineOf(file: string, path: readonly string[]): number | undefined {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return undefined; }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length || !isMap(doc.contents) || !doc.contents.items.some((p) => String((p.key as { value?: unknown })?.value) === path[0])) return undefined;
  const node = nodeAt(doc, path);
  return node?.range ? lc.linePos(node.range[0]).line : undefined;
}
