#!/usr/bin/env node
/**
 * `npm test`: the whole suite in two vitest runs —
 *   1. everything that needs no search engine (unit, SQLite store contract, real gRPC/TLS, end to end);
 *   2. the Elasticsearch/OpenSearch suites, whose global setup starts both engines and stops them after
 *      (skipped loudly without Java/Maven; with CI=true that skip is a failure).
 * Then one closing line for people and CI: "N passed, N failed, N skipped", and which store backends the
 * shared contract suite ran against.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = mkdtempSync(join(tmpdir(), 'canhgac-test-'));
const vitest = join('node_modules', '.bin', 'vitest');
const extra = process.argv.slice(2);

function phase(name, args) {
  const file = join(out, `${name}.json`);
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(vitest, ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${file}`, ...extra], { stdio: 'inherit' });
  let report;
  try { report = JSON.parse(readFileSync(file, 'utf8')); } catch { report = undefined; }
  return { code: r.status ?? 1, report };
}

const phases = [
  phase('unit, sqlite, grpc and end-to-end', []),
  phase('search engines (elasticsearch, opensearch)', ['--config', 'test/setup/vitest.search.config.ts']),
];
rmSync(out, { recursive: true, force: true });

let passed = 0, failed = 0, skipped = 0, brokenFiles = 0;
const contract = new Map();
for (const { report } of phases) {
  if (!report) continue;
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  // A test file that fails to load has no failed tests but is a failure all the same.
  brokenFiles += (report.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((t) => t.status === 'failed')).length;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      const suite = (t.ancestorTitles ?? []).find((a) => a.startsWith('store contract: '));
      if (!suite) continue;
      const name = suite.slice('store contract: '.length);
      const c = contract.get(name) ?? { passed: 0, failed: 0, skipped: 0 };
      if (t.status === 'passed') c.passed++; else if (t.status === 'failed') c.failed++; else c.skipped++;
      contract.set(name, c);
    }
  }
}
console.log('\nstore contract suite ran against:');
for (const [name, c] of contract) console.log(`  ${name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
const code = phases.some((p) => p.code !== 0 || !p.report) ? 1 : 0;
if (brokenFiles) console.log(`\n${brokenFiles} test file(s) failed to load (counted as failed)`);
console.log(`\n${passed} passed, ${failed + brokenFiles} failed, ${skipped} skipped`);
process.exit(code);
