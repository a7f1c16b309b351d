/**
 * The real tools as oracles for the version-order tests: dpkg and rpm, asked about many
 * pairs at once. Test support only; nothing in the collector calls this.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ordering } from '../version/types.js';

export function toolAvailable(command: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export { prng } from '../../../common/prng.js';

function runSh(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || err.length > 0) reject(new Error(`sh exited ${code}: ${err.slice(0, 2000)}`));
      else resolve(out);
    });
    child.stdin.end(script);
  });
}

const SAFE = /^[A-Za-z0-9.+~:_^-]+$/;

/**
 * `dpkg --compare-versions` on every pair: one `sh` per worker runs a line per pair
 * (`lt`, then `gt`, else equal). Versions must be shell-safe (checked).
 */
export async function dpkgCompareMany(pairs: ReadonlyArray<readonly [string, string]>, workers = 2): Promise<Ordering[]> {
  for (const [a, b] of pairs) {
    if (!SAFE.test(a) || !SAFE.test(b)) throw new Error(`not shell-safe: ${a} / ${b}`);
  }
  const chunk = Math.ceil(pairs.length / workers);
  const jobs: Promise<string>[] = [];
  for (let w = 0; w < workers; w++) {
    const lines: string[] = [];
    for (let k = w * chunk; k < Math.min(pairs.length, (w + 1) * chunk); k++) {
      const [a, b] = pairs[k]!;
      lines.push(`if dpkg --compare-versions '${a}' lt '${b}'; then echo ${k} -1; elif dpkg --compare-versions '${a}' gt '${b}'; then echo ${k} 1; else echo ${k} 0; fi`);
    }
    jobs.push(runSh(lines.join('\n') + '\n'));
  }
  const results: Ordering[] = new Array(pairs.length);
  for (const out of await Promise.all(jobs)) {
    for (const line of out.split('\n')) {
      if (line === '') continue;
      const [k, r] = line.split(' ');
      results[Number(k)] = Number(r) as Ordering;
    }
  }
  for (let k = 0; k < pairs.length; k++) {
    if (results[k] === undefined) throw new Error(`dpkg gave no answer for pair ${k}`);
  }
  return results;
}

/**
 * `rpm.vercmp` on every pair in ONE `rpm --eval` run: a Lua loop reads the pairs from a
 * file (tab-separated) and prints one result per line.
 */
export function rpmVercmpMany(pairs: ReadonlyArray<readonly [string, string]>): Ordering[] {
  const dir = mkdtempSync(join(tmpdir(), 'cg-rpmvercmp-'));
  try {
    const file = join(dir, 'pairs.tsv');
    writeFileSync(file, pairs.map(([a, b]) => {
      if (/[\t\n]/.test(a + b)) throw new Error(`tab or newline in ${a} / ${b}`);
      return `${a}\t${b}`;
    }).join('\n') + '\n');
    // No "%" in the Lua code: rpm would expand it as a macro.
    const lua = [
      'local out = {}',
      'for line in io.lines(rpm.expand("%{_cg_pairs}")) do',
      '  local tab = string.find(line, "\\t", 1, true)',
      '  out[#out + 1] = tostring(rpm.vercmp(string.sub(line, 1, tab - 1), string.sub(line, tab + 1)))',
      'end',
      'print(table.concat(out, "\\n"))',
    ].join('\n');
    const r = spawnSync('rpm', ['--define', `_cg_pairs ${file}`, '--eval', `%{lua:${lua}}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.error !== undefined || r.status !== 0) throw new Error(`rpm failed: ${r.error?.message ?? r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    if (lines.length !== pairs.length) throw new Error(`rpm gave ${lines.length} answers for ${pairs.length} pairs: ${r.stderr.slice(0, 500)}`);
    return lines.map((l) => Math.sign(Number(l)) as Ordering);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
