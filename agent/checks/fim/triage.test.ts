/** The pure parts between finding and reporting: renames, storms, ignore rules, maintenance windows, scope. */
import { describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { FileChange, PackageOracle, PackageVerdict } from '../../host/package-changes.js';
import { fimConfig } from './config.js';
import { defaultWatchSet, WATCH_SETS } from './defaults.js';
import type { Entry } from './entry.js';
import { eventFields, stormFields, type FimEvent } from './event-fields.js';
import { changeTimeMs, ignoreFilter, inWindow, maintenanceMatcher } from './policy.js';
import { pairRenames } from './rename.js';
import { dropAliasedRoots, expandRoots, scopeMatcher } from './scope.js';
import { createStormLimiter, prefixOf, stormMessage } from './storm.js';
import { createTriage } from './triage.js';
import { NO_ACCOUNTS } from '../../host/accounts.js';
import { readFileSync } from 'node:fs';

const f = (over: Partial<Entry> = {}): Entry => ({ type: 'file', size: 10, mode: 0o644, uid: 0, gid: 0, mtimeNs: '1000', ctimeNs: '2000', ino: '11', dev: '1', sha256: 'a'.repeat(64), ...over });

describe('renames', () => {
  it('pairs a deletion and a creation of the same inode (mv), and of the same content across devices', () => {
    const events: FimEvent[] = [
      { path: '/d/report.xlsx', action: 'deleted', before: f({ ino: '5' }) },
      { path: '/d/report.xlsx.locked', action: 'created', after: f({ ino: '5', ctimeNs: '9000' }) },
      { path: '/d/copy-src', action: 'deleted', before: f({ ino: '6', sha256: 'b'.repeat(64) }) },
      { path: '/mnt/other/copy-dst', action: 'created', after: f({ ino: '99', dev: '2', sha256: 'b'.repeat(64) }) },
      { path: '/d/untouched', action: 'modified', before: f(), after: f({ sha256: 'c'.repeat(64) }), changes: ['content'] },
    ];
    const out = pairRenames(events);
    expect(out.map((e) => [e.action, e.path, e.fromPath, e.changes])).toEqual([
      ['renamed', '/d/report.xlsx.locked', '/d/report.xlsx', ['name', 'extension']],
      ['renamed', '/mnt/other/copy-dst', '/d/copy-src', ['name']],
      ['modified', '/d/untouched', undefined, ['content']],
    ]);
    const fields = eventFields(out[0]!, 'realtime', NO_ACCOUNTS);
    expect(fields).toMatchObject({ 'event.action': 'renamed', 'event.type': 'change', 'file.path': '/d/report.xlsx.locked', 'file.extension': 'locked', 'file.before.path': '/d/report.xlsx', 'file.before.extension': 'xlsx', 'fim.expected': false });
  });

  it('does not pair a reused inode with another mtime, ambiguous content, empty files or different types', () => {
    const events: FimEvent[] = [
      { path: '/d/a', action: 'deleted', before: f({ ino: '5', mtimeNs: '1' }) },
      { path: '/d/b', action: 'created', after: f({ ino: '5', mtimeNs: '2', sha256: 'd'.repeat(64) }) },
      { path: '/d/c', action: 'deleted', before: f({ ino: '7', sha256: 'e'.repeat(64) }) },
      { path: '/d/c2', action: 'created', after: f({ ino: '8', sha256: 'e'.repeat(64) }) },
      { path: '/d/c3', action: 'created', after: f({ ino: '9', sha256: 'e'.repeat(64) }) },
      { path: '/d/empty', action: 'deleted', before: f({ ino: '10', size: 0, sha256: 'f'.repeat(64) }) },
      { path: '/d/empty2', action: 'created', after: f({ ino: '12', size: 0, sha256: 'f'.repeat(64) }) },
      { path: '/d/dir', action: 'deleted', before: f({ type: 'dir', ino: '13' }) },
      { path: '/d/file', action: 'created', after: f({ type: 'file', ino: '13', sha256: '0'.repeat(64) }) },
    ];
    expect(pairRenames(events).every((e) => e.action !== 'renamed')).toBe(true);
  });
});

describe('storms', () => {
  const ev = (path: string, action: FimEvent['action'] = 'modified', expected = false): FimEvent =>
    ({ path, action, after: f(), ...(expected ? { expected: { reason: 'package' as const, package: 'x' } } : {}) });

  it('prefixes paths by their leading components', () => {
    expect(prefixOf('/var/lib/x/y/z', 3)).toBe('/var/lib/x');
    expect(prefixOf('/var/lib/x', 3)).toBe('/var/lib');
    expect(prefixOf('/etc/passwd', 3)).toBe('/etc');
    expect(prefixOf('/a', 1)).toBe('/');
  });

  it('reports the first `threshold` changes under a prefix, counts the rest into one summary per window', () => {
    const s = createStormLimiter({ threshold: 3, windowMs: 60_000, depth: 3 });
    const first = s.admit([1, 2, 3, 4, 5].map((i) => ev(`/var/lib/x/f${i}`)), 1000);
    expect(first.map((e) => e.path)).toEqual(['/var/lib/x/f1', '/var/lib/x/f2', '/var/lib/x/f3']);
    // Other prefixes are not affected.
    expect(s.admit([ev('/var/lib/y/a')], 1000)).toHaveLength(1);
    expect(s.admit([ev('/var/lib/x/f6', 'created', true), ev('/var/lib/x/f7', 'deleted')], 2000)).toEqual([]);
    expect(s.close(30_000)).toEqual([]);
    expect(s.nextClose()).toBe(61_000);
    expect(s.held().map((e) => e.path)).toEqual(['/var/lib/x/f4', '/var/lib/x/f5', '/var/lib/x/f6', '/var/lib/x/f7']);
    const [sum, ...none] = s.close(61_000);
    expect(none).toEqual([]);
    expect(sum).toMatchObject({ prefix: '/var/lib/x', count: 4, reported: 3, expected: 1, byAction: { modified: 2, created: 1, deleted: 1 }, spanMs: 60_000 });
    expect(sum!.sample).toEqual(['/var/lib/x/f4', '/var/lib/x/f5', '/var/lib/x/f6', '/var/lib/x/f7']);
    expect(stormMessage({ ...sum!, count: 1040, reported: 200 }, false)).toBe('1,240 changes under /var/lib/x in 60 s (200 reported one by one, 1,040 counted here)');
    expect(s.held()).toEqual([]);
    const fields = stormFields(sum!, 'realtime', 60_000);
    expect(fields).toMatchObject({ 'event.action': 'change_storm', 'file.path': '/var/lib/x', 'fim.storm.count': 4, 'fim.storm.modified': 2, 'fim.storm.created': 1, 'fim.expected': false, 'fim.storm.window_s': 60 });
  });

  it('a storm that goes on is summarised window after window, and quiet prefixes report one by one again', () => {
    const s = createStormLimiter({ threshold: 2, windowMs: 10_000, depth: 2 });
    expect(s.admit([ev('/srv/a/1'), ev('/srv/a/2'), ev('/srv/a/3')], 0)).toHaveLength(2);
    expect(s.admit([ev('/srv/a/4'), ev('/srv/a/5')], 9_000)).toEqual([]);
    expect(s.close(10_000).map((x) => x.count)).toEqual([3]);
    // Still busy: the latest changes fill the window, so the next ones are counted at once.
    expect(s.admit([ev('/srv/a/6')], 10_500)).toEqual([]);
    expect(s.close(20_500, true).map((x) => x.count)).toEqual([1]);
    // Quiet for a window: reported one by one again.
    expect(s.admit([ev('/srv/a/7')], 40_000)).toHaveLength(1);
  });
});

describe('policy', () => {
  it('ignore rules drop matching actions under matching paths (old or new path of a rename)', () => {
    const ignored = ignoreFilter(fimConfig.parse({ ignore: [{ path: '/var/www/uploads/**' }, { path: '/etc/**/*.bak', actions: ['created'] }] }).ignore);
    expect(ignored({ path: '/var/www/uploads/a.png', action: 'created' })).toBe(true);
    expect(ignored({ path: '/var/www/app/index.php', action: 'created' })).toBe(false);
    expect(ignored({ path: '/etc/nginx/x.bak', action: 'created' })).toBe(true);
    expect(ignored({ path: '/etc/nginx/x.bak', action: 'deleted' })).toBe(false);
    expect(ignored({ path: '/var/www/app/shell.php', action: 'renamed', fromPath: '/var/www/uploads/shell.png' })).toBe(true);
  });

  it('maintenance windows by local day and time, including ones past midnight', () => {
    const at = (iso: string) => new Date(iso);
    const w = { days: ['tue'] as ('tue')[], start: '22:00', end: '02:00' };
    expect(inWindow(w, at('2026-03-03T23:00:00'))).toBe(true); // Tuesday 23:00
    expect(inWindow(w, at('2026-03-04T01:59:00'))).toBe(true); // Wednesday 01:59, window opened Tuesday
    expect(inWindow(w, at('2026-03-04T02:00:00'))).toBe(false);
    expect(inWindow(w, at('2026-03-04T23:00:00'))).toBe(false); // Wednesday evening
    expect(inWindow({ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '09:00', end: '17:00' }, at('2026-03-07T12:00:00'))).toBe(true);
    const m = maintenanceMatcher(fimConfig.parse({ maintenance: [{ name: 'app-deploy', start: '09:00', end: '10:00', paths: ['/opt/app/**'] }] }).maintenance);
    const t = at('2026-03-05T09:30:00').getTime();
    expect(m({ path: '/opt/app/bin/run', action: 'modified' }, t)).toBe('app-deploy');
    expect(m({ path: '/etc/passwd', action: 'modified' }, t)).toBeUndefined();
    expect(m({ path: '/opt/app/bin/run', action: 'modified' }, t + 3_600_000)).toBeUndefined();
    expect(changeTimeMs({ path: '/x', action: 'modified', after: f({ ctimeNs: '1700000000123456789' }) }, 5)).toBe(1700000000123);
    expect(changeTimeMs({ path: '/x', action: 'deleted', before: f() }, 5)).toBe(5);
  });
});

describe('triage', () => {
  const oracle = (verdicts: Record<string, PackageVerdict>, seen: FileChange[][] = []): PackageOracle => ({
    manager: 'dpkg',
    explain: async (changes) => {
      seen.push([...changes]);
      return new Map(Object.entries(verdicts));
    },
  });

  it('pairs renames, drops ignored changes, marks package and maintenance explanations (package first)', async () => {
    const seen: FileChange[][] = [];
    const c = fimConfig.parse({ ignore: [{ path: '/srv/cache/**' }], maintenance: [{ name: 'always', start: '00:00', end: '23:59' }] });
    const triage = createTriage(c, async () => oracle({ '/usr/bin/ls': { package: 'coreutils', version: '9.1-1', expected: true }, '/usr/bin/sudo': { package: 'sudo', version: '1.9', expected: false } }, seen));
    const r = await triage.run([
      { path: '/usr/bin/ls', action: 'modified', before: f(), after: f({ sha256: 'b'.repeat(64) }), changes: ['content'] },
      { path: '/usr/bin/sudo', action: 'modified', before: f(), after: f({ sha256: 'c'.repeat(64) }), changes: ['content'] },
      { path: '/srv/cache/x', action: 'created', after: f() },
    ], Date.now(), logger('test'));
    expect(r.ignored.map((e) => e.path)).toEqual(['/srv/cache/x']);
    expect(seen[0]!.map((x) => x.path)).toEqual(['/usr/bin/ls', '/usr/bin/sudo']);
    expect(seen[0]![0]).toMatchObject({ type: 'file', deleted: false, sha256: 'b'.repeat(64), atMs: 0 });
    const [ls, sudo] = r.events.map((e) => eventFields(e, 'rescan', NO_ACCOUNTS));
    expect(ls).toMatchObject({ 'fim.expected': true, 'fim.expected_reason': 'package', 'fim.package': 'coreutils', 'fim.package_version': '9.1-1' });
    // Owned by sudo but not its doing; the (all-day) maintenance window explains it instead.
    expect(sudo).toMatchObject({ 'fim.expected': true, 'fim.expected_reason': 'maintenance', 'fim.maintenance': 'always', 'fim.package': 'sudo' });
  });

  it('asks nobody when attribution is off, and a failing package manager leaves changes unexplained', async () => {
    const seen: FileChange[][] = [];
    const off = createTriage(fimConfig.parse({ package_attribution: 'off' }), async () => oracle({}, seen));
    await off.run([{ path: '/x', action: 'created', after: f() }], 0, logger('test'));
    expect(seen).toEqual([]);
    const broken = createTriage(fimConfig.parse({}), async () => ({ manager: 'dpkg', explain: async () => { throw new Error('dpkg is locked'); } }));
    const r = await broken.run([{ path: '/x', action: 'created', after: f() }], 0, logger('test'));
    expect(r.events[0]!.expected).toBeUndefined();
  });
});

describe('scope', () => {
  it('include patterns: bare ones apply everywhere, ones with a slash only below their start', () => {
    const m = scopeMatcher({ roots: ['/opt/Program Files', '/etc'], exclude: [], include: ['/opt/Program Files/**/*.{exe,dll}'] });
    expect(m.wants('/opt/Program Files/App/app.exe', 'file')).toBe(true);
    expect(m.wants('/opt/Program Files/App/readme.txt', 'file')).toBe(false);
    expect(m.wants('/opt/Program Files/App', 'dir')).toBe(true);
    expect(m.wants('/etc/hosts', 'file')).toBe(true);
    const bare = scopeMatcher({ roots: ['/srv'], exclude: [], include: ['*.sh'] });
    expect(bare.wants('/srv/a/run.sh', 'file')).toBe(true);
    expect(bare.wants('/srv/a/data.csv', 'file')).toBe(false);
  });

  it('drops roots reached through a symlinked parent that another root covers (merged /usr), keeps symlink roots', () => {
    const links: Record<string, string> = { '/lib/systemd': '/usr/lib/systemd', '/opt/app': '/srv/app' };
    const real = (p: string) => links[p] ?? p;
    const roots = ['/etc', '/bin', '/usr/bin', '/usr/lib/systemd/system', '/lib/systemd/system', '/opt/app/conf'];
    expect(dropAliasedRoots(roots, real)).toEqual(['/etc', '/bin', '/usr/bin', '/usr/lib/systemd/system', '/opt/app/conf']);
    expect(dropAliasedRoots(roots, (p) => p)).toEqual(roots);
    expect(dropAliasedRoots(['/lib/systemd/system'], real)).toEqual(['/lib/systemd/system']);
  });

  it('expands * in watch paths to what exists, in name order', () => {
    const tree: Record<string, string[]> = { '/home': ['lan', 'an'], '/': ['home'] };
    expect(expandRoots(['/home/*/.ssh', '/etc', '/nope/*/x'], (d) => tree[d])).toEqual(['/home/an/.ssh', '/home/lan/.ssh', '/etc']);
  });
});

describe('default watch sets', () => {
  it('Linux watches what the issue lists, and each set is in the README', () => {
    expect(defaultWatchSet('linux').paths).toEqual(expect.arrayContaining(['/etc', '/bin', '/sbin', '/usr/bin', '/usr/sbin', '/boot', '/root/.ssh', '/home/*/.ssh', '/var/spool/cron', '/usr/lib/systemd/system', '/var/www']));
    expect(defaultWatchSet('win32').paths).toEqual(expect.arrayContaining(['C:\\Windows\\System32\\drivers', 'C:\\Windows\\System32\\Tasks', 'C:\\Program Files']));
    expect(defaultWatchSet('darwin').paths).toEqual(expect.arrayContaining(['/private/etc', '/Library/LaunchAgents', '/Library/LaunchDaemons']));
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    for (const set of Object.values(WATCH_SETS)) for (const p of [...set.paths, ...set.include]) expect(readme, p).toContain(`\`${p}\``);
  });
});
