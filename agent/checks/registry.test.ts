import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { renderConfigReference, replaceConfigReference } from './config-doc.js';
import { CHECKS, checkNames, createCheck } from './registry.js';

const here = new URL('./', import.meta.url);
const folders = readdirSync(here).filter((n) => statSync(new URL(n, here)).isDirectory());

describe('check registry', () => {
  it('lists every check folder exactly once, and nothing else', () => {
    const withIndex = folders.filter((n) => existsSync(new URL(`${n}/index.ts`, here)));
    expect([...checkNames()].sort()).toEqual(withIndex.sort());
    expect(new Set(checkNames()).size).toBe(CHECKS.length);
  });

  it('every check folder has its code, config, README, fields, fixtures and tests', () => {
    for (const name of checkNames()) {
      for (const f of ['index.ts', 'config.ts', 'README.md', 'fields.yaml', `${name}.test.ts`]) {
        expect(existsSync(new URL(`${name}/${f}`, here)), `${name}/${f}`).toBe(true);
      }
      expect(readdirSync(new URL(`${name}/fixtures/`, here)).length, `${name}/fixtures`).toBeGreaterThan(0);
    }
  });

  it('creates and initialises checks by name, with defaults, and refuses unknown names and options', () => {
    for (const name of checkNames()) {
      const c = createCheck(name);
      expect(c.name).toBe(name);
      expect(() => createCheck(name, { no_such_option: true })).toThrow(expect.objectContaining({ code: 'AGENT_CHECK_CONFIG_INVALID' }));
    }
    expect(() => createCheck('antivirus')).toThrow(expect.objectContaining({ code: 'AGENT_CHECK_UNKNOWN' }));
  });

  it('config schemas are strict and give every option a default and a description', () => {
    for (const def of CHECKS) {
      const json = z.toJSONSchema(def.configSchema, { io: 'input' }) as { additionalProperties?: boolean; properties?: Record<string, { default?: unknown; description?: string }> };
      expect(json.additionalProperties, def.name).toBe(false);
      for (const [key, p] of Object.entries(json.properties ?? {})) {
        expect(p.default, `${def.name}.${key} default`).not.toBeUndefined();
        expect(p.description?.length, `${def.name}.${key} description`).toBeGreaterThan(10);
      }
    }
  });

  // CANHGAC_UPDATE_DOCS=1 npx vitest run agent/checks/registry.test.ts rewrites the READMEs.
  it('each README documents the config its schema defines', () => {
    for (const def of CHECKS) {
      const path = new URL(`${def.name}/README.md`, here);
      const readme = readFileSync(path, 'utf8');
      const updated = replaceConfigReference(readme, renderConfigReference(def.configSchema));
      expect(updated, `${def.name}/README.md has no generated config block`).toBeDefined();
      if (process.env.CANHGAC_UPDATE_DOCS === '1' && updated !== readme) writeFileSync(path, updated!);
      else expect(readme, `${def.name}/README.md config section is stale: CANHGAC_UPDATE_DOCS=1`).toBe(updated);
    }
  });
});
