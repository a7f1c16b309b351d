/**
 * fim: file integrity monitoring. A baseline of every watched path (type, size, mode, owner,
 * times, inode, SHA-256, symlink target) kept durably in the check's state folder, built and
 * refreshed by worker threads; `collect()` rescans and reports differences, `start()` watches in
 * real time. Either way the events are in the agent's durable outbox (`ctx.emit` resolved) before
 * the baseline takes the change in, so a crash can repeat an event but never lose one.
 *
 * Between finding and reporting, events are triaged (triage.ts: renames, ignore rules, package
 * manager and maintenance windows) and storms are folded into one summary per path prefix
 * (storm.ts); changes counted into a summary join the baseline only once the summary is out.
 */
import type { Check, CheckContext, CollectResult, Observation } from '../check.js';
import { isCanhGacError } from '../../../common/errors.js';
import type { Fields } from '../../../common/finding.js';
import { AgentCodes, AgentError } from '../../errors.js';
import { loadAccounts, type Accounts } from '../../host/accounts.js';
import { listDir } from '../../host/files.js';
import { createHashPool, type HashPool } from '../../host/hash-pool.js';
import { realPathOf } from '../../host/paths.js';
import { detectPackageOracle, type PackageOracle } from '../../host/package-changes.js';
import { watchPaths, type PathWatcher, type WatchOptions } from '../../host/watch.js';
import { parseCheckConfig } from '../parse-config.js';
import { loadBaseline, saveBaseline, type Baseline } from './baseline.js';
import { fimConfig, type FimConfig } from './config.js';
import { diffEntries, type Entry } from './entry.js';
import { EntryStore } from './entry-store.js';
import { eventFields, stormFields, type FimEvent, type Source } from './event-fields.js';
import { dropAliasedRoots, expandRoots, isInside, normaliseRoots, scopeMatcher, type Scope, type ScopeMatcher } from './scope.js';
import { createStormLimiter, type StormLimiter, type StormSummary } from './storm.js';
import { pairRenames } from './rename.js';
import { createTriage, type Triage } from './triage.js';
import { lookAll, walk, type WalkResult } from './walk.js';

/** Real-time baseline changes reach the disk at most this often (and at stop, and after rescans). */
const SAVE_INTERVAL_MS = 5_000;
/** A path that never goes quiet is still reported after this many debounce periods. */
const MAX_WAIT_FACTOR = 10;

export interface FimDeps {
  accounts: () => Promise<Accounts>;
  /** The host's package manager, asked whether changes are its doing (undefined: none known). */
  packages: () => Promise<PackageOracle | undefined>;
  /** Lists a directory, for `*` in watch paths. */
  listDir: (dir: string) => string[] | undefined;
  /** Resolves symlinks in a path (undefined when it does not exist), to drop roots that alias others. */
  realpath: (path: string) => string | undefined;
  /** The clock, ms (storm windows). */
  now: () => number;
  /** Observes every batch of fim events as it is handed to ctx.emit (the benchmark's stopwatch). */
  onEmit?: (events: Observation[]) => void;
  /** Real-time watching (the benchmark swaps in chokidar as its reference). */
  watch: (paths: readonly string[], opts: WatchOptions) => PathWatcher;
}

interface Pending {
  timer: NodeJS.Timeout;
  since: number;
}

/** A baseline change: the entry a path now has, or null when it is gone. */
type Updates = Map<string, Entry | null>;

export function createFimCheck(deps: Partial<FimDeps> = {}): Check {
  const accounts = deps.accounts ?? (() => loadAccounts());
  let oracle: Promise<PackageOracle | undefined> | undefined;
  const packages = deps.packages ?? (() => (oracle ??= detectPackageOracle().catch(() => undefined)));
  const lister = deps.listDir ?? ((d: string) => { try { return listDir(d); } catch { return undefined; } });
  const now = deps.now ?? (() => Date.now());
  const realpath = deps.realpath ?? realPathOf;
  const watchWith = deps.watch ?? watchPaths;
  let config: FimConfig | undefined;
  let triage: Triage | undefined;
  let storms: StormLimiter | undefined;
  let baseline: Baseline | undefined;
  let loadedFrom: string | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let watcher: PathWatcher | undefined;
  let live: CheckContext | undefined;
  let pool: HashPool | undefined;
  const pending = new Map<string, Pending>();
  const ready = new Set<string>();
  /** Real-time changes counted into storms not reported yet: not in the saved baseline until they are. */
  const deferred: Updates = new Map();
  let flushQueued = false;
  let saveTimer: NodeJS.Timeout | undefined;
  let stormTimer: NodeJS.Timeout | undefined;
  /**
   * Real-time deletions not yet reported, and until when: a deletion waits one debounce period
   * for the creation that makes it a rename (chokidar reports the two halves of a move apart).
   */
  const heldDeletes = new Map<string, number>();
  let holdTimer: NodeJS.Timeout | undefined;
  let dirty = false;
  let watchErrorReported = false;

  const cfg = (): FimConfig => {
    if (!config) throw new AgentError(AgentCodes.CHECK_NOT_INITIALIZED, 'check "fim" used before init()');
    return config;
  };
  const scopeOf = (c: FimConfig): Scope => {
    const s: Scope = { roots: dropAliasedRoots(normaliseRoots(expandRoots(c.paths, lister)), realpath), exclude: [...c.exclude] };
    if (c.include.length > 0) s.include = [...c.include];
    return s;
  };
  // The agent's own state folder is never watched: writing the baseline must not report itself.
  const matcherFor = (scope: Scope, ctx: CheckContext): ScopeMatcher => scopeMatcher(scope, [ctx.stateDir]);
  const hashPool = (): HashPool => (pool ??= createHashPool({ threads: cfg().threads }));
  const stormWindowMs = (): number => cfg().storm_window_s * 1000;

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

  let accountsCache: { at: number; names: Promise<Accounts> } | undefined;
  /** User and group names, read again at most once a minute (a burst is many batches). */
  function names(): Promise<Accounts> {
    const t = Date.now();
    if (!accountsCache || t - accountsCache.at > 60_000) accountsCache = { at: t, names: accounts() };
    return accountsCache.names;
  }

  async function observations(events: FimEvent[], summaries: StormSummary[], source: Source): Promise<Observation[]> {
    const names_ = await names();
    const observedAt = new Date().toISOString();
    const out = events
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((ev): Observation => ({ kind: 'fim', observedAt, fields: eventFields(ev, source, names_) }));
    for (const s of summaries) out.push({ kind: 'fim', observedAt, fields: stormFields(s, source, stormWindowMs()) });
    return out;
  }

  async function emit(ctx: CheckContext, obs: Observation[]): Promise<void> {
    if (obs.length === 0) return;
    await ctx.emit(obs);
    deps.onEmit?.(obs);
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
    const p = hashPool();
    const result = await walk(scope.roots, { matcher: matcherFor(scope, ctx), maxHashBytes: c.max_hash_bytes, previous: new EntryStore(), pool: p });
    logFailures(ctx, result);
    baseline = { scope, createdAt: new Date().toISOString(), entries: result.entries };
    loadedFrom = ctx.stateDir;
    await persist(ctx);
    notes.push(health('baseline_created', 'ok', 'FIM baseline created; changes are reported from now on', {
      'fim.baseline.entries': result.entries.size,
      'fim.baseline.unreadable': result.failed.length,
      'fim.baseline.duration_ms': Math.round(performance.now() - started),
      'fim.baseline.threads': p.threads,
    }));
  }

  /** Differences between the baseline and a fresh walk, honouring scope changes silently. */
  function compare(base: Baseline, current: EntryStore, oldScope: ScopeMatcher, newScope: ScopeMatcher): FimEvent[] {
    const events: FimEvent[] = [];
    for (const [path, after] of current) {
      const before = base.entries.get(path);
      if (!before) {
        if (oldScope.wants(path, after.type)) events.push({ path, action: 'created', after });
        continue;
      }
      const d = diffEntries(before, after);
      if (d) events.push({ path, action: d.action, before, after, changes: d.changes });
    }
    for (const path of base.entries.keys()) {
      if (current.has(path)) continue;
      const before = base.entries.get(path)!;
      if (newScope.wants(path, before.type)) events.push({ path, action: 'deleted', before });
    }
    return events;
  }

  /** Triage, storm limiting, emit. Returns the events counted into storms still open (real time only). */
  async function report(ctx: CheckContext, found: FimEvent[], source: Source): Promise<FimEvent[]> {
    if (found.length === 0) return [];
    const t = now();
    const { events } = await triage!.run(found, t, ctx.log);
    const admitted = storms!.admit(events, t);
    // A rescan's storms are complete: summarised at once. Real-time ones stay open for their window.
    const summaries = source === 'rescan' ? storms!.close(t, true) : [];
    const held = source === 'rescan' ? [] : storms!.held();
    await emit(ctx, await observations(admitted, summaries, source));
    return held;
  }

  /** Emits the real-time storm summaries that are due (all with `force`), then lets their changes into the baseline. */
  async function closeStorms(ctx: CheckContext, force: boolean): Promise<void> {
    if (!storms || !baseline) return;
    const summaries = storms.close(now(), force);
    if (summaries.length === 0) return;
    await emit(ctx, await observations([], summaries, 'realtime'));
    const stillHeld = new Set(storms.held().flatMap((e) => (e.fromPath ? [e.path, e.fromPath] : [e.path])));
    for (const [p, e] of deferred) {
      if (stillHeld.has(p)) continue;
      if (e) baseline.entries.set(p, e);
      else baseline.entries.delete(p);
      deferred.delete(p);
    }
    dirty = true;
    scheduleSave(ctx);
  }

  function scheduleStorms(ctx: CheckContext): void {
    if (stormTimer || !storms) return;
    const next = storms.nextClose();
    if (next === undefined) return;
    stormTimer = setTimeout(() => {
      stormTimer = undefined;
      void withLock(() => closeStorms(ctx, false))
        .catch((e: unknown) => ctx.log.error('fim storm summary could not be reported; it is retried', { error: (e as Error).message }))
        .finally(() => scheduleStorms(ctx));
    }, Math.max(0, next - now()));
    stormTimer.unref();
  }

  async function rescan(ctx: CheckContext): Promise<Observation[]> {
    const notes: Observation[] = [];
    const base = await load(ctx, notes);
    if (!base) {
      await build(ctx, notes);
      return notes;
    }
    // Real-time storms still open are closed first, so the rescan does not count their changes again.
    await closeStorms(ctx, true);
    const c = cfg();
    const scope = scopeOf(c);
    const newScope = matcherFor(scope, ctx);
    const result = await walk(scope.roots, { matcher: newScope, maxHashBytes: c.max_hash_bytes, previous: base.entries, pool: hashPool() });
    logFailures(ctx, result);
    // What could not be looked at this time is taken to be as it was, not deleted.
    if (result.failed.length > 0) {
      const failed = result.failed.map((f) => f.path);
      for (const p of base.entries.keys()) {
        if (!result.entries.has(p) && failed.some((f) => p === f || isInside(f, p))) result.entries.set(p, base.entries.get(p)!);
      }
    }
    const events = compare(base, result.entries, matcherFor(base.scope, ctx), newScope);
    await report(ctx, events, 'rescan');
    base.entries = result.entries;
    base.scope = scope;
    await persist(ctx);
    return notes;
  }

  /** Real time: look again at paths something happened to, report, then update the baseline. */
  async function reconcile(paths: string[], ctx: CheckContext, final = false): Promise<void> {
    const base = baseline;
    if (!base) return;
    const c = cfg();
    const matcher = matcherFor(base.scope, ctx);
    const events: FimEvent[] = [];
    const updates: Updates = new Map();
    const current = (p: string): Entry | undefined => {
      if (updates.has(p)) return updates.get(p) ?? undefined;
      if (deferred.has(p)) return deferred.get(p) ?? undefined;
      return base.entries.get(p);
    };
    const goneBelow = (dir: string) => {
      const below = new Set<string>();
      for (const q of base.entries.keys()) if (isInside(dir, q)) below.add(q);
      for (const [q, e] of deferred) if (e && isInside(dir, q)) below.add(q);
      for (const q of below) {
        const e = current(q);
        if (!e) continue;
        events.push({ path: q, action: 'deleted', before: e });
        updates.set(q, null);
      }
    };
    const addedBelow = async (dir: string) => {
      const sub = await walk([dir], { matcher, maxHashBytes: c.max_hash_bytes, previous: { get: current }, pool: hashPool() });
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
    // Held deletions are looked at again with every batch, so a creation in it can pair with them.
    const wanted = [...new Set([...paths, ...heldDeletes.keys()])].filter((p) => matcher.covers(p)).sort();
    const looks = await lookAll(wanted, { get: current }, c.max_hash_bytes, hashPool());
    for (const look of looks) {
      const { path } = look;
      if ('code' in look) {
        ctx.log.warn('fim path could not be read', { path, code: look.code });
        continue;
      }
      const before = current(path);
      const after = look.entry && matcher.wants(path, look.entry.type) ? look.entry : undefined;
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
    // Renames first; a deletion left over waits (once) for its other half, keeping its baseline entry.
    const now = Date.now();
    const holdMs = Math.max(200, c.debounce_ms);
    const stillHeld = new Set<string>();
    const found = pairRenames(events).filter((e) => {
      if (e.action !== 'deleted') return true;
      let until = heldDeletes.get(e.path);
      if (until === undefined) {
        until = now + holdMs;
        heldDeletes.set(e.path, until);
      }
      if (final || now >= until) return true;
      stillHeld.add(e.path);
      updates.delete(e.path); // the baseline keeps it until it is reported
      return false;
    });
    for (const p of [...heldDeletes.keys()]) if (!stillHeld.has(p)) heldDeletes.delete(p);
    scheduleHeld(ctx);
    const held = await report(ctx, found, 'realtime');
    const heldPaths = new Set(held.flatMap((e) => (e.fromPath ? [e.path, e.fromPath] : [e.path])));
    for (const [p, e] of updates) {
      if (heldPaths.has(p)) {
        deferred.set(p, e);
        continue;
      }
      deferred.delete(p);
      if (e) base.entries.set(p, e);
      else base.entries.delete(p);
    }
    if (updates.size > 0) {
      dirty = true;
      scheduleSave(ctx);
    }
    scheduleStorms(ctx);
  }

  function scheduleHeld(ctx: CheckContext): void {
    if (holdTimer) clearTimeout(holdTimer);
    holdTimer = undefined;
    if (heldDeletes.size === 0) return;
    const next = Math.min(...heldDeletes.values());
    holdTimer = setTimeout(() => {
      holdTimer = undefined;
      for (const [p, until] of heldDeletes) if (until <= Date.now()) ready.add(p);
      flushReady(ctx);
    }, Math.max(0, next - Date.now()) + 5);
    holdTimer.unref();
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
      // Paths that become ready while an earlier batch holds the lock join this batch: it takes
      // what is ready when it starts, not when it was queued (a burst is a few batches, not hundreds).
      void withLock(async () => {
        flushQueued = false;
        const paths = [...ready];
        ready.clear();
        if (paths.length > 0) await reconcile(paths, ctx);
      }).catch((e: unknown) => {
        ctx.log.error('fim real-time changes could not be reported; the next rescan will', { error: (e as Error).message });
      });
    });
  }

  function onPath(path: string, ctx: CheckContext, debounceMs: number): void {
    const t = Date.now();
    const seen = pending.get(path);
    if (seen) clearTimeout(seen.timer);
    const since = seen?.since ?? t;
    const fire = () => {
      pending.delete(path);
      ready.add(path);
      flushReady(ctx);
    };
    if (t - since >= debounceMs * MAX_WAIT_FACTOR) {
      fire();
      return;
    }
    pending.set(path, { timer: setTimeout(fire, debounceMs), since });
  }

  async function releasePool(): Promise<void> {
    const p = pool;
    pool = undefined;
    await p?.close();
  }

  return {
    name: 'fim',
    kinds: ['fim', 'health'],

    init(raw: unknown) {
      config = parseCheckConfig('fim', fimConfig, raw);
      triage = createTriage(config, packages);
      storms = createStormLimiter({ threshold: config.storm_threshold, windowMs: config.storm_window_s * 1000, depth: config.storm_prefix_depth });
    },

    schedule() {
      return config?.rescan;
    },

    async collect(ctx): Promise<CollectResult> {
      cfg();
      try {
        const notes = await withLock(() => rescan(ctx));
        return { snapshots: [], events: notes };
      } finally {
        // Without a watcher nothing needs the workers until the next rescan.
        if (!watcher) await releasePool();
      }
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
      const scope = baseline?.scope ?? scopeOf(c);
      const matcher = matcherFor(scope, ctx);
      watcher = watchWith(scope.roots, {
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
      if (!ctx) {
        await releasePool();
        return;
      }
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
      if (stormTimer) clearTimeout(stormTimer);
      stormTimer = undefined;
      await withLock(async () => {
        if (holdTimer) clearTimeout(holdTimer);
        holdTimer = undefined;
        if (paths.length > 0 || heldDeletes.size > 0) await reconcile(paths, ctx, true).catch((e: unknown) => ctx.log.error('fim changes at stop could not be reported', { error: (e as Error).message }));
        heldDeletes.clear();
        await closeStorms(ctx, true).catch((e: unknown) => ctx.log.error('fim storm summary at stop could not be reported', { error: (e as Error).message }));
        if (stormTimer) clearTimeout(stormTimer);
        stormTimer = undefined;
        if (dirty) await persist(ctx);
      });
      await releasePool();
      live = undefined;
    },
  };
}
