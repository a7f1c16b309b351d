import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logger } from '../../../common/logger.js';
import type { CheckContext } from '../check.js';
import { parseFieldsFile, valueFits } from '../fields-spec.js';
import { recordedRunner } from '../../host/windows/fixtures/recorded-runner.js';
import type { PowerShellQueryId } from '../../host/windows/queries.js';
import { createFirewallCheck } from './index.js';

const ctx: CheckContext = { log: logger('test', { check: 'firewall' }), stateDir: '/nonexistent', emit: async () => {} };
const spec = parseFieldsFile(readFileSync(new URL('./fields.yaml', import.meta.url), 'utf8'), 'agent/checks/firewall/fields.yaml');

describe('firewall check on Windows (genuine Server 2022 recordings through a fake runner)', () => {
  it('reports the three profiles with the enabled inbound allow rules that apply to each, every field declared', async () => {
    const calls: PowerShellQueryId[] = [];
    // No genuine Get-NetConnectionProfile JSON exists: the connected networks are hand-written.
    const networks = JSON.stringify([
      { Name: 'corp.example', InterfaceAlias: 'Ethernet', InterfaceIndex: 6, NetworkCategory: 2 },
      { Name: 'Mạng khách', InterfaceAlias: 'Wi-Fi', InterfaceIndex: 9, NetworkCategory: 0 },
    ]);
    const check = createFirewallCheck({ platform: 'win32', run: recordedRunner(calls, { 'connection-profiles': networks }) });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    expect(calls.sort()).toEqual(['connection-profiles', 'firewall-profiles', 'firewall-rules']);
    expect(items.map((i) => i.stateKey)).toEqual(['windows-firewall:domain', 'windows-firewall:private', 'windows-firewall:public']);
    // The recording: every profile Enabled True, DefaultInboundAction NotConfigured; of its 8 rules the
    // enabled inbound allow ones are WinRM HTTP and Remote Desktop, both for Domain and Private.
    expect(items[0]!.fields).toEqual({
      'firewall.product': 'windows-firewall', 'firewall.profile': 'domain', 'firewall.enabled': true,
      'firewall.default_inbound': 'deny', 'firewall.assumed': ['default_inbound'],
      'firewall.active': true, 'firewall.networks': ['corp.example (Ethernet)'],
      'firewall.rules.count': 2,
      'firewall.rules.summary': ['Windows Remote Management (HTTP-In)', 'Remote Desktop - User Mode (TCP-In)'],
    });
    expect(items[1]!.fields['firewall.active']).toBe(false);
    expect(items[1]!.fields['firewall.networks']).toBeUndefined();
    expect(items[2]!.fields).toMatchObject({ 'firewall.rules.count': 0, 'firewall.active': true, 'firewall.networks': ['Mạng khách (Wi-Fi)'] });
    const declared = new Map(spec.fields.map((f) => [f.name, f]));
    for (const item of items) {
      for (const [name, value] of Object.entries(item.fields)) {
        expect(declared.get(name), `${name} is declared`).toBeDefined();
        expect(valueFits(declared.get(name)!, value), `${name} = ${JSON.stringify(value)}`).toBe(true);
      }
    }
  });

  it('still reports the profiles when the rules cannot be read', async () => {
    const check = createFirewallCheck({ platform: 'win32', run: recordedRunner([], { 'firewall-rules': new Error('access denied') }) });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    expect(items).toHaveLength(3);
    expect(items[1]!.fields['firewall.rules.count']).toBeUndefined();
    expect(items[1]!.fields['error.message']).toBe('inbound rules not readable: access denied');
    // The connected networks have no answer here either: whether the profile is active is not said.
    expect(items[1]!.fields['firewall.active']).toBeUndefined();
  });

  it('a profile that blocks all incoming connections ignores its allow rules (AllowInboundRules False)', async () => {
    // The genuine recording with one value changed by hand: the Domain profile's AllowInboundRules 2 → 0 (False).
    const rows = JSON.parse(readFileSync(new URL('../../host/windows/fixtures/Get-NetFirewallProfile.ws2022.cnquery.json', import.meta.url), 'utf8')) as Record<string, unknown>[];
    rows[0]!.AllowInboundRules = 0;
    const check = createFirewallCheck({ platform: 'win32', run: recordedRunner([], { 'firewall-profiles': JSON.stringify(rows), 'connection-profiles': '' }) });
    check.init({});
    const items = (await check.collect(ctx)).snapshots[0]!.items;
    expect(items[0]!.fields).toMatchObject({
      'firewall.profile': 'domain', 'firewall.block_all': true, 'firewall.rules.count': 0,
      'firewall.rules.summary': ['2 allow rules ignored: AllowInboundRules is False (block all incoming)'],
    });
    expect(items[1]!.fields['firewall.block_all']).toBeUndefined();
    expect(items[1]!.fields['firewall.rules.count']).toBe(2);
  });
});
