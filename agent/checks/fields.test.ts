/**
 * Every field a check emits must be declared in its fields.yaml, for the kind it emits it with and
 * with a value of the declared type (STYLE rule 4). Each check runs for real on this machine.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../common/finding.js';
import { logger } from '../../common/logger.js';
import type { CheckContext, Observation } from './check.js';
import { parseFieldsFile, valueFits, type FieldsFile } from './fields-spec.js';
import { CHECKS, createCheck } from './registry.js';

const declared = (name: string): FieldsFile =>
  parseFieldsFile(readFileSync(new URL(`./${name}/fields.yaml`, import.meta.url), 'utf8'), `agent/checks/${name}/fields.yaml`);

function context(stateDir: string, sink: Observation[]): CheckContext {
  return { log: logger('test'), stateDir, emit: async (events) => { sink.push(...events); } };
}

/** Runs a check the way the agent would and returns everything it produced. */
async function observe(name: string, stateDir: string): Promise<Observation[]> {
  const out: Observation[] = [];
  const ctx = context(stateDir, out);
  if (name !== 'fim') {
    const r = await createCheck(name).collect(ctx);
    for (const s of r.snapshots) out.push(...s.items);
    out.push(...r.events);
    return out;
  }
  // fim: a tree, a baseline, every kind of change, a large unhashed file, and a corrupt baseline.
  const root = mkdtempSync(join(tmpdir(), 'cg-fields-fim-'));
  try {
    writeFileSync(join(root, 'a.txt'), 'a');
    writeFileSync(join(root, 'gone'), 'g');
    writeFileSync(join(root, 'tool'), 't', { mode: 0o755 });
    writeFileSync(join(root, 'big.iso'), Buffer.alloc(2048));
    symlinkSync('a.txt', join(root, 'link'));
    const check = createCheck('fim', { paths: [root], max_hash_bytes: 1024 });
    out.push(...(await check.collect(ctx)).events);
    writeFileSync(join(root, 'a.txt'), 'changed');
    writeFileSync(join(root, 'new.sh'), 'n');
    writeFileSync(join(root, 'big.iso'), Buffer.alloc(4096));
    unlinkSync(join(root, 'gone'));
    chmodSync(join(root, 'tool'), 0o6755);
    unlinkSync(join(root, 'link'));
    symlinkSync('new.sh', join(root, 'link'));
    out.push(...(await check.collect(ctx)).events);
    writeFileSync(join(stateDir, 'fim-baseline.json'), 'not json');
    out.push(...(await createCheck('fim', { paths: [root] }).collect(ctx)).events);
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('emitted fields are declared in fields.yaml', () => {
  const servers: { close(cb: () => void): void }[] = [];
  beforeAll(async () => {
    // Make sure listeners has sockets with a process to report, TCP and UDP.
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      const s = net.createServer();
      await new Promise<void>((r) => s.listen(0, host, r));
      servers.push(s);
    }
    const u = dgram.createSocket('udp4');
    await new Promise<void>((r) => u.bind(0, '127.0.0.1', r));
    servers.push(u);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(r))));
  });

  for (const def of CHECKS) {
    it(def.name, async () => {
      const spec = declared(def.name);
      expect(spec.check).toBe(def.name);
      const check = def.create();
      const fields = new Map(spec.fields.map((f) => [f.name, f]));
      for (const f of spec.fields) for (const k of f.kinds) expect(check.kinds, `${f.name} declares kind ${k}`).toContain(k);

      const stateDir = mkdtempSync(join(tmpdir(), `cg-fields-${def.name}-`));
      let observed: Observation[];
      try {
        observed = await observe(def.name, stateDir);
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
      expect(observed.length, 'the check produced something to look at').toBeGreaterThan(0);
      const undeclared = new Set<string>();
      const misfit = new Set<string>();
      const emitted = new Set<string>();
      for (const o of observed) {
        expect(check.kinds).toContain(o.kind);
        expect(Object.keys(o.fields).length).toBeLessThanOrEqual(LIMITS.maxFieldsPerFinding);
        for (const [name, value] of Object.entries(o.fields)) {
          emitted.add(name);
          const f = fields.get(name);
          if (!f || !f.kinds.includes(o.kind)) undeclared.add(`${o.kind}: ${name}`);
          else if (!valueFits(f, value)) misfit.add(`${name} = ${JSON.stringify(value)} (declared ${f.type}${f.list ? ' list' : ''})`);
          if (typeof value === 'string') expect(value.length).toBeLessThanOrEqual(LIMITS.maxStringLength);
          if (Array.isArray(value)) expect(value.length).toBeLessThanOrEqual(LIMITS.maxListLength);
        }
      }
      expect([...undeclared], 'emitted but not declared in fields.yaml').toEqual([]);
      expect([...misfit], 'values that do not fit their declared type').toEqual([]);
    });
  }
});
