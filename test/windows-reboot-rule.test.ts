/**
 * Agent → rule, across components: the host item the inventory check builds on a Windows host with a
 * pending reboot (registry markers and update history; hand-written answers, no genuine recording of
 * the markers exists) is what the shipped rule `host/reboot-pending-7-days` alerts on, as it does
 * for Linux hosts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createInventoryCheck } from '../agent/checks/inventory/index.js';
import { createWindowsRebootReader } from '../agent/host/reboot.js';
import type { CommandResult } from '../agent/host/run.js';
import type { SystemFacts } from '../agent/host/system.js';
import { POWERSHELL_PATH, POWERSHELL_QUERIES, powershellArgs, type PowerShellQueryId } from '../agent/host/windows/queries.js';
import { evaluate } from '../collector/engine/evaluate.js';
import { recordFromFlat } from '../collector/engine/flat-finding.js';
import { loadRuleSet } from '../collector/engine/loader.js';
import { logger } from '../common/logger.js';

const root = join(import.meta.dirname, '..');
const REBOOT_RULE = 'ffb480b7-f42c-4873-b5dc-f3c9ee380857';
const rules = loadRuleSet(join(root, 'rules', 'detection')).rules;
const facts = JSON.parse(readFileSync(join(root, 'agent/checks/inventory/fixtures/system-facts.debian12.json'), 'utf8')) as SystemFacts;
const winFacts: SystemFacts = { ...facts, platform: 'win32', distro: 'Microsoft Windows Server 2022 Datacenter', release: '10.0.20348', build: '20348' };
delete (winFacts as Partial<SystemFacts>).osRelease;
const ctx = { log: logger('test', { check: 'inventory' }), stateDir: '/nonexistent', emit: async () => {} };
const boot = Date.parse('2026-03-01T08:00:00Z');

async function windowsHostItem(installedAt: string, now: string): Promise<Record<string, unknown>> {
  const answers: Partial<Record<PowerShellQueryId, string>> = {
    'os-version': readFileSync(join(root, 'agent/host/windows/fixtures/CurrentVersion.ws2022.cnquery.json'), 'utf8'),
    'reboot-pending': JSON.stringify({ CbsRebootPending: true, WindowsUpdateRebootRequired: true, PendingFileRenameOperations: false }),
    'update-history': JSON.stringify([{ Date: installedAt, Operation: 1, ResultCode: 2, Title: 'Bản cập nhật tích lũy 2026-03 cho Windows Server 2022 (KB5000200)' }]),
  };
  const run = async (_id: string, args: readonly string[]): Promise<CommandResult> => {
    const q = (Object.keys(POWERSHELL_QUERIES) as PowerShellQueryId[]).find((k) => JSON.stringify(powershellArgs(k)) === JSON.stringify(args));
    const stdout = q && answers[q];
    if (stdout === undefined) throw new Error(`unexpected query ${q}`);
    return { path: POWERSHELL_PATH, stdout, stderr: '', durationMs: 1 };
  };
  const check = createInventoryCheck({
    platform: 'win32', readFacts: async () => winFacts, run,
    readReboot: createWindowsRebootReader(run, { now: () => Date.parse(now), bootTimeMs: () => boot }),
  });
  check.init({});
  return { kind: 'host', '@timestamp': now, ...(await check.collect(ctx)).snapshots[0]!.items[0]!.fields };
}

describe('Windows pending reboot → rule host/reboot-pending-7-days', () => {
  it('alerts when the update that asked for the reboot was installed more than 7 days ago', async () => {
    const flat = await windowsHostItem('2026-03-02 03:00:00Z', '2026-03-10T00:00:00Z');
    expect(flat['host.reboot.pending_since']).toBe('2026-03-02T03:00:00.000Z');
    expect(evaluate(rules, recordFromFlat(flat)).map((a) => a.rule.id)).toContain(REBOOT_RULE);
  });

  it('stays quiet for a reboot pending since yesterday', async () => {
    const flat = await windowsHostItem('2026-03-09 03:00:00Z', '2026-03-10T00:00:00Z');
    expect(flat['host.reboot.required']).toBe(true);
    expect(evaluate(rules, recordFromFlat(flat)).map((a) => a.rule.id)).not.toContain(REBOOT_RULE);
  });
});
