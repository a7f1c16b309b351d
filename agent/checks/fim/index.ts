/**
 * fim: file integrity monitoring. A baseline of every watched path (type, size, mode, owner,
 * times, inode, SHA-256, symlink target) kept durably in the check's state folder; `collect()`
 * rescans and reports differences, `start()` watches in real time. Either way the events are in the
 * agent's durable outbox (`ctx.emit` resolved) before the baseline takes the change in, so a crash
 * can repeat an event but never lose one.
 */
import type { Check, CheckContext, CollectResult, Observation } from '../check.js';
import { isCanhGacError } from '../../../common/errors.js';
import type { Fields } from '../../../common/finding.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { loadAccounts, type Accounts } from '../../host/accounts.js';
import { watchPaths, type PathWatcher } from '../../host/watch.js';
import { parseCheckConfig } from '../parse-config.js';
import { loadBaseline, saveBaseline, type Baseline } from './baseline.js';
import { fimConfig, type FimConfig } from './config.js';
import { diffEntries, type Entry } from './entry.js';
import { eventFields, type FimEvent, type Source } from './event-fields.js';
import { isInside, normaliseRoots, scopeMatcher, type Scope, type ScopeMatcher } from './scope.js';
import { inspect, walk, type WalkResult } from './walk.js';

/** Real-time baseline changes reach the disk at most this often (and at stop, and after rescans). */
const SAVE_INTERVAL_MS = 5_000;
/** A path that never goes quiet is still reported after this many debounce periods. */
const MAX_WAIT_FACTOR = 10;

export interface FimDeps {
  accounts: () => Promise<Accounts>;
}

interface Pending {
  timer: NodeJS.Timeout;
  since: number;
}

export function createFimCheck(deps: Partial<FimDeps> = {}): Check {
  const accounts = deps.accounts ?? (() => loadAccounts());
  let config: FimConfig | undefined;
  let baseline: Baseline | undefined;
  let loadedFrom: string | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let watcher: PathWatcher | undefined;
  let live: CheckContext | undefined;
  const pending = new Map<string, Pending>();
  const ready = new Set<string>();
  let flushQueued = false;
  let saveTimer: NodeJS.Timeout | undefined;
  let dirty = false;
  let watchErrorReported = false;

  const cfg = (): FimConfig => {
    if (!config) throw new AgentError(AgentCodes.CHECK_NOT_INITIALIZED, 'check "fim" used before init()');
    return config;
  };
  const scopeOf = (c: FimConfig): Scope => ({ roots: normaliseRoots(c.paths), exclude: [...c.exclude] });
  // The agent's own state folder is never watched: writing the baseline must not report itself.
  const matcherFor = (scope: Scope, ctx: CheckContext): ScopeMatcher => scopeMatcher(scope, [ctx.stateDir]);

  function withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  }

  function health(action: string, status: 'ok' | 'degraded', message: string, extra: Fields = {}): Observation {
    return {
      kind: 'health',
      observedAt: new Date().toISOString(),
      fields: { 'event.action': action, 'agent.health.check': 'fim', 'agent.health.status': status, 'agent.health.message': message, ...extra },
    };
  }

  async function observations(events: FimEvent[], source: Source): Promise<Observation[]> {
    const names = await accounts();
    const observedAt = new Date().toISOString();
    return events
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((ev) => ({ kind: 'fim' as const, observedAt, fields: eventFields(ev, source, names) }));
  }

  /** The baseline in memory, else on disk; a corrupt one is reported and replaced. */
  async function load(ctx: CheckContext, notes: Observation[]): Promise<Baseline | undefined> {
    if (baseline && loadedFrom === ctx.stateDir) return baseline;
    try {
      baseline = await loadBaseline(ctx.stateDir);
      loadedFrom = ctx.stateDir;
      return baseline;
    } catch (e) {
      if (!isCanhGacError(e, AgentCodes.FIM_BASELINE_CORRUPT)) throw e;
      ctx.log.error('fim baseline unreadable, starting a new one', { code: e.code, where: e.where });
      notes.push(health('baseline_corrupt', 'degraded', e.message));
      baseline = undefined;
      return undefined;
    }
  }

  async function persist(ctx: CheckContext): Promise<void> {
    if (!baseline) return;
    await saveBaseline(ctx.stateDir, baseline);
    dirty = false;
  }

  function logFailures(ctx: CheckContext, result: WalkResult): void {
    if (result.failed.length > 0) {
      ctx.log.warn('fim paths could not be read', { count: result.failed.length, first: result.failed.slice(0, 5) });
    }
  }

  /** First walk: remember everything, report nothing but one health event. */
  async function build(ctx: CheckContext, notes: Observation[]): Promise<void> {
    const c = cfg();
    const scope = scopeOf(c);
    const started = performance.now();
    const result = await walk(scope.roots, { matcher: matcherFor(scope, ctx), maxHashBytes: c.max_hash_bytes, previous: new Map() });
    logFailures(ctx, result);
    baseline = { scope, createdAt: new Date().toISOString(), entries: result.entries };
    loadedFrom = ctx.stateDir;
    await persist(ctx);
    notes.push(health('baseline_created', 'ok', 'FIM baseline created; changes are reported from now on', {
      'fim.baseline.entries': result.entries.size,
      'fim.baseline.unreadable': result.failed.length,
      'fim.baseline.duration_ms': Math.round(performance.now() - started),
    }));
  }

  /** Differences between the baseline and a fresh walk, honouring scope changes silently. */
  function compare(base: Baseline, now: Map<string, Entry>, oldScope: ScopeMatcher, newScope: ScopeMatcher): FimEvent[] {
    const events: FimEvent[] = [];
    for (const [path, after] of now) {
      const before = base.entries.get(path);
      if (!before) {
        if (oldScope.covers(path)) events.push({ path, action: 'created', after });
        continue;
      }
      const d = diffEntries(before, after);
      if (d) events.push({ path, action: d.action, before, after, changes: d.changes });
    }
    for (const [path, before] of base.entries) {
      if (!now.has(path) && newScope.covers(path)) events.push({ path, action: 'deleted', before });
    }
    return events;
  }

  async function rescan(ctx: CheckContext): Promise<Observation[]> {
    const notes: Observation[] = [];
    const base = await load(ctx, notes);
    if (!base) {
      await build(ctx, notes);
      return notes;
    }
    const c = cfg();
    const scope = scopeOf(c);
    const newScope = matcherFor(scope, ctx);
    const result = await walk(scope.roots, { matcher: newScope, maxHashBytes: c.max_hash_bytes, previous: base.entries });
    logFailures(ctx, result);
    // What could not be looked at this time is taken to be as it was, not deleted.
    for (const { path } of result.failed) {
      for (const [p, e] of base.entries) if ((p === path || isInside(path, p)) && !result.entries.has(p)) result.entries.set(p, e);
    }
    const events = compare(base, result.entries, matcherFor(base.scope, ctx), newScope);
    if (events.length > 0) await ctx.emit(await observations(events, 'rescan'));
    base.entries = result.entries;
    base.scope = scope;
    await persist(ctx);
    return notes;
  }

  /** Real time: look again at paths something happened to, report, then update the baseline. */
  async function reconcile(paths: string[], ctx: CheckContext): Promise<void> {
    const base = baseline;
    if (!base) return;
    const c = cfg();
    const matcher = matcherFor(base.scope, ctx);
    const events: FimEvent[] = [];
    const updates = new Map<string, Entry | null>();
    const current = (p: string) => (updates.has(p) ? updates.get(p) ?? undefined : base.entries.get(p));
    const goneBelow = (dir: string) => {
      for (const [q, e] of base.entries) {
        if (isInside(dir, q) && current(q)) {
          events.push({ path: q, action: 'deleted', before: e });
          updates.set(q, null);
        }
      }
    };
    const addedBelow = async (dir: string) => {
      const sub = await walk([dir], { matcher, maxHashBytes: c.max_hash_bytes, previous: base.entries });
      for (const [q, e] of sub.entries) {
        if (q === dir) continue;
        const before = current(q);
        if (!before) events.push({ path: q, action: 'created', after: e });
        else {
          const d = diffEntries(before, e);
          if (d) events.push({ path: q, action: d.action, before, after: e, changes: d.changes });
        }
        updates.set(q, e);
      }
    };
    for (const path of [...new Set(paths)].sort()) {
      if (!matcher.covers(path)) continue;
      const before = current(path);
      let after: Entry | undefined;
      try {
        after = await inspect(path, before, c.max_hash_bytes);
      } catch (e) {
        ctx.log.warn('fim path could not be read', { path, code: (e as NodeJS.ErrnoException).code });
        continue;
      }
      if (!after) {
        if (before) {
          events.push({ path, action: 'deleted', before });
          updates.set(path, null);
          goneBelow(path);
        }
        continue;
      }
      if (!before) {
        events.push({ path, action: 'created', after });
      } else {
        const d = diffEntries(before, after);
        if (d) events.push({ path, action: d.action, before, after, changes: d.changes });
        if (before.type === 'dir' && after.type !== 'dir') goneBelow(path);
      }
      updates.set(path, after);
      if (after.type === 'dir' && (!before || before.type !== 'dir')) await addedBelow(path);
    }
    if (events.length > 0) await ctx.emit(await observations(events, 'realtime'));
    for (const [p, e] of updates) {
      if (e) base.entries.set(p, e);
      else base.entries.delete(p);
    }
    if (updates.size > 0) {
      dirty = true;
      scheduleSave(ctx);
    }
  }

  function scheduleSave(ctx: CheckContext): void {
    if (saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      void withLock(async () => {
        if (dirty) await persist(ctx);
      }).catch((e: unknown) => ctx.log.error('fim baseline could not be saved', { error: (e as Error).message }));
    }, SAVE_INTERVAL_MS);
    saveTimer.unref();
  }

  function flushReady(ctx: CheckContext): void {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      const paths = [...ready];
      ready.clear();
      if (paths.length === 0) return;
      void withLock(() => reconcile(paths, ctx)).catch((e: unknown) => {
        ctx.log.error('fim real-time changes could not be reported; the next rescan will', { error: (e as Error).message, paths: paths.length });
      });
    });
  }

  function onPath(path: string, ctx: CheckContext, debounceMs: number): void {
    const now = Date.now();
    const seen = pending.get(path);
    if (seen) clearTimeout(seen.timer);
    const since = seen?.since ?? now;
    const fire = () => {
      pending.delete(path);
      ready.add(path);
      flushReady(ctx);
    };
    if (now - since >= debounceMs * MAX_WAIT_FACTOR) {
      fire();
      return;
    }
    pending.set(path, { timer: setTimeout(fire, debounceMs), since });
  }

  return {
    name: 'fim',
    kinds: ['fim', 'health'],

    init(raw: unknown) {
      config = parseCheckConfig('fim', fimConfig, raw);
    },

    schedule() {
      return config?.rescan;
    },

    async collect(ctx): Promise<CollectResult> {
      cfg();
      const notes = await withLock(() => rescan(ctx));
      return { snapshots: [], events: notes };
    },

    async start(ctx) {
      const c = cfg();
      if (watcher) return;
      live = ctx;
      watchErrorReported = false;
      const notes = await withLock(async () => {
        const out: Observation[] = [];
        const base = await load(ctx, out);
        if (!base) await build(ctx, out);
        // A configuration that grew since the baseline was taken is brought in by a rescan first,
        // so real time never reports pre-existing files as created.
        else if (JSON.stringify(base.scope) !== JSON.stringify(scopeOf(c))) out.push(...(await rescan(ctx)));
        return out;
      });
      if (notes.length > 0) await ctx.emit(notes);
      const matcher = matcherFor(scopeOf(c), ctx);
      watcher = watchPaths(scopeOf(c).roots, {
        ignored: (p) => matcher.excludedSelf(p),
        onPath: (p) => onPath(p, ctx, c.debounce_ms),
        onError: (e) => {
          ctx.log.warn('fim watcher error', { error: e.message, code: (e as NodeJS.ErrnoException).code });
          if (watchErrorReported) return;
          watchErrorReported = true;
          void ctx.emit([health('watch_failed', 'degraded', `real-time file watching failed: ${e.message}; rescans still run`)]).catch(() => undefined);
        },
      });
      await watcher.ready;
    },

    async stop() {
      const w = watcher;
      watcher = undefined;
      if (w) await w.close();
      const ctx = live;
      if (!ctx) return;
      // Changes still waiting out their debounce are reported now rather than left to the rescan.
      for (const [path, p] of pending) {
        clearTimeout(p.timer);
        ready.add(path);
      }
      pending.clear();
      const paths = [...ready];
      ready.clear();
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = undefined;
      await withLock(async () => {
        if (paths.length > 0) await reconcile(paths, ctx).catch((e: unknown) => ctx.log.error('fim changes at stop could not be reported', { error: (e as Error).message }));
        if (dirty) await persist(ctx);
      });
      live = undefined;
    },
  };
}
