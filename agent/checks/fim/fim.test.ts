import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { Fields } from '../../../common/finding.js';
import type { Check, CheckContext, Observation } from '../check.js';
import { BASELINE_FILE, parseBaseline, serialiseBaseline } from './baseline.js';
import { fimConfig } from './config.js';
import { diffEntries, type Entry } from './entry.js';
import { EntryStore } from './entry-store.js';
import { attributesOf, eventFields, octalMode } from './event-fields.js';
import { createFimCheck } from './index.js';
import { scopeMatcher } from './scope.js';
import { hashFile } from '../../host/files.js';
import { NO_ACCOUNTS } from '../../host/accounts.js';

const sha256sum = (path: string) => execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]!;

const file: Entry = { type: 'file', size: 3, mode: 0o644, uid: 0, gid: 0, mtimeNs: '1000000000', ctimeNs: '1000000000', ino: '1', dev: '1', sha256: 'a'.repeat(64) };

describe('diffEntries', () => {
  it('finds content, size, mode, owner and setuid/setgid changes, and nothing in timestamps alone', () => {
    expect(diffEntries(file, { ...file, mtimeNs: '2', ctimeNs: '3', ino: '9' })).toBeUndefined();
    expect(diffEntries(file, { ...file, sha256: 'b'.repeat(64) })).toEqual({ action: 'modified', changes: ['content'] });
    expect(diffEntries(file, { ...file, sha256: 'b'.repeat(64), size: 4 })).toEqual({ action: 'modified', changes: ['content', 'size'] });
    expect(diffEntries(file, { ...file, mode: 0o4755 })).toEqual({ action: 'attributes_changed', changes: ['mode', 'setuid_added', 'executable_added'] });
    expect(diffEntries({ ...file, mode: 0o755 }, { ...file, mode: 0o4755 })).toEqual({ action: 'attributes_changed', changes: ['mode', 'setuid_added'] });
    expect(diffEntries(file, { ...file, mode: 0o2644 })).toEqual({ action: 'attributes_changed', changes: ['mode', 'setgid_added'] });
    expect(diffEntries({ ...file, mode: 0o4755 }, { ...file, mode: 0o755 })).toEqual({ action: 'attributes_changed', changes: ['mode'] });
    expect(diffEntries(file, { ...file, uid: 1000 })).toEqual({ action: 'attributes_changed', changes: ['owner'] });
    expect(diffEntries(file, { ...file, type: 'dir' })).toEqual({ action: 'modified', changes: ['type'] });
  });

  it('falls back to size and mtime for files too large to hash', () => {
    const big = { ...file, sha256: undefined } as Entry;
    delete big.sha256;
    expect(diffEntries(big, { ...big, mtimeNs: '5' })).toEqual({ action: 'modified', changes: ['content'] });
    expect(diffEntries(big, { ...big, ctimeNs: '5' })).toBeUndefined();
  });

  it('treats a new symlink target as a content change, and ignores directory timestamps', () => {
    const link: Entry = { ...file, type: 'symlink', target: 'a' };
    delete link.sha256;
    expect(diffEntries(link, { ...link, target: 'b' })).toEqual({ action: 'modified', changes: ['content'] });
    const dir: Entry = { ...file, type: 'dir', size: 4096 };
    expect(diffEntries(dir, { ...dir, size: 8192, mtimeNs: '7' })).toBeUndefined();
  });
});

describe('event fields', () => {
  it('write modes as four octal digits and list attributes', () => {
    expect(octalMode(0o755)).toBe('0755');
    expect(octalMode(0o4755)).toBe('4755');
    expect(octalMode(0o100644)).toBe('0644');
    expect(attributesOf({ ...file, mode: 0o6755 })).toEqual(['executable', 'setuid', 'setgid']);
    expect(attributesOf({ ...file, type: 'dir', mode: 0o2775 })).toEqual(['setgid']);
    expect(attributesOf(file)).toEqual([]);
  });

  it('name the file, its directory and its lower-case extension', () => {
    const f = eventFields({ path: '/opt/App/Setup.EXE', action: 'created', after: file }, 'rescan', NO_ACCOUNTS);
    expect(f).toMatchObject({ 'file.name': 'Setup.EXE', 'file.directory': '/opt/App', 'file.extension': 'exe', 'event.type': 'creation' });
    expect(eventFields({ path: '/root/.bashrc', action: 'created', after: file }, 'rescan', NO_ACCOUNTS)['file.extension']).toBeUndefined();
    const gone = eventFields({ path: '/etc/x.conf', action: 'deleted', before: file }, 'realtime', NO_ACCOUNTS);
    expect(gone).toMatchObject({ 'file.type': 'file', 'file.before.size': 3, 'file.before.mode': '0644', 'fim.source': 'realtime' });
    expect(gone['file.size']).toBeUndefined();
  });
});

describe('scope', () => {
  const m = scopeMatcher({ roots: ['/srv/app', '/etc/passwd'], exclude: ['*.swp', '/srv/app/cache/**'] }, ['/srv/app/state']);
  it('covers paths under a root that no exclude pattern (or excluded parent) matches', () => {
    expect(m.covers('/srv/app/bin/run')).toBe(true);
    expect(m.covers('/srv/app')).toBe(true);
    expect(m.covers('/etc/passwd')).toBe(true);
    expect(m.covers('/etc/shadow')).toBe(false);
    expect(m.covers('/srv/application')).toBe(false);
    expect(m.covers('/srv/app/.x.swp')).toBe(false);
    expect(m.covers('/srv/app/cache')).toBe(false);
    expect(m.covers('/srv/app/cache/a/b')).toBe(false);
    expect(m.covers('/srv/app/state/fim-baseline.json')).toBe(false);
  });
});

describe('baseline file', () => {
  it('round-trips and refuses what it did not write', () => {
    const b = { scope: { roots: ['/x'], exclude: [] }, createdAt: '2026-01-01T00:00:00.000Z', entries: EntryStore.from([['/x', file], ['/x/l', { ...file, type: 'symlink', target: 'y' } as Entry]]) };
    const back = parseBaseline(serialiseBaseline(b), 'f');
    expect([...back.entries]).toEqual([...b.entries]);
    expect(back.scope).toEqual(b.scope);
    const withInclude = { ...b, scope: { roots: ['/x'], exclude: [], include: ['*.exe'] } };
    expect(parseBaseline(serialiseBaseline(withInclude), 'f').scope).toEqual(withInclude.scope);
    for (const bad of ['{', '{"format":"x"}', serialiseBaseline(b).replace('"file"', '"fifo"')]) {
      expect(() => parseBaseline(bad, 'f')).toThrow(expect.objectContaining({ code: 'AGENT_FIM_BASELINE_CORRUPT' }));
    }
  });
});

describe('baseline format v1 (fixture written by this version; later versions must still read it)', () => {
  it('reads hashes, modes, symlink targets and unhashed large files', () => {
    const text = readFileSync(new URL('./fixtures/baseline.v1.json', import.meta.url), 'utf8');
    const b = parseBaseline(text, 'baseline.v1.json');
    const at = (p: string) => b.entries.get(`/tmp/cg-fixture-tree/etc/app/${p}`)!;
    expect(b.scope).toEqual({ roots: ['/tmp/cg-fixture-tree/etc'], exclude: [] });
    expect(b.entries.size).toBe(6);
    // `sha256sum` of the recorded files: printf 'port=8443\n' and the 2-line script.
    expect(at('app.conf')).toMatchObject({ type: 'file', size: 10, mode: 0o644, sha256: 'af21f08f8d99ce7622ed460e9f9959a4c0bc53b3e3df88aca7a14c0cb4bed781' });
    expect(at('run.sh')).toMatchObject({ mode: 0o4755, sha256: 'a1c3331056e2a9c5b881e07ee8c0574f8f7d1a98705984625f4da7ec72887607' });
    expect(at('current.conf')).toMatchObject({ type: 'symlink', target: 'app.conf' });
    expect(at('blob.bin')).toMatchObject({ type: 'file', size: 2000 });
    expect(at('blob.bin').sha256).toBeUndefined();
  });
});

describe('config', () => {
  it('has defaults and rejects what is wrong, by path', () => {
    expect(fimConfig.parse({})).toMatchObject({ max_hash_bytes: 64 * 1024 * 1024, rescan: '0 * * * *', exclude: [] });
    const check = createFimCheck();
    expect(() => check.init({ paths: ['etc'] })).toThrow(expect.objectContaining({ code: 'AGENT_CHECK_CONFIG_INVALID', where: 'checks.fim.paths.0' }));
    expect(() => check.init({ rescan: 'hourly' })).toThrow(expect.objectContaining({ where: 'checks.fim.rescan' }));
    expect(() => check.init({ path: ['/etc'] })).toThrow(expect.objectContaining({ code: 'AGENT_CHECK_CONFIG_INVALID' }));
    check.init({ rescan: '*/15 * * * *' });
    expect(check.schedule?.()).toBe('*/15 * * * *');
  });
});

describe('hashFile', () => {
  it('agrees with sha256sum, and stops at the size limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-hash-'));
    try {
      const p = join(dir, 'f');
      writeFileSync(p, Buffer.alloc(3 * 1024 * 1024 + 17, 7));
      expect((await hashFile(p, 64 << 20))!.sha256).toBe(sha256sum(p));
      const small = await hashFile(p, 1024);
      expect(small!.sha256).toBeUndefined();
      expect(small!.facts.size).toBe(3 * 1024 * 1024 + 17);
      writeFileSync(join(dir, 'empty'), '');
      expect((await hashFile(join(dir, 'empty'), 10))!.sha256).toBe(sha256sum(join(dir, 'empty')));
      symlinkSync('f', join(dir, 'l'));
      expect((await hashFile(join(dir, 'l'), 64 << 20))!.facts).toMatchObject({ type: 'symlink', target: 'f' });
      expect(await hashFile(join(dir, 'missing'), 10)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A temp tree to watch, a state folder, and a context that records what was emitted. */
function setup() {
  const root = mkdtempSync(join(tmpdir(), 'cg-fim-root-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'cg-fim-state-'));
  const emitted: Observation[][] = [];
  let failEmit = false;
  const ctx: CheckContext = {
    log: logger('test', { check: 'fim' }),
    stateDir,
    emit: async (events) => {
      if (failEmit) throw new Error('outbox unavailable');
      emitted.push(events);
    },
  };
  return {
    root, stateDir, ctx, emitted,
    failEmits(on: boolean) { failEmit = on; },
    events: () => emitted.flat().filter((o) => o.kind === 'fim').map((o) => o.fields),
    clear() { emitted.length = 0; },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function byPath(events: Fields[]): Record<string, Fields> {
  const out: Record<string, Fields> = {};
  for (const e of events) out[String(e['file.path'])] = e;
  return out;
}

describe('fim check on the real file system', () => {
  let t: ReturnType<typeof setup>;
  let check: Check;
  const make = (extra: Record<string, unknown> = {}) => {
    const c = createFimCheck();
    c.init({ paths: [t.root], debounce_ms: 100, ...extra });
    return c;
  };

  beforeEach(() => {
    t = setup();
    writeFileSync(join(t.root, 'a.txt'), 'alpha\n');
    mkdirSync(join(t.root, 'sub'));
    writeFileSync(join(t.root, 'sub', 'b.sh'), '#!/bin/sh\necho b\n', { mode: 0o755 });
    writeFileSync(join(t.root, 'd.bin'), 'tool', { mode: 0o755 });
    symlinkSync('a.txt', join(t.root, 'link'));
    check = make();
  });
  afterEach(async () => {
    await check.stop?.();
    t.cleanup();
  });

  it('builds a baseline on the first collect and reports no file events, only one health event', async () => {
    const r = await check.collect(t.ctx);
    expect(t.events()).toEqual([]);
    expect(r.snapshots).toEqual([]);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ kind: 'health', fields: { 'event.action': 'baseline_created', 'fim.baseline.entries': 6 } });
    const saved = parseBaseline(readFileSync(join(t.stateDir, BASELINE_FILE), 'utf8'), 'b');
    expect(saved.entries.get(join(t.root, 'a.txt'))!.sha256).toBe(sha256sum(join(t.root, 'a.txt')));
    expect(saved.entries.get(join(t.root, 'link'))).toMatchObject({ type: 'symlink', target: 'a.txt' });
    expect(statSync(join(t.stateDir, BASELINE_FILE)).mode & 0o777).toBe(0o600);
    // and a second collect finds nothing
    expect((await check.collect(t.ctx)).events).toEqual([]);
    expect(t.events()).toEqual([]);
  });

  it('reports exactly the changes found by a rescan: created, modified, deleted, chmod u+s, symlink retarget, new dir', async () => {
    await check.collect(t.ctx);
    const oldA = sha256sum(join(t.root, 'a.txt'));
    writeFileSync(join(t.root, 'c.txt'), 'new file\n');
    writeFileSync(join(t.root, 'a.txt'), 'alpha changed\n');
    unlinkSync(join(t.root, 'sub', 'b.sh'));
    chmodSync(join(t.root, 'd.bin'), 0o4755);
    unlinkSync(join(t.root, 'link'));
    symlinkSync('c.txt', join(t.root, 'link'));
    mkdirSync(join(t.root, 'new'));
    writeFileSync(join(t.root, 'new', 'x.CONF'), 'x=1\n');

    await check.collect(t.ctx);
    const got = byPath(t.events());
    expect(Object.keys(got).sort()).toEqual(['a.txt', 'c.txt', 'd.bin', 'link', 'new', 'new/x.CONF', 'sub/b.sh'].map((p) => join(t.root, p)));
    const at = (p: string) => got[join(t.root, p)]!;
    expect(at('c.txt')).toMatchObject({ 'event.action': 'created', 'event.category': 'file', 'fim.source': 'rescan', 'file.type': 'file', 'file.extension': 'txt', 'file.hash.sha256': sha256sum(join(t.root, 'c.txt')), 'file.size': 9, 'file.mode': '0644' });
    expect(at('a.txt')).toMatchObject({ 'event.action': 'modified', 'fim.changes': ['content', 'size'], 'file.hash.sha256': sha256sum(join(t.root, 'a.txt')), 'file.before.hash.sha256': oldA, 'file.before.size': 6, 'file.size': 14 });
    expect(at('sub/b.sh')).toMatchObject({ 'event.action': 'deleted', 'file.type': 'file', 'file.before.mode': '0755' });
    expect(at('d.bin')).toMatchObject({ 'event.action': 'attributes_changed', 'fim.changes': ['mode', 'setuid_added'], 'file.mode': '4755', 'file.before.mode': '0755', 'file.attributes': ['executable', 'setuid'] });
    expect(at('link')).toMatchObject({ 'event.action': 'modified', 'fim.changes': ['content'], 'file.type': 'symlink', 'file.target_path': 'c.txt', 'file.before.target_path': 'a.txt' });
    expect(at('new')).toMatchObject({ 'event.action': 'created', 'file.type': 'dir' });
    expect(at('new/x.CONF')).toMatchObject({ 'event.action': 'created', 'file.extension': 'conf', 'file.hash.sha256': sha256sum(join(t.root, 'new', 'x.CONF')) });
    expect(at('c.txt')['file.owner']).toBe('root');

    t.clear();
    await check.collect(t.ctx);
    expect(t.events()).toEqual([]);
  });

  it('keeps the old baseline when the events could not be handed over, and reports them again', async () => {
    await check.collect(t.ctx);
    const before = readFileSync(join(t.stateDir, BASELINE_FILE), 'utf8');
    writeFileSync(join(t.root, 'c.txt'), 'new\n');
    t.failEmits(true);
    await expect(check.collect(t.ctx)).rejects.toThrow('outbox unavailable');
    expect(readFileSync(join(t.stateDir, BASELINE_FILE), 'utf8')).toBe(before);
    t.failEmits(false);
    await check.collect(t.ctx);
    expect(t.events().map((e) => [e['file.path'], e['event.action']])).toEqual([[join(t.root, 'c.txt'), 'created']]);
  });

  it('after a restart, finds what changed while it was stopped, and does not rebuild the baseline', async () => {
    await check.collect(t.ctx);
    writeFileSync(join(t.root, 'a.txt'), 'changed while stopped\n');
    chmodSync(join(t.root, 'sub'), 0o2755);
    const again = make();
    const r = await again.collect(t.ctx);
    expect(r.events).toEqual([]); // no new baseline_created: the old one was read
    expect(t.events().map((e) => [e['file.path'], e['event.action'], e['fim.changes']])).toEqual([
      [join(t.root, 'a.txt'), 'modified', ['content', 'size']],
      [join(t.root, 'sub'), 'attributes_changed', ['mode', 'setgid_added']],
    ]);
  });

  it('hashes nothing above max_hash_bytes and still sees its changes by size and mtime', async () => {
    check = make({ max_hash_bytes: 4 });
    await check.collect(t.ctx);
    writeFileSync(join(t.root, 'a.txt'), 'alpha!\n');
    await check.collect(t.ctx);
    const [e] = t.events();
    expect(e).toMatchObject({ 'event.action': 'modified', 'fim.changes': ['content', 'size'] });
    expect(e!['file.hash.sha256']).toBeUndefined();
    expect(byPath(t.events())[join(t.root, 'a.txt')]).toBeDefined();
  });

  it('leaves out excluded paths, and a scope change adds and drops paths without reporting them', async () => {
    const other = mkdtempSync(join(tmpdir(), 'cg-fim-other-'));
    try {
      writeFileSync(join(other, 'o1'), '1');
      check = make({ exclude: ['*.tmp', `${t.root}/sub/**`] });
      await check.collect(t.ctx);
      writeFileSync(join(t.root, 'x.tmp'), 'x');
      writeFileSync(join(t.root, 'sub', 'hidden'), 'h');
      await check.collect(t.ctx);
      expect(t.events()).toEqual([]);

      // Now watch `other` too, and stop excluding sub/: nothing is reported as created...
      const wider = make({ paths: [t.root, other], exclude: ['*.tmp'] });
      await wider.collect(t.ctx);
      expect(t.events()).toEqual([]);
      // ...but later changes there are.
      writeFileSync(join(other, 'o2'), '2');
      await wider.collect(t.ctx);
      expect(t.events().map((e) => e['file.path'])).toEqual([join(other, 'o2')]);
      t.clear();
      // Dropping `other` again reports no deletions.
      await make({ paths: [t.root], exclude: ['*.tmp'] }).collect(t.ctx);
      expect(t.events()).toEqual([]);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('replaces a corrupt baseline and says so', async () => {
    writeFileSync(join(t.stateDir, BASELINE_FILE), '{"format":"canhgac-fim-baseline","version":1,"scope":');
    const r = await check.collect(t.ctx);
    expect(r.events.map((e) => e.fields['event.action'])).toEqual(['baseline_corrupt', 'baseline_created']);
    expect(t.events()).toEqual([]);
  });

  it('reports a type change and the contents of a directory that replaced a file', async () => {
    await check.collect(t.ctx);
    unlinkSync(join(t.root, 'd.bin'));
    mkdirSync(join(t.root, 'd.bin'));
    await check.collect(t.ctx);
    expect(t.events()).toEqual([expect.objectContaining({ 'file.path': join(t.root, 'd.bin'), 'event.action': 'modified', 'fim.changes': ['type'], 'file.type': 'dir' })]);
  });
});

async function until<T>(probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('fim real-time watching', () => {
  let t: ReturnType<typeof setup>;
  let check: Check;

  beforeEach(() => {
    t = setup();
    writeFileSync(join(t.root, 'a.txt'), 'alpha\n');
    mkdirSync(join(t.root, 'sub'));
    check = createFimCheck();
    check.init({ paths: [t.root], debounce_ms: 100 });
  });
  afterEach(async () => {
    await check.stop?.();
    t.cleanup();
  });

  it('reports a created file within seconds, then its modification, chmod u+s and deletion', async () => {
    await check.start!(t.ctx);
    expect(t.emitted.flat().map((o) => o.fields['event.action'])).toEqual(['baseline_created']);
    const p = join(t.root, 'sub', 'new.sh');
    const started = Date.now();
    writeFileSync(p, 'echo hi\n');
    const created = await until(() => t.events().find((e) => e['file.path'] === p && e['event.action'] === 'created'));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(created).toMatchObject({ 'fim.source': 'realtime', 'file.hash.sha256': sha256sum(p) });

    writeFileSync(p, 'echo changed\n');
    const modified = await until(() => t.events().find((e) => e['file.path'] === p && e['event.action'] === 'modified'));
    expect(modified).toMatchObject({ 'file.hash.sha256': sha256sum(p), 'file.before.hash.sha256': created['file.hash.sha256'] });

    chmodSync(p, 0o4755);
    const chmod = await until(() => t.events().find((e) => e['file.path'] === p && e['event.action'] === 'attributes_changed'));
    expect(chmod).toMatchObject({ 'fim.changes': ['mode', 'setuid_added', 'executable_added'], 'file.mode': '4755' });

    unlinkSync(p);
    await until(() => t.events().find((e) => e['file.path'] === p && e['event.action'] === 'deleted'));
    // One event per change: writes in progress were folded together.
    expect(t.events().filter((e) => e['file.path'] === p).map((e) => e['event.action'])).toEqual(['created', 'modified', 'attributes_changed', 'deleted']);
  });

  it('reports a new directory with its contents, and a removed directory with its contents', async () => {
    await check.start!(t.ctx);
    const d = join(t.root, 'tree');
    mkdirSync(join(d, 'inner'), { recursive: true });
    writeFileSync(join(d, 'inner', 'f'), 'f');
    await until(() => t.events().find((e) => e['file.path'] === join(d, 'inner', 'f')));
    rmSync(d, { recursive: true });
    await until(() => t.events().find((e) => e['file.path'] === d && e['event.action'] === 'deleted'));
    await new Promise((r) => setTimeout(r, 400));
    const seen = t.events().map((e) => `${String(e['event.action'])} ${String(e['file.path']).slice(t.root.length)}`);
    expect(seen.filter((s) => s.startsWith('created')).sort()).toEqual(['created /tree', 'created /tree/inner', 'created /tree/inner/f']);
    expect(seen.filter((s) => s.startsWith('deleted')).sort()).toEqual(['deleted /tree', 'deleted /tree/inner', 'deleted /tree/inner/f']);
  });

  it('keeps real-time changes in the baseline across a restart, so the rescan does not repeat them', async () => {
    await check.start!(t.ctx);
    const p = join(t.root, 'live.txt');
    writeFileSync(p, 'live');
    await until(() => t.events().find((e) => e['file.path'] === p));
    await check.stop!();
    expect(existsSync(join(t.stateDir, BASELINE_FILE))).toBe(true);
    t.clear();
    const again = createFimCheck();
    again.init({ paths: [t.root], debounce_ms: 100 });
    const r = await again.collect(t.ctx);
    expect(r.events).toEqual([]);
    expect(t.events()).toEqual([]);
  });
});

describe('fim across a stop: what changed while the check was stopped comes through the rescan', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
    writeFileSync(join(t.root, 'keep.conf'), 'a=1\n');
    writeFileSync(join(t.root, 'gone.txt'), 'bye\n');
    writeFileSync(join(t.root, 'tool'), 'tool', { mode: 0o755 });
    writeFileSync(join(t.root, 'old-name.doc'), 'document body\n');
    mkdirSync(join(t.root, 'sub'));
  });
  afterEach(() => t.cleanup());

  it('start, stop, change files, start again and rescan: every change, once, marked fim.source rescan', async () => {
    const first = createFimCheck();
    first.init({ paths: [t.root], debounce_ms: 100 });
    await first.start!(t.ctx);
    await first.stop!();
    expect(t.events()).toEqual([]);

    // The agent is down: the host changes.
    writeFileSync(join(t.root, 'keep.conf'), 'a=2\n');
    unlinkSync(join(t.root, 'gone.txt'));
    chmodSync(join(t.root, 'tool'), 0o4755);
    writeFileSync(join(t.root, 'sub', 'new.sh'), 'echo new\n', { mode: 0o755 });
    execFileSync('mv', [join(t.root, 'old-name.doc'), join(t.root, 'old-name.doc.locked')]);

    const second = createFimCheck();
    second.init({ paths: [t.root], debounce_ms: 100 });
    await second.start!(t.ctx);
    await second.collect(t.ctx); // what the agent runs at start, then on its schedule
    await second.stop!();
    const got = t.events().map((e) => [String(e['file.path']).slice(t.root.length), e['event.action'], e['fim.source']]);
    expect(got.sort()).toEqual([
      ['/gone.txt', 'deleted', 'rescan'],
      ['/keep.conf', 'modified', 'rescan'],
      ['/old-name.doc.locked', 'renamed', 'rescan'],
      ['/sub/new.sh', 'created', 'rescan'],
      ['/tool', 'attributes_changed', 'rescan'],
    ]);
    const renamed = t.events().find((e) => e['event.action'] === 'renamed')!;
    expect(renamed).toMatchObject({ 'file.before.path': join(t.root, 'old-name.doc'), 'fim.changes': ['name', 'extension'], 'file.hash.sha256': sha256sum(join(t.root, 'old-name.doc.locked')) });
    // Nothing is reported twice.
    t.clear();
    const third = createFimCheck();
    third.init({ paths: [t.root] });
    await third.collect(t.ctx);
    expect(t.events()).toEqual([]);
  });
});

describe('fim real time: renames, storms, ignore rules and include patterns', () => {
  let t: ReturnType<typeof setup>;
  let check: Check;
  beforeEach(() => { t = setup(); });
  afterEach(async () => {
    await check?.stop?.();
    t.cleanup();
  });

  it('reports mv as one renamed event with the old path', async () => {
    writeFileSync(join(t.root, 'report.xlsx'), 'numbers\n');
    check = createFimCheck();
    check.init({ paths: [t.root], debounce_ms: 100 });
    await check.start!(t.ctx);
    renameSync(join(t.root, 'report.xlsx'), join(t.root, 'report.xlsx.crypt'));
    const ev = await until(() => t.events().find((e) => e['event.action'] === 'renamed'));
    expect(ev).toMatchObject({ 'file.path': join(t.root, 'report.xlsx.crypt'), 'file.before.path': join(t.root, 'report.xlsx'), 'file.extension': 'crypt', 'file.before.extension': 'xlsx', 'fim.source': 'realtime' });
    await new Promise((r) => setTimeout(r, 300));
    expect(t.events().map((e) => e['event.action'])).toEqual(['renamed']);
  });

  it('turns a storm into one change_storm event after its window, and takes the storm into the baseline only then', async () => {
    check = createFimCheck();
    check.init({ paths: [t.root], debounce_ms: 50, storm_threshold: 5, storm_window_s: 2, storm_prefix_depth: 3 });
    await check.start!(t.ctx);
    const dir = join(t.root, 'cache');
    mkdirSync(dir);
    await until(() => t.events().find((e) => e['file.path'] === dir));
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, `f${i}`), String(i));
    const storm = await until(() => t.events().find((e) => e['event.action'] === 'change_storm'), 15_000);
    const one = t.events().filter((e) => String(e['file.path']).startsWith(`${dir}/`));
    expect(storm).toMatchObject({ 'fim.source': 'realtime', 'fim.expected': false, 'fim.storm.window_s': 2 });
    // Five under the prefix (the folder's content; the folder itself counts under its parent) were
    // reported one by one, the other 35 counted.
    expect(one).toHaveLength(5);
    expect(storm).toMatchObject({ 'file.path': dir, 'fim.storm.count': 35, 'fim.storm.reported': 5, 'fim.storm.created': 35 });
    expect(String(storm.message)).toMatch(/^40 changes under .*cache in 2 s \(5 reported one by one, 35 counted here\)$/);
    await check.stop!();
    // Everything, reported one by one or counted, is in the baseline: a rescan finds nothing.
    t.clear();
    const again = createFimCheck();
    again.init({ paths: [t.root] });
    await again.collect(t.ctx);
    expect(t.events()).toEqual([]);
  });

  it('a rescan summarises its storms at once', async () => {
    check = createFimCheck();
    check.init({ paths: [t.root], storm_threshold: 3, storm_prefix_depth: 3 });
    await check.collect(t.ctx);
    mkdirSync(join(t.root, 'lib'));
    for (let i = 0; i < 10; i++) writeFileSync(join(t.root, 'lib', `m${i}`), String(i));
    await check.collect(t.ctx);
    const storms = t.events().filter((e) => e['event.action'] === 'change_storm');
    expect(storms).toHaveLength(1);
    expect(storms[0]).toMatchObject({ 'fim.source': 'rescan', 'file.path': join(t.root, 'lib'), 'fim.storm.created': 7, 'fim.storm.count': 7, 'fim.storm.reported': 3 });
    expect(t.events().filter((e) => e['event.action'] === 'created')).toHaveLength(4); // lib/ itself and three of its files
    expect(String(storms[0]!.message)).toContain('found by a rescan');
  });

  it('ignore rules leave changes unreported but in the baseline; include patterns leave other files untracked', async () => {
    mkdirSync(join(t.root, 'uploads'));
    check = createFimCheck();
    check.init({ paths: [t.root], ignore: [{ path: `${t.root}/uploads/**` }], include: ['*.exe', '*.dll'] });
    await check.collect(t.ctx);
    writeFileSync(join(t.root, 'uploads', 'x.exe'), 'MZ');
    writeFileSync(join(t.root, 'setup.exe'), 'MZ');
    writeFileSync(join(t.root, 'readme.txt'), 'hi');
    await check.collect(t.ctx);
    expect(t.events().map((e) => e['file.path'])).toEqual([join(t.root, 'setup.exe')]);
    const saved = parseBaseline(readFileSync(join(t.stateDir, BASELINE_FILE), 'utf8'), 'b');
    expect(saved.entries.has(join(t.root, 'uploads', 'x.exe'))).toBe(true);
    expect(saved.entries.has(join(t.root, 'readme.txt'))).toBe(false);
  });
});
