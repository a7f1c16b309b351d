/** npm run bench -- [wire|store|…]: runs benchmarks and writes their sections of docs/benchmarks.md. */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { programDir } from '../../collector/app.js';
import { benchWire } from './wire.js';
import { runStoreBench } from './store.js';
import { benchFim } from './fim.js';
import { benchVuln, vulnReport, HEAVY, TYPICAL } from './vuln.js';

export function writeSection(name: string, body: string): void {
  const file = join(programDir(), 'docs', 'benchmarks.md');
  const head = '# Benchmarks\n\nWritten by `npm run bench`; each section is replaced by its benchmark. Ratios compare against a reference measured in the same run on the same machine.\n';
  let text = existsSync(file) ? readFileSync(file, 'utf8') : head;
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const re = new RegExp(`${start}[\\s\\S]*?${end}`);
  text = re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
}

const machine = (): string => `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;

const BENCHES: Record<string, () => Promise<void>> = {
  store: runStoreBench,
  async fim() {
    const { body, ratio } = await benchFim(machine());
    writeSection('fim', body);
    console.log(body);
    console.log(`fim baseline ratio vs sha256sum: ${ratio.toFixed(2)}`);
  },
  async vuln() {
    const load = loadavg();
    const { body, headline } = vulnReport([benchVuln(TYPICAL), benchVuln(HEAVY)], machine(), load);
    writeSection('vuln', body);
    console.log(body);
    console.log(headline);
  },
  async wire() {
    const { rows, bytes } = await benchWire();
    const lines = rows.map(([what, r, s]) => `| ${what} | ${r.toFixed(0)} | ${s.toFixed(0)} | ${(r / s).toFixed(2)} |`);
    const body = `## Wire codec: 500-finding batch (${bytes} bytes)\n\n${machine()}. Batches per second (higher is better).\n\n| operation | reflection | static (pbjs) | reflection / static |\n|---|---|---|---|\n${lines.join('\n')}\n\nReproduce: \`npm run bench -- wire\`.`;
    writeSection('wire', body);
    console.log(body);
    const ratio = Math.min(...rows.map(([, r, s]) => r / s));
    console.log(`wire reflection vs static (worst of encode/decode): ${ratio.toFixed(2)}`);
  },
};

async function main(): Promise<void> {
  const which = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = which.length ? which : Object.keys(BENCHES);
  for (const n of names) {
    const b = BENCHES[n];
    if (!b) {
      console.error(`unknown benchmark ${n}; known: ${Object.keys(BENCHES).join(', ')}`);
      process.exit(2);
    }
    await b();
  }
}

await main();
