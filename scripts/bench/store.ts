/**
 * Store ingest into Elasticsearch vs a raw `_bulk` of the same documents, in the same run, on the same
 * engine (DESIGN §7: the store must reach ≥ 0.8× the raw bulk load).
 *
 *   npm run bench -- store        (or: node dist/scripts/bench/store.js)
 *
 * The engine: a fresh Elasticsearch started by scripts/search-engine.sh on port 19450 (1 GB heap), or
 * the one at CANHGAC_BENCH_ES_URL. BENCH_STORE_N sets the number of findings (default 100,000).
 * Store path: AGENTS agents commit batches of BATCH findings concurrently (one batch at a time per
 * agent, as the collector does); the bulk writer batches across them. Raw path: the identical documents
 * (`findingToDoc`, same ids, same monthly index template) in `_bulk` requests of the store's bulk size
 * with as many requests in flight as the store allows. Both create documents by id (refresh=false).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FindingRecord } from '../../common/finding.js';
import { findingToDoc } from '../../collector/store/search/documents.js';
import { openSearchStore, type SearchStore } from '../../collector/store/search/index.js';
import { opLines } from '../../collector/store/search/bulk.js';
import type { AgentRecord } from '../../collector/store/types.js';
import { REPO, startEngine, stopEngine } from '../search-engines/run.js';

const PORT = 19450;
const AGENTS = 20;
const BATCH = 500;
const BULK_DOCS = 1000;
const IN_FLIGHT = 2;

export interface StoreBenchResult {
  n: number;
  engine: string;
  rawDocsPerSec: number;
  storeDocsPerSec: number;
  ratio: number;
  docBytes: number;
  body: string;
}

function agents(run: string): AgentRecord[] {
  const now = new Date().toISOString();
  return Array.from({ length: AGENTS }, (_, i) => ({
    id: `bench-${run}-${i}`, hostName: `PC-${String(i).padStart(3, '0')}`, certFingerprint: 'ab'.repeat(32), os: 'windows',
    version: '0.1.0', group: 'bench', enrolledAt: now, lastSeen: now, lastSeq: 0, status: 'active',
  }));
}

/** FIM events like a busy workstation's: path, hashes, sizes, owners. */
function findings(run: string, as: AgentRecord[], n: number): FindingRecord[][] {
  const now = Date.now();
  const per: FindingRecord[][] = as.map(() => []);
  for (let i = 0; i < n; i++) {
    const a = as[i % as.length]!;
    const seq = per[i % as.length]!.length + 1;
    const t = new Date(now - (n - i)).toISOString();
    per[i % as.length]!.push({
      id: `${run}-${i}`, agentId: a.id, hostName: a.hostName, seq, observedAt: t, receivedAt: t, check: 'fim', kind: 'fim', family: 'event',
      stateKey: '', snapshotId: '',
      fields: {
        'event.action': i % 7 === 0 ? 'created' : 'modified', 'event.category': 'file', 'file.path': `C:\\Users\\u${i % 50}\\Documents\\report-${i}.docx`,
        'file.type': 'file', 'file.size': 10_000 + (i % 100_000), 'file.mode': '0644', 'file.uid': 'S-1-5-21-1000', 'file.gid': 'S-1-5-32-545',
        'file.hash.sha256': (i.toString(16).padStart(8, '0')).repeat(8), 'file.mtime': t, 'fim.source': 'watch', 'fim.expected': false,
      },
    });
  }
  return per;
}

async function storeRun(url: string, run: string, n: number, dataDir: string): Promise<{ secs: number; store: SearchStore }> {
  const store = await openSearchStore({ type: 'elasticsearch', nodes: [url], index_prefix: `bs-${run}`, retention: { interval_hours: 0 } }, { dataDir });
  const as = agents(run);
  for (const a of as) await store.upsertAgent(a);
  const per = findings(run, as, n);
  const t0 = process.hrtime.bigint();
  await Promise.all(as.map(async (a, i) => {
    const mine = per[i]!;
    for (let off = 0; off < mine.length; off += BATCH) {
      const fs = mine.slice(off, off + BATCH);
      await store.commit({ agentId: a.id, findings: fs, closedSnapshots: [], alerts: [], upToSeq: fs[fs.length - 1]!.seq, lastSeen: fs[fs.length - 1]!.receivedAt });
    }
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { secs, store };
}

async function rawRun(url: string, run: string, n: number, dataDir: string): Promise<{ secs: number; docBytes: number }> {
  // A store with this prefix only to put the same templates; the documents go in by hand.
  const store = await openSearchStore({ type: 'elasticsearch', nodes: [url], index_prefix: `br-${run}`, retention: { interval_hours: 0 } }, { dataDir });
  await store.close();
  const prefix = `br-${run}`;
  const docs = findings(run, agents(run), n).flat();
  const month = (iso: string): string => `${prefix}-findings-${iso.slice(0, 4)}.${iso.slice(5, 7)}`;
  for (const m of new Set(docs.map((f) => month(f.observedAt)))) await fetch(`${url}/${m}`, { method: 'PUT' });
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  const bodies: string[] = [];
  for (let i = 0; i < docs.length; i += BULK_DOCS) {
    // Serialising is part of the work either way: the store does it too.
    bodies.push(docs.slice(i, i + BULK_DOCS).map((f) => opLines({ action: 'create', index: month(f.observedAt), id: f.id, doc: findingToDoc(f) })).join(''));
  }
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      bytes += Buffer.byteLength(body);
      const res = await fetch(`${url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      const j = (await res.json()) as { errors: boolean };
      if (res.status !== 200 || j.errors) throw new Error(`raw bulk failed (HTTP ${res.status})`);
    }
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { secs, docBytes: Math.round(bytes / docs.length) };
}

export async function benchStore(n = Number(process.env.BENCH_STORE_N ?? 100_000)): Promise<StoreBenchResult> {
  const given = process.env.CANHGAC_BENCH_ES_URL;
  const url = given ?? (await startEngine('elasticsearch', { port: PORT, fresh: true }))[0]!;
  const dataDir = mkdtempSync(join(tmpdir(), 'canhgac-bench-store-'));
  try {
    const info = (await (await fetch(`${url}/_nodes/_local`)).json()) as { nodes: Record<string, { version: string; jvm: { mem: { heap_max_in_bytes: number } } }> };
    const node = Object.values(info.nodes)[0]!;
    const engine = `Elasticsearch ${node.version}, heap ${Math.round(node.jvm.mem.heap_max_in_bytes / 2 ** 20)} MB`;
    // Warm-up (JIT, index creation), then alternate the two paths and keep each one's best.
    await rawRun(url, 'w1', Math.min(n, 10_000), dataDir);
    await (await storeRun(url, 'w2', Math.min(n, 10_000), dataDir)).store.close();
    let raw = Infinity;
    let st = Infinity;
    let docBytes = 0;
    for (const round of [1, 2]) {
      const s = await storeRun(url, `s${round}`, n, dataDir);
      await s.store.close();
      st = Math.min(st, s.secs);
      const r = await rawRun(url, `r${round}`, n, dataDir);
      raw = Math.min(raw, r.secs);
      docBytes = r.docBytes;
    }
    const rawDocsPerSec = n / raw;
    const storeDocsPerSec = n / st;
    const ratio = storeDocsPerSec / rawDocsPerSec;
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
    const body = [
      `## Store ingest into Elasticsearch vs raw \`_bulk\``,
      '',
      `${machine}; ${engine} on the same machine (scripts/search-engine.sh). ${n.toLocaleString('en')} FIM findings of about ${docBytes} bytes (bulk NDJSON per document), the same documents on both paths, best of two rounds after a warm-up. Goal (DESIGN §7): ratio ≥ 0.8.`,
      '',
      '| path | how | findings/s |',
      '|---|---|---|',
      `| raw \`_bulk\` | ${BULK_DOCS} documents per request, ${IN_FLIGHT} in flight, \`create\` by id | ${rawDocsPerSec.toFixed(0)} |`,
      `| store \`commit()\` | ${AGENTS} agents × batches of ${BATCH}, one commit in flight per agent; bulk writer ${BULK_DOCS} docs / 5 MB / 50 ms, ${IN_FLIGHT} in flight | ${storeDocsPerSec.toFixed(0)} |`,
      `| **ratio** | store / raw | **${ratio.toFixed(2)}** |`,
      '',
      'Reproduce: `npm run bench -- store` (BENCH_STORE_N sets the count; CANHGAC_BENCH_ES_URL uses a running engine).',
    ].join('\n');
    return { n, engine, rawDocsPerSec, storeDocsPerSec, ratio, docBytes, body };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (!given) await stopEngine('elasticsearch', { port: PORT });
  }
}

/** Replaces (or appends) this benchmark's section of docs/benchmarks.md. */
function writeStoreSection(body: string): void {
  const file = join(REPO, 'docs', 'benchmarks.md');
  const start = '<!-- bench:store -->';
  const end = '<!-- /bench:store -->';
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = `${start}\n${body.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text = i >= 0 && j > i ? text.slice(0, i) + section + text.slice(j + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
}

/** The whole benchmark: measure, write docs/benchmarks.md, print; the last line carries the ratio. */
export async function runStoreBench(): Promise<void> {
  const r = await benchStore();
  writeStoreSection(r.body);
  console.log(r.body);
  console.log(`store ingest ratio vs raw bulk: ${r.ratio.toFixed(2)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runStoreBench();
