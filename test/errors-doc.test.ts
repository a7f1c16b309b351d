/**
 * Every stable error code used in the code is documented in docs/errors.md, and the doc lists no code
 * that no longer exists (STYLE 6: errors have codes; the list and its docs stay in step).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const CODE = /['"`]((?:AGENT|COLLECTOR|STORE)_[A-Z0-9]+(?:_[A-Z0-9]+)*)['"`]/g;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures' || name === 'testing') continue;
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function codesInCode(): Set<string> {
  const codes = new Set<string>();
  for (const dir of ['agent', 'collector', 'common', 'proto']) {
    for (const f of sources(join(ROOT, dir))) {
      for (const m of readFileSync(f, 'utf8').matchAll(CODE)) codes.add(m[1]!);
    }
  }
  return codes;
}

describe('docs/errors.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `((?:AGENT|COLLECTOR|STORE)_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));

  it('documents every error code the code can raise', () => {
    const missing = [...codesInCode()].filter((c) => !documented.has(c)).sort();
    expect(missing, `add these to docs/errors.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('documents no code that the code no longer has', () => {
    const inCode = codesInCode();
    const stale = [...documented].filter((c) => !inCode.has(c)).sort();
    expect(stale, `remove from docs/errors.md: ${stale.join(', ')}`).toEqual([]);
  });
});
