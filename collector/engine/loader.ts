import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { toLoadError, tryCompileRule, type Locator } from './compile.js';
import { resolveCorrelations } from './correlation.js';
import { RuleCodes, RuleLoadError } from './errors.js';
import { yamlLocator } from './locate.js';
import type { CompiledRule } from './types.js';

/** A rule file is small; anything bigger is a mistake (a data dump saved as .yml). */
export const MAX_RULE_FILE_BYTES = 256 * 1024;

export interface RuleSet {
  rules: CompiledRule[];
  errors: RuleLoadError[];
}

/** Rule files under `dir`, sorted, relative paths. Tests files (`*.tests.yaml`) and dot-files are skipped. */
export function listRuleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const entries = readdirSync(join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? join(rel, e.name) : e.name;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        // Follow links to files; not to folders, so a link loop cannot hang the collector.
        try { isFile = statSync(join(dir, r)).isFile(); isDir = false; } catch { isFile = false; }
      }
      if (isDir) walk(r);
      else if (isFile && isRuleFileName(e.name)) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

export function isRuleFileName(name: string): boolean {
  return /\.ya?ml$/i.test(name) && !/\.tests\.ya?ml$/i.test(name);
}

/** Parses and compiles one rule file. Never throws: problems come back as errors with file and line. */
export function loadRuleFile(file: string, text: string): { rule: CompiledRule | undefined; errors: RuleLoadError[]; locate?: Locator } {
  const lc = new LineCounter();
  const at = (offset: number) => {
    const p = lc.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length === 0) {
    return { rule: undefined, errors: [new RuleLoadError(RuleCodes.SCHEMA, 'the file holds no rule (it is empty)', { file, line: 1, column: 1 })] };
  }
  const first = docs[0]!;
  const yamlErrors = docs.flatMap((d) => d.errors);
  if (yamlErrors.length > 0) {
    return {
      rule: undefined,
      errors: yamlErrors.slice(0, 5).map((e) => new RuleLoadError(RuleCodes.YAML, `YAML: ${e.message}`, { ...at(e.pos[0]), cause: e })),
    };
  }
  if (docs.length > 1) {
    const second = docs[1]!;
    const offset = second.range[0];
    return { rule: undefined, errors: [new RuleLoadError(RuleCodes.MULTIPLE_DOCUMENTS, `the file holds ${docs.length} YAML documents; a rule file holds exactly one rule`, at(offset))] };
  }

  let raw: unknown;
  try {
    raw = first.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { rule: undefined, errors: [new RuleLoadError(RuleCodes.YAML, `YAML: ${(e as Error).message}`, { file, line: 1, column: 1, cause: e })] };
  }
  const locate = yamlLocator(first, lc);
  const r = tryCompileRule(raw, file);
  if (r.rule) return { rule: r.rule, errors: [], locate };
  const id = raw !== null && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : undefined;
  return { rule: undefined, errors: r.problems.map((p) => toLoadError(p, { file, locate }, id)), locate };
}

/**
 * Loads every rule file (`*.yml`, `*.yaml`, not `*.tests.yaml`) under `dir`, recursively.
 * A bad rule is skipped and reported; the others load. A second file with an id already seen is
 * an error for that second file (files are read in sorted order). Never throws.
 */
export function loadRuleSet(dir: string): RuleSet {
  const rules: CompiledRule[] = [];
  const errors: RuleLoadError[] = [];
  let files: string[];
  try {
    files = listRuleFiles(dir);
  } catch (e) {
    errors.push(new RuleLoadError(RuleCodes.READ, `cannot read the rules folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: dir, line: 0, column: 0, cause: e }));
    return { rules, errors };
  }

  const seen = new Map<string, string>();
  const locators = new Map<string, Locator | undefined>();
  for (const rel of files) {
    const file = join(dir, rel);
    let text: string;
    try {
      const size = statSync(file).size;
      if (size > MAX_RULE_FILE_BYTES) {
        errors.push(new RuleLoadError(RuleCodes.TOO_LARGE, `the file is ${size} bytes; a rule file may be at most ${MAX_RULE_FILE_BYTES}`, { file, line: 0, column: 0 }));
        continue;
      }
      text = readFileSync(file, 'utf8');
    } catch (e) {
      errors.push(new RuleLoadError(RuleCodes.READ, `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file, line: 0, column: 0, cause: e }));
      continue;
    }
    const r = loadRuleFile(file, text);
    errors.push(...r.errors);
    if (!r.rule) continue;
    const firstFile = seen.get(r.rule.id);
    if (firstFile !== undefined) {
      const pos = r.locate ? r.locate(['id'], false) : { line: 0, column: 0 };
      errors.push(new RuleLoadError(RuleCodes.DUPLICATE_ID, `rule id ${r.rule.id} is already used by ${firstFile}`, { file, ...pos, ruleId: r.rule.id }));
      continue;
    }
    seen.set(r.rule.id, file);
    locators.set(r.rule.id, r.locate);
    rules.push(r.rule);
  }
  // Correlation rules name their base rules: connect them now that every file is loaded.
  const resolved = resolveCorrelations(rules);
  for (const p of resolved.problems) {
    const locate = locators.get(p.rule.id);
    const pos = locate ? locate(p.index >= 0 ? ['correlation', 'rules', p.index] : ['correlation'], p.index < 0) : { line: 0, column: 0 };
    errors.push(new RuleLoadError(RuleCodes.CORRELATION, p.message, { file: p.rule.file, ...pos, ruleId: p.rule.id }));
  }
  return { rules: resolved.rules, errors };
}
