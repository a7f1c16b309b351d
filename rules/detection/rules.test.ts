/**
 * The shipped ruleset: it loads without errors, every rule passes its own tests file
 * (`<slug>.tests.yaml`: findings that must and must not match), the whole ruleset stays quiet on
 * the benign corpus (test/corpus/benign.yaml) except for listed known false positives, and
 * docs/rules.md lists exactly the shipped rules. Every rule's Vietnamese texts (x-canhgac.i18n.vi) must be
 * present, differ from the English ones and contain Vietnamese letters.
 *
 * Correlation rules (`correlation:` instead of `detection:`) are tested with sequences of findings
 * fed in time order to one stateful evaluator: each case has `events`, steps of `finding` copied
 * `repeat` times `every` apart ({n} in a string value becomes the copy's number).
 *
 * `UPDATE_DOCS=1 npx vitest run rules` rewrites the rule list in docs/rules.md.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeError } from '../../common/errors.js';
import { evaluate, matchingRules } from '../../collector/engine/evaluate.js';
import { createEvaluator } from '../../collector/engine/evaluator.js';
import { recordFromFlat } from '../../collector/engine/flat-finding.js';
import { listRuleFiles, loadRuleSet } from '../../collector/engine/loader.js';
import type { CompiledRule } from '../../collector/engine/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const set = loadRuleSet(here);
const rules = set.rules;

const Case = z.record(z.string(), z.unknown()).refine((c) => typeof c.kind === 'string', 'each finding needs a kind');
const TestsFile = z.strictObject({
  match: z.array(Case).min(1),
  no_match: z.array(Case).min(1),
});

const Step = z.strictObject({
  repeat: z.number().int().min(1).max(10_000).default(1),
  every: z.string().regex(/^\d+(ms|s|m)$/, 'a duration such as 500ms, 1s or 2m').default('1s'),
  finding: Case,
});
const Scenario = z.strictObject({ case: z.string().min(1), events: z.array(Step).min(1) });
const CorrelationTestsFile = z.strictObject({
  match: z.array(Scenario).min(1),
  no_match: z.array(Scenario).min(1),
});

const Corpus = z.strictObject({
  known_false_positives: z.array(z.strictObject({ rule: z.uuid(), case: z.string().min(1), reason: z.string().min(20) })),
  findings: z.array(Case.refine((c) => typeof c.case === 'string' && c.case.length > 0, 'each corpus finding needs a case name')),
});

function testsFileOf(rule: CompiledRule): string {
  return rule.file.replace(/\.ya?ml$/i, '.tests.yaml');
}

function label(c: Record<string, unknown>, i: number): string {
  return typeof c.case === 'string' ? `#${i + 1} "${c.case}"` : `#${i + 1}`;
}

function record(flat: Record<string, unknown>, n: number) {
  try {
    return recordFromFlat(flat, n);
  } catch (e) {
    throw new Error(`finding ${label(flat, n)}: ${(e as Error).message}`);
  }
}

/** Rules whose detection matches the finding (also building blocks that raise no alert of their own). */
function matchedRules(flat: Record<string, unknown>, n: number): string[] {
  return matchingRules(rules, record(flat, n)).matched.map((r) => r.id);
}

/** Rules that raise an alert for the finding. */
function firedRules(flat: Record<string, unknown>, n: number): string[] {
  return evaluate(rules, record(flat, n)).map((a) => a.rule.id);
}

/** Letters only Vietnamese uses here: đ and the vowels with tone marks or hats (NFC). */
const VI_LETTER = /[đĐàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ]/u;

/** Why a Vietnamese text cannot be taken as a translation of `en`: missing, a copy, or without any Vietnamese letter. */
function untranslated(where: string, vi: string | undefined, en: string): string[] {
  if (vi === undefined || vi.trim() === '') return [`${where}: no Vietnamese text`];
  if (vi.trim() === en.trim()) return [`${where}: identical to the English text`];
  if (!VI_LETTER.test(vi.normalize('NFC'))) return [`${where}: no Vietnamese diacritics`];
  return [];
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };
const stepMs = (every: string): number => { const m = /^(\d+)(ms|s|m)$/.exec(every)!; return Number(m[1]) * DURATION_MS[m[2]!]!; };
const numbered = (v: unknown, i: number): unknown => (typeof v === 'string' ? v.replaceAll('{n}', String(i)) : v);

/** Feeds a scenario to a fresh evaluator with the whole ruleset; whether `ruleId` raised an alert. */
function scenarioFires(ruleId: string, scenario: z.output<typeof Scenario>): boolean {
  const ev = createEvaluator(rules);
  let t = Date.parse('2025-01-15T08:30:00.000Z');
  let n = 0;
  for (const step of scenario.events) {
    for (let i = 1; i <= step.repeat; i++) {
      const flat: Record<string, unknown> = Object.fromEntries(Object.entries(step.finding).map(([k, v]) => [k, numbered(v, i)]));
      flat['@timestamp'] ??= new Date(t).toISOString();
      flat['event.id'] ??= `scenario-finding-${n}`;
      if (ev.evaluate(record(flat, n++)).some((a) => a.rule.id === ruleId)) return true;
      t += stepMs(step.every);
    }
  }
  return false;
}

describe('shipped ruleset', () => {
  it('loads without errors', () => {
    expect(set.errors.map((e) => describeError(e))).toEqual([]);
    expect(rules.length).toBeGreaterThanOrEqual(12);
  });

  it('every rule cites MITRE, NIST 800-53, CIS v8 and TCVN 11930:2017, and has Vietnamese and English text', () => {
    for (const r of rules) {
      const where = relative(root, r.file);
      expect(r.tags.mitre.length, where).toBeGreaterThan(0);
      for (const framework of ['tcvn_11930_2017', 'nist_800_53', 'cis_v8']) {
        expect(r.tags.compliance[framework]?.length ?? 0, `${where}: ${framework}`).toBeGreaterThan(0);
      }
      const i18n = r.doc['x-canhgac'].i18n;
      expect(i18n.vi.remediation.length, where).toBeGreaterThan(40);
      expect(i18n.en.remediation.length, where).toBeGreaterThan(40);
      expect(r.dedupFields, `${where}: give an explicit x-canhgac.dedup.key`).toBeDefined();
    }
  });

  it('every rule\'s Vietnamese title, remediation and description are translated, not copied', () => {
    const problems: string[] = [];
    for (const r of rules) {
      const where = relative(root, r.file);
      const { vi, en } = r.doc['x-canhgac'].i18n;
      problems.push(...untranslated(`${where} title`, vi.title, r.title));
      problems.push(...untranslated(`${where} remediation`, vi.remediation, en.remediation));
      if (vi.description !== undefined) problems.push(...untranslated(`${where} description`, vi.description, en.description ?? r.doc.description));
    }
    expect(problems).toEqual([]);
  });

  it('the translation guard catches a missing, copied or diacritic-free text (hand-written cases)', () => {
    expect(untranslated('x', '', 'Hosts file changed')).toEqual(['x: no Vietnamese text']);
    expect(untranslated('x', 'Hosts file changed ', 'Hosts file changed')).toEqual(['x: identical to the English text']);
    expect(untranslated('x', 'Tep hosts bi thay doi', 'Hosts file changed')).toEqual(['x: no Vietnamese diacritics']);
    expect(untranslated('x', 'Tệp hosts bị thay đổi', 'Hosts file changed')).toEqual([]);
    expect(untranslated('x', 'Tệp hosts bị thay đổi'.normalize('NFD'), 'Hosts file changed')).toEqual([]);
  });

  it('rule files live in a folder named after their category, and every tests file has a rule', () => {
    for (const r of rules) expect(basename(dirname(r.file)), relative(root, r.file)).toBe(r.category);
    const ruleFiles = new Set(rules.map((r) => r.file));
    const testsFiles = (readdirSync(here, { recursive: true }) as string[]).filter((f) => /\.tests\.ya?ml$/.test(f));
    const orphans = testsFiles.filter((t) => ![t.replace(/\.tests\.ya?ml$/, '.yml'), t.replace(/\.tests\.ya?ml$/, '.yaml')].some((f) => ruleFiles.has(join(here, f))));
    expect(orphans).toEqual([]);
    expect(listRuleFiles(here).length).toBe(rules.length);
  });
});

describe.each(rules.filter((r) => !r.correlation).map((r) => [relative(here, r.file), r] as const))('%s', (_name, rule) => {
  const file = testsFileOf(rule);

  it('has a tests file with match and no_match cases', () => {
    expect(existsSync(file), `missing ${relative(root, file)}`).toBe(true);
    const parsed = TestsFile.safeParse(parse(readFileSync(file, 'utf8')));
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
  });

  const tests = existsSync(file) ? TestsFile.safeParse(parse(readFileSync(file, 'utf8'))) : undefined;
  const cases = tests?.success ? tests.data : { match: [], no_match: [] };

  it.each(cases.match.map((c, i) => [label(c, i), c, i] as const))('matches %s', (_l, c, i) => {
    expect(matchedRules(c, i)).toContain(rule.id);
  });

  it.each(cases.no_match.map((c, i) => [label(c, i), c, i] as const))('does not match %s', (_l, c, i) => {
    expect(matchedRules(c, i)).not.toContain(rule.id);
  });
});

describe.each(rules.filter((r) => r.correlation).map((r) => [relative(here, r.file), r] as const))('%s (correlation)', (_name, rule) => {
  const file = testsFileOf(rule);

  it('has a tests file with match and no_match sequences', () => {
    expect(existsSync(file), `missing ${relative(root, file)}`).toBe(true);
    const parsed = CorrelationTestsFile.safeParse(parse(readFileSync(file, 'utf8')));
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
  });

  const tests = existsSync(file) ? CorrelationTestsFile.safeParse(parse(readFileSync(file, 'utf8'))) : undefined;
  const cases = tests?.success ? tests.data : { match: [], no_match: [] };

  it.each(cases.match.map((c) => [c.case, c] as const))('fires on "%s"', (_l, c) => {
    expect(scenarioFires(rule.id, c)).toBe(true);
  });

  it.each(cases.no_match.map((c) => [c.case, c] as const))('does not fire on "%s"', (_l, c) => {
    expect(scenarioFires(rule.id, c)).toBe(false);
  });
});

describe('benign corpus', () => {
  const corpusFile = join(root, 'test', 'corpus', 'benign.yaml');
  const parsed = Corpus.safeParse(parse(readFileSync(corpusFile, 'utf8')));

  it('is well-formed and large enough', () => {
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
    const findings = parsed.success ? parsed.data.findings : [];
    expect(findings.length).toBeGreaterThanOrEqual(60);
    const kinds = new Set(findings.map((f) => f.kind));
    for (const k of ['host', 'package', 'listener', 'fim']) expect(kinds.has(k), k).toBe(true);
    const names = findings.map((f) => f.case);
    expect(names.length).toBe(new Set(names).size);
  });

  it('raises no alert except listed known false positives, and every listed one still fires', () => {
    if (!parsed.success) return;
    const { findings, known_false_positives: known } = parsed.data;
    const knownKeys = new Set(known.map((k) => `${k.rule} ${k.case}`));
    const unexpected: string[] = [];
    const seen = new Set<string>();
    const stateful = createEvaluator(rules);
    findings.forEach((f, i) => {
      const ids = new Set([...firedRules(f, i), ...stateful.evaluate(record(f, i)).map((a) => a.rule.id)]);
      for (const id of ids) {
        const key = `${id} ${String(f.case)}`;
        seen.add(key);
        if (!knownKeys.has(key)) {
          const r = rules.find((x) => x.id === id)!;
          unexpected.push(`"${String(f.case)}" fired ${relative(root, r.file)} (${id})`);
        }
      }
    });
    expect(unexpected).toEqual([]);
    const stale = [...knownKeys].filter((k) => !seen.has(k));
    expect(stale, 'known_false_positives entries that no longer fire: remove them').toEqual([]);
  });
});

describe('docs/rules.md', () => {
  const docFile = join(root, 'docs', 'rules.md');
  const START = '<!-- rules:start (generated by rules/detection/rules.test.ts; UPDATE_DOCS=1 to refresh) -->';
  const END = '<!-- rules:end -->';

  const escape = (s: string) => s.replace(/\|/g, '\\|');
  const table = [
    '| id | file | kind | level | title | MITRE |',
    '|---|---|---|---|---|---|',
    ...[...rules]
      .sort((a, b) => (a.file < b.file ? -1 : 1))
      .map((r) => `| \`${r.id}\` | [${relative(here, r.file)}](../rules/detection/${relative(here, r.file)}) | ${r.category} | ${r.level} | ${escape(r.title)}<br>${escape(r.doc['x-canhgac'].i18n.vi.title)} | ${r.tags.mitre.join(', ')} |`),
  ].join('\n');

  it('lists every shipped rule (UPDATE_DOCS=1 refreshes the list)', () => {
    const doc = readFileSync(docFile, 'utf8');
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start, `docs/rules.md needs the markers ${START} … ${END}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const current = doc.slice(start + START.length, end).trim();
    if (current !== table && process.env.UPDATE_DOCS === '1') {
      writeFileSync(docFile, `${doc.slice(0, start + START.length)}\n${table}\n${doc.slice(end)}`);
      return;
    }
    expect(current).toBe(table);
    for (const r of rules) expect(doc).toContain(r.id);
  });
});
