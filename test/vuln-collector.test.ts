/**
 * Vulnerability matching wired into the collector, in-process (buildCollector, the real pipeline,
 * SQLite store, shipped rules, an injected clock): a host's package snapshot is matched against the
 * active feed; the findings keep their first-seen time across evaluations; the age rules raise
 * alerts on the scheduled state pass; patching resolves the alert with actor system:vuln and the
 * reason in the audit trail; a new feed re-evaluates every host without a rescan; the end-of-life
 * and reboot rules fire on host state.
 */
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fields, Finding, FindingRecord } from '../common/finding.js';
import { buildCollector, resolveProgramPath, type Collector } from '../collector/app.js';
import { loadRules } from '../collector/rules.js';
import { openStore } from '../collector/store/index.js';
import type { AgentRecord, Alert, Store } from '../collector/store/types.js';
import { buildBundle, importBundle, verifyBundle } from '../collector/vuln/index.js';
import { TEST_BUNDLE, TEST_PRIVATE_KEY, testTrustedKey } from '../collector/vuln/testing/fixtures.js';
import { toWire, type WireFinding } from '../proto/convert.js';
import { parseDpkgQuery } from '../agent/host/linux/dpkg.js';
import { windowsOsFields } from '../agent/checks/inventory/host-fields.js';
import { parseCurrentVersion } from '../agent/host/windows/os-version.js';
import { dpkgFields, keepDpkg, toItems } from '../agent/checks/packages/package-items.js';

const root = mkdtempSync(join(tmpdir(), 'canhgac-vuln-collector-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const RULES = resolveProgramPath('rules/detection');
const DPKG = readFileSync(resolveProgramPath('test/fixtures/feed/dpkg-query.debian12.txt'), 'utf8');
const DAY = 86_400_000;
const RULE = {
  critical: '00575560-9006-48d5-9d80-e0dc95b14812',
  pending: 'cc44d28b-34be-4150-bf8e-87326f79ea3b',
  eol: '5a4621bc-641b-4a24-9164-bde6ae1780cc',
  reboot: 'ffb480b7-f42c-4873-b5dc-f3c9ee380857',
};

const debian12Host: Fields = {
  'host.name': 'srv-01', 'host.hostname': 'srv-01', 'host.os.type': 'linux', 'host.os.family': 'debian', 'host.os.platform': 'debian',
  'host.os.name': 'Debian GNU/Linux', 'host.os.version': '12', 'host.os.full': 'Debian GNU/Linux 12 (bookworm)', 'host.os.kernel': '6.1.0-21-amd64',
};

/** The recorded Debian 12 inventory as the packages check would send it, with optional upgrades. */
function packageFields(upgrades: Record<string, string> = {}): Fields[] {
  return parseDpkgQuery(DPKG).packages.filter((p) => keepDpkg(p, 'on_disk')).map((p) => {
    const up = upgrades[p.sourceName];
    return dpkgFields(up ? { ...p, version: up, sourceVersion: up } : p);
  });
}

interface Env {
  dir: string;
  store: Store;
  collector: Collector;
  agent: AgentRecord;
  now: { t: number };
  seq: { n: number };
}

let env: Env | undefined;

async function setup(opts: { feed?: boolean } = {}): Promise<Env> {
  const dir = mkdtempSync(join(root, 'data-'));
  if (opts.feed !== false) await importBundle(TEST_BUNDLE, dir, [testTrustedKey()]);
  const store = await openStore({ type: 'sqlite' }, dir);
  // The collector's clock starts at the real time (agents' observation times must be plausible) and the tests move it forward.
  const now = { t: Date.now() };
  const collector = await buildCollector({
    dataDir: dir, store, rules: loadRules(RULES),
    vulnerabilities: { clock: () => new Date(now.t), feedPollMs: 0, statePassMs: 0 },
  });
  const at = new Date(now.t).toISOString();
  const agent: AgentRecord = {
    id: `agent-${randomUUID()}`, hostName: 'srv-01', certFingerprint: 'ab'.repeat(32), os: 'linux', version: '0.1.0', group: 'default',
    enrolledAt: at, lastSeen: at, lastSeq: 0, status: 'active',
  };
  await store.upsertAgent(agent);
  env = { dir, store, collector, agent, now, seq: { n: 0 } };
  return env;
}

afterEach(async () => {
  await env?.collector.close();
  env = undefined;
});

/** Sends one state snapshot through the real pipeline, as the agent would. */
async function sendSnapshot(e: Env, kind: 'host' | 'package', items: { stateKey: string; fields: Fields }[]): Promise<void> {
  const snapshotId = randomUUID();
  const observedAt = new Date().toISOString(); // the agent's own clock
  const findings: Finding[] = items.map((o, i) => ({
    id: randomUUID(), seq: ++e.seq.n, observedAt, check: kind === 'host' ? 'inventory' : 'packages', kind, stateKey: o.stateKey,
    snapshotId, snapshotTotal: i === items.length - 1 ? items.length : 0, fields: o.fields,
  }));
  for (let i = 0; i < findings.length; i += 1000) {
    const chunk = findings.slice(i, i + 1000);
    await e.collector.pipeline.ingest({ id: e.agent.id, hostName: e.agent.hostName }, { lastSeq: chunk[chunk.length - 1]!.seq, findings: chunk.map(wire) });
  }
  await e.collector.vulnerabilities.idle();
}

/** As the gRPC layer hands findings to the pipeline: protobuf oneofs decoded with their discriminator. */
function wire(f: Finding): WireFinding {
  const w = toWire(f);
  for (const v of Object.values(w.fields)) v.v = Object.keys(v)[0];
  return w;
}

async function sendInventory(e: Env, host: Fields = debian12Host, upgrades: Record<string, string> = {}): Promise<void> {
  await sendSnapshot(e, 'host', [{ stateKey: 'host', fields: host }]);
  await sendSnapshot(e, 'package', toItems(packageFields(upgrades)).map((o) => ({ stateKey: o.stateKey!, fields: o.fields })));
}

async function vulns(e: Env): Promise<FindingRecord[]> {
  return (await e.store.listFindings({ kind: 'vulnerability', agentId: e.agent.id, limit: 10_000 })).items;
}

async function alerts(e: Env, ruleId?: string): Promise<Alert[]> {
  return (await e.store.listAlerts({ agentId: e.agent.id, limit: 1000, ...(ruleId ? { ruleId } : {}) })).items;
}

describe('matching on the collector', () => {
  beforeEach(() => { env = undefined; });

  it('matches a stored package snapshot against the active feed: one finding per advisory and installed binary', async () => {
    const e = await setup();
    const start = new Date(e.now.t).toISOString();
    await sendInventory(e);
    const found = await vulns(e);
    const ids = [...new Set(found.map((r) => String(r.fields['vulnerability.id'])))].sort();
    // Debian-"unimportant" advisories without a fix (glibc, systemd, openssh) are counted, not reported.
    expect(ids).toEqual(['DEBIAN-CVE-2023-50495', 'DEBIAN-CVE-2024-8176', 'DEBIAN-CVE-2025-40909']);
    const installed = new Map(parseDpkgQuery(DPKG).packages.map((p) => [p.name, p.version]));
    for (const r of found) {
      expect(r.kind).toBe('vulnerability');
      expect(r.check).toBe('vuln');
      expect(r.stateKey).toBe(`${String(r.fields['vulnerability.id'])}:${String(r.fields['package.name'])}:${String(r.fields['package.architecture'])}`);
      expect(installed.get(String(r.fields['package.name']))).toBe(r.fields['package.version']);
      expect(r.fields['vulnerability.explanation']).toMatch(/^installed /);
      expect(Date.parse(String(r.fields['vulnerability.first_seen'])) - Date.parse(start)).toBeLessThan(10); // the evaluation clock, strictly increasing
      expect(['low', 'medium', 'high', 'critical']).toContain(r.fields['vulnerability.severity']);
    }
    const expat = found.filter((r) => r.fields['vulnerability.id'] === 'DEBIAN-CVE-2024-8176').map((r) => r.fields['package.name']).sort();
    expect(expat).toEqual(['libexpat1', 'libexpat1-dev']);
    const one = found.find((r) => r.fields['package.name'] === 'libexpat1')!.fields;
    expect(one).toMatchObject({
      'vulnerability.fixed_version': '2.5.0-1+deb12u2', 'vulnerability.fix_available': true, 'vulnerability.fix_available_since': one['vulnerability.first_seen'],
      'vulnerability.compared_version': '2.5.0-1+deb12u1', 'package.source.name': 'expat', 'vulnerability.ecosystem': 'Debian:12',
    });
    expect(found.find((r) => r.fields['vulnerability.id'] === 'DEBIAN-CVE-2023-50495')!.fields['vulnerability.fixed_version']).toBeUndefined();
  });

  it('waits for the host inventory before matching, and matches once it arrives', async () => {
    const e = await setup();
    await sendSnapshot(e, 'package', toItems(packageFields()).map((o) => ({ stateKey: o.stateKey!, fields: o.fields })));
    expect(await vulns(e)).toEqual([]);
    await sendSnapshot(e, 'host', [{ stateKey: 'host', fields: debian12Host }]);
    expect((await vulns(e)).length).toBe(14);
  });

  it('keeps first_seen across evaluations; the age rules fire on the scheduled pass, once', async () => {
    const e = await setup();
    const start = new Date(e.now.t).toISOString();
    await sendInventory(e);
    const first = await vulns(e);
    e.now.t += 10 * DAY;
    await sendInventory(e); // a rescan 10 days later that changed nothing: nothing is re-evaluated
    expect((await vulns(e)).map((r) => r.id).sort()).toEqual(first.map((r) => r.id).sort());
    await sendInventory(e, debian12Host, { bash: '5.2.15-2+b9' }); // an unrelated upgrade: a new evaluation, same first_seen
    const again = await vulns(e);
    expect(again.map((r) => r.id).sort()).not.toEqual(first.map((r) => r.id).sort());
    const firstSeen = new Set(again.map((r) => r.fields['vulnerability.first_seen']));
    expect(firstSeen.size).toBe(1);
    expect(Date.parse(String([...firstSeen][0])) - Date.parse(start)).toBeLessThan(10);
    expect(again.every((r) => Date.parse(r.observedAt) >= e.now.t)).toBe(true);
    expect(await alerts(e, RULE.pending)).toEqual([]);

    e.now.t += 21 * DAY; // 31 days after the fixes were first seen
    await e.collector.statePass.runAll();
    const pending = await alerts(e, RULE.pending);
    // One alert per host and source package with a fix: expat and perl (ncurses has no fix).
    expect(pending.map((a) => a.summary.replace(/^.*: /, '').split(' ')[0]).sort()).toEqual(['DEBIAN-CVE-2024-8176', 'DEBIAN-CVE-2025-40909']);
    expect(pending.every((a) => a.severity === 'high' && a.status === 'open' && a.count === 1)).toBe(true);
    expect(pending[0]!.tags.compliance).toMatchObject({ nist_800_53: ['SI-2'] });
    await e.collector.statePass.runAll();
    expect((await alerts(e, RULE.pending)).map((a) => a.count)).toEqual([1, 1]);
  });

  it('a patched package resolves its alert as resolved by patch (actor system:vuln, reason in the audit trail)', async () => {
    const e = await setup();
    await sendInventory(e);
    e.now.t += 31 * DAY;
    await e.collector.statePass.runAll();
    const before = await alerts(e, RULE.pending);
    expect(before).toHaveLength(2);
    e.now.t += DAY;
    await sendInventory(e, debian12Host, { expat: '2.5.0-1+deb12u2' });
    const ids = new Set((await vulns(e)).map((r) => r.fields['vulnerability.id']));
    expect(ids.has('DEBIAN-CVE-2024-8176')).toBe(false);
    const after = await alerts(e, RULE.pending);
    const expat = after.find((a) => a.summary.includes('DEBIAN-CVE-2024-8176'))!;
    const perl = after.find((a) => a.summary.includes('DEBIAN-CVE-2025-40909'))!;
    expect(expat.status).toBe('resolved');
    expect(perl.status).toBe('open');
    const audit = await e.store.listAudit({ target: `alert:${expat.id}` });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'system:vuln', action: 'alert.status', from: 'open', to: 'resolved' });
    expect(audit[0]!.reason).toMatch(/^resolved by patch: libexpat1(-dev)? 2\.5\.0-1\+deb12u1 → 2\.5\.0-1\+deb12u2 \(fixed in 2\.5\.0-1\+deb12u2\); DEBIAN-CVE-2024-8176 no longer matches/);
    // perl keeps its first_seen; the state pass does not raise the expat alert again.
    await e.collector.statePass.runAll();
    expect((await alerts(e, RULE.pending)).filter((a) => a.status === 'open')).toHaveLength(1);
  });

  it('an analyst\'s false positive is not raised again by the next pass', async () => {
    const e = await setup();
    await sendInventory(e);
    e.now.t += 31 * DAY;
    await e.collector.statePass.runAll();
    const [a] = await alerts(e, RULE.pending);
    await e.store.changeAlertStatus(a!.id, { to: 'false_positive', actor: 'analyst', reason: 'held back on purpose', expectedVersion: a!.version });
    await e.collector.statePass.runAll();
    await sendInventory(e, debian12Host, { bash: '5.2.15-2+b9' }); // re-evaluated: the same vulnerabilities again
    expect(await alerts(e, RULE.pending)).toHaveLength(2);
    expect((await alerts(e, RULE.pending)).filter((x) => x.status === 'open')).toHaveLength(1);
  });

  it('a new feed re-evaluates every host without a rescan; a critical KEV advisory alerts after 7 days; an advisory gone from the feed resolves', async () => {
    const e = await setup();
    await sendInventory(e);
    e.now.t += 31 * DAY;
    await e.collector.statePass.runAll();
    expect(await alerts(e, RULE.pending)).toHaveLength(2);
    const ingested = (await e.store.countFindings('kind')).package;

    // The test feed without the perl record, plus one synthetic KEV advisory for bash (labelled TEST-).
    const file = join(e.dir, 'second.cgfeed');
    writeFileSync(file, secondBundle());
    await importBundle(file, e.dir, [testTrustedKey()]);
    expect(await e.collector.vulnerabilities.refreshFeed()).toBe('loaded');
    await e.collector.vulnerabilities.idle();
    expect((await e.store.countFindings('kind')).package).toBe(ingested);

    const now = await vulns(e);
    const ids = new Set(now.map((r) => r.fields['vulnerability.id']));
    expect(ids.has('DEBIAN-CVE-2025-40909')).toBe(false);
    const bash = now.find((r) => r.fields['vulnerability.id'] === 'TEST-2026-0001')!;
    expect(bash.fields).toMatchObject({ 'package.name': 'bash', 'vulnerability.kev': true, 'vulnerability.severity': 'critical', 'vulnerability.fix_available': true });
    const perl = (await alerts(e, RULE.pending)).find((a) => a.summary.includes('DEBIAN-CVE-2025-40909'))!;
    expect(perl.status).toBe('resolved');
    expect((await e.store.listAudit({ target: `alert:${perl.id}` }))[0]!.reason).toMatch(/^resolved: DEBIAN-CVE-2025-40909 no longer lists perl-base|^resolved: DEBIAN-CVE-2025-40909 no longer lists/);

    expect(await alerts(e, RULE.critical)).toEqual([]);
    e.now.t += 8 * DAY;
    await e.collector.statePass.runAll();
    const critical = await alerts(e, RULE.critical);
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatchObject({ severity: 'critical', status: 'open' });
    expect(critical[0]!.summary).toContain('TEST-2026-0001 in bash');

    // Importing the same feed again changes nothing.
    expect(await e.collector.vulnerabilities.refreshFeed()).toBe('unchanged');
  });
});

describe('a Windows host that cannot be compared this time', () => {
  beforeEach(() => { env = undefined; });

  it('keeps its vulnerabilities and alerts instead of resolving them as patched (recorded Server 2019 CurrentVersion; the UBR-less version is HAND-WRITTEN)', async () => {
    // Before the review an inventory without UBR (or a feed without data for the host's branch) gave an
    // empty evaluation, the snapshot closed, the three CVEs vanished and their alerts were resolved.
    const e = await setup();
    const v = parseCurrentVersion(readFileSync(resolveProgramPath('agent/host/windows/fixtures/CurrentVersion.ws2019.cnquery.json'), 'utf8'));
    const host: Fields = { 'host.name': 'WIN', 'host.os.platform': 'windows', 'host.os.type': 'windows', 'host.architecture': 'x86_64', ...windowsOsFields(v) };
    await sendSnapshot(e, 'host', [{ stateKey: 'host', fields: host }]);
    const before = (await vulns(e)).map((r) => r.stateKey).sort();
    expect(before).toEqual(['CVE-2025-29966:os', 'CVE-2025-29968:os', 'CVE-2025-30400:os']);
    const openBefore = (await alerts(e)).filter((a) => a.status !== 'resolved').length;
    await sendSnapshot(e, 'host', [{ stateKey: 'host', fields: { ...host, 'host.os.version': '10.0.17763' } }]);
    expect((await vulns(e)).map((r) => r.stateKey).sort()).toEqual(before);
    expect((await alerts(e)).filter((a) => a.status === 'resolved')).toEqual([]);
    expect((await alerts(e)).filter((a) => a.status !== 'resolved').length).toBe(openBefore);
    // patched for real (UBR past the fix): resolved
    await sendSnapshot(e, 'host', [{ stateKey: 'host', fields: { ...host, 'host.os.version': '10.0.17763.7314' } }]);
    expect(await vulns(e)).toEqual([]);
  });
});

describe('host state rules on the scheduled pass', () => {
  it('end-of-life OS from the shipped lifecycle table (Debian 11 after 2026-08-31), not for Debian 12', async () => {
    const e = await setup({ feed: false });
    await sendSnapshot(e, 'host', [{ stateKey: 'host', fields: { ...debian12Host, 'host.os.version': '11', 'host.os.full': 'Debian GNU/Linux 11 (bullseye)' } }]);
    const eol = await alerts(e, RULE.eol);
    expect(eol).toHaveLength(1);
    expect(eol[0]).toMatchObject({ severity: 'high', status: 'open' });
    expect(eol[0]!.tags.compliance).toMatchObject({ nist_800_53: ['SA-22', 'SI-2'] });

    const e2 = env!;
    await e2.collector.close();
    const f = await setup({ feed: false });
    await sendSnapshot(f, 'host', [{ stateKey: 'host', fields: debian12Host }]);
    await f.collector.statePass.runAll();
    expect(await alerts(f, RULE.eol)).toEqual([]);
  });

  it('reboot pending for more than 7 days', async () => {
    const e = await setup({ feed: false });
    const pendingSince = new Date(e.now.t - 3 * DAY).toISOString();
    await sendSnapshot(e, 'host', [{ stateKey: 'host', fields: { ...debian12Host, 'host.reboot.required': true, 'host.reboot.reasons': ['newer-kernel-installed'], 'host.reboot.pending_since': pendingSince } }]);
    expect(await alerts(e, RULE.reboot)).toEqual([]);
    e.now.t += 5 * DAY;
    await e.collector.statePass.runAll();
    expect(await alerts(e, RULE.reboot)).toHaveLength(1);
    await e.collector.statePass.runAll();
    expect((await alerts(e, RULE.reboot))[0]!.count).toBe(1);
  });
});

/** The test bundle's records minus the perl one, plus a synthetic critical KEV advisory for bash, signed with the TEST key. */
function secondBundle(): Buffer {
  const original = verifyBundle(readFileSync(TEST_BUNDLE), [testTrustedKey()]);
  const records = original.osv.get('Debian:12')!.filter((r) => r.id !== 'DEBIAN-CVE-2025-40909');
  records.push({
    id: 'TEST-2026-0001', modified: '2026-12-01T00:00:00Z', aliases: ['CVE-2099-0001'],
    summary: 'Synthetic advisory for tests (not a real vulnerability)',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    affected: [{ package: { ecosystem: 'Debian:12', name: 'bash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '5.2.15-2+deb12u99' }] }] }],
  } as never);
  const kev = { title: 'test', catalogVersion: 'test', dateReleased: '2026-12-01', count: 1, vulnerabilities: [{ cveID: 'CVE-2099-0001', dateAdded: '2026-12-01' }] };
  const privateKey = createPrivateKey(readFileSync(TEST_PRIVATE_KEY));
  return buildBundle({
    builtAt: new Date('2026-12-01T00:00:00Z'),
    sources: original.manifest.sources.map((s) => ({ ...s, records: s.kind === 'osv' ? records.length : 1 })),
    files: [
      { kind: 'osv', ecosystem: 'Debian:12', source: 'osv-debian-12', data: Buffer.from(JSON.stringify(records)), records: records.length },
      { kind: 'kev', source: 'cisa-kev', data: Buffer.from(JSON.stringify(kev)), records: 1 },
    ],
    privateKey, publicKey: createPublicKey(privateKey),
  }).bytes;
}
