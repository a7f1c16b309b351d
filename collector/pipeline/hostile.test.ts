/**
 * Property test: whatever an agent puts in a well-formed batch, the pipeline neither throws nor hands the
 * store a batch it refuses. A refused batch would never be acked and the agent would resend it forever,
 * stuck behind it (the >2^53 sequence number was such a batch). Seeded random findings with hostile
 * values — extreme numbers and times, type-confused fields the shipped rules read, odd names and kinds,
 * snapshots that close — through the real rule engine, the real pipeline and the real SQLite store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINDING_KINDS } from '../../common/finding.js';
import { logger } from '../../common/logger.js';
import { prng } from '../../common/prng.js';
import type { WireFieldValue, WireFinding } from '../../proto/convert.js';
import { loadRules } from '../rules.js';
import { SqliteStore } from '../store/sqlite/store.js';
import { buildPipeline } from './ingest.js';

const SEED = Number(process.env.CANHGAC_FUZZ_SEED ?? 20261128);
const BATCHES = Number(process.env.CANHGAC_FUZZ_INPUTS ?? 250);

let root: string;
let store: SqliteStore;
const agent = { id: 'hostile-agent', hostName: 'h' };
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'canhgac-hostile-'));
  store = new SqliteStore({ dataDir: root });
  await store.init();
  const now = new Date().toISOString();
  await store.upsertAgent({ id: agent.id, hostName: agent.hostName, certFingerprint: 'ff', os: 'linux', version: 't', group: 'g', enrolledAt: now, lastSeen: now, lastSeq: 0, status: 'active' });
});
afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('ingest pipeline: hostile but well-formed findings', () => {
  it(`never throws and never hands the store a batch it refuses (${BATCHES} seeded batches, seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const int = (n: number): number => Math.floor(rnd() * n);
    const pick = <X>(xs: readonly X[]): X => xs[int(xs.length)]!;
    const now = Date.now();
    const NUMBERS = [0, -0, 1, -1, 22, 3389, 65536, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 64 - 1, -(2 ** 63), 1e308, -1e308, 5e-324, 0.5];
    const STRINGS = ['', ' ', '0', '22', 'true', 'null', '\u0000', 'a\nb', 'C:\\Windows\\System32\\cmd.exe', '/etc/passwd', '日本語', '🙂', '\uFEFF', 'x'.repeat(8192), '%s%n', "'; DROP TABLE findings; --", '{"a":1}', '1970-01-01T00:00:00Z'];
    // Names the shipped rules and the code read, and names that are only just allowed.
    const NAMES = ['file.path', 'event.action', 'server.port', 'server.ip', 'network.transport', 'process.name', 'package.name', 'package.version',
      'firewall.enabled', 'firewall.default_inbound', 'sca.check.result', 'user.name', 'host.os.family', 'exposure.verdict', 'exposure.bind_scope',
      'hasOwnProperty', 'toString', 'valueOf', '@timestamp', '_', 'a-b', 'a..b', 'x'.repeat(128), 'agent.id', 'event.kind', 'change.kind'];
    const value = (): WireFieldValue => {
      switch (int(5)) {
        case 0: return { s: pick(STRINGS), v: 's' };
        case 1: return { i: pick(NUMBERS.filter(Number.isInteger)), v: 'i' };
        case 2: return { d: pick(NUMBERS), v: 'd' };
        case 3: return { b: rnd() < 0.5, v: 'b' };
        default: return { list: { values: Array.from({ length: pick([0, 1, 3, 256]) }, () => pick(STRINGS.slice(0, 13))) }, v: 'list' };
      }
    };
    const times = [0, -1, Date.UTC(2000, 0, 1), now - 1, now, now + 23 * 3600_000, now + 25 * 3600_000, 8.64e15, 2 ** 63];
    const kinds = [...FINDING_KINDS, 'bogus'];
    let nextSeq = 1;
    let rejected = 0;
    let stored = 0;
    for (let b = 0; b < BATCHES; b++) {
      const snapshot = `snap-${int(4)}`;
      // Most findings are valid apart from their fields (so the rules and the store see hostile values);
      // the rest are hostile throughout (so validation refuses them and the refusal is stored).
      const findings: WireFinding[] = Array.from({ length: 1 + int(6) }, (_, i): WireFinding => {
        const fields = Object.fromEntries(Array.from({ length: int(8) }, () => [pick(NAMES), value()]));
        if (rnd() < 0.7) {
          const kind = pick(['fim', 'listener', 'package', 'firewall', 'sca', 'host', 'health']);
          // Often what a shipped rule matches, with hostile fields around it, so alerts are built from them.
          if (kind === 'fim' && int(2)) Object.assign(fields, { 'file.path': { s: '/etc/passwd', v: 's' }, 'event.action': { s: 'modified', v: 's' } }, fields);
          return {
            id: `id-${b}-${i}-${pick(['a', 'repeat', 'ü'.repeat(0)])}-xxxxxxxx`, seq: nextSeq++, observedAtMs: pick([now, now - 1000, Date.UTC(2000, 0, 1)]),
            check: 'hostile', kind, stateKey: pick(['k', `k-${int(5)}`, '\u0000', '日本語']), snapshotId: pick(['', snapshot]), snapshotTotal: pick([0, 0, 1, 3, 4294967295]), fields,
          };
        }
        return {
          id: pick([`id-${b}-${i}-xxxxxxxx`, `id-${int(50)}-repeat`, 'short', `id-${b}-${i}-ünïcode`]),
          seq: pick([nextSeq++, nextSeq++, 0, 2 ** 53, 2 ** 64 - 1]),
          observedAtMs: pick(times), check: pick(['fim', 'listeners', '', 'x'.repeat(65)]), kind: pick(kinds),
          stateKey: pick(['', 'k', `k-${int(5)}`, 'x'.repeat(1025)]), snapshotId: pick(['', snapshot]), snapshotTotal: pick([0, 0, 1, 3, 4294967295]),
          fields,
        };
      });
      const r = await buildPipelineOnce().ingest(agent, { lastSeq: pick([nextSeq, 0, 2 ** 64 - 1]), findings });
      expect(Number.isSafeInteger(r.upToSeq), `batch ${b}`).toBe(true);
      expect(r.stored + r.duplicates, `batch ${b}`).toBe(findings.length);
      rejected += r.rejected;
      stored += r.stored;
    }
    // Both outcomes were exercised.
    expect(rejected).toBeGreaterThan(BATCHES / 4);
    expect(stored - rejected).toBeGreaterThan(BATCHES);
    // The shipped rules fired on some of them, and snapshots closed into change events.
    expect((await store.listAlerts({})).total).toBeGreaterThan(0);
    expect((await store.listFindings({ kind: 'change', limit: 1 })).total).toBeGreaterThan(0);
  }, 120_000);
});

let pipeline: ReturnType<typeof buildPipeline> | undefined;
function buildPipelineOnce(): ReturnType<typeof buildPipeline> {
  if (!pipeline) {
    const rules = loadRules(resolve(import.meta.dirname, '../../rules/detection'));
    expect(rules.summary().rules).toBeGreaterThan(10);
    pipeline = buildPipeline({ store, evaluate: (r) => rules.evaluate(r), log: logger('test') });
  }
  return pipeline;
}
