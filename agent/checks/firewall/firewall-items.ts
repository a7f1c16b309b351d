/** Linux firewall state → `firewall` state items, one per product (and IP family). Pure. */
import type { Fields } from '../../../common/finding.js';
import type { Observation } from '../check.js';
import type { IptablesSave } from '../../host/linux/iptables.js';
import { iptablesFilters } from './iptables-rules.js';
import { iptablesNftTables, judgePacket } from './exposure.js';
import { nftBaseChains } from './nft-rules.js';
import type { FirewallConfig } from './config.js';
import type { LinuxFirewall } from './state.js';
import type { Packet } from './walk.js';

const MAX_SUMMARY = 50;

/**
 * What happens to a new connection to a port no rule names: the probe is TCP port 1 (tcpmux), which
 * no firewall allows on purpose.
 */
export function defaultInbound(fw: LinuxFirewall, family: Packet['family']): 'allow' | 'deny' | 'unknown' {
  const j = judgePacket(fw, { family, transport: 'tcp', port: 1 });
  return j.reach === 'reachable' ? 'allow' : j.reach === 'blocked' ? 'deny' : 'unknown';
}

function item(product: string, profile: string, fields: Fields): Observation {
  return { kind: 'firewall', stateKey: `${product}:${profile}`, fields: { 'firewall.product': product, 'firewall.profile': profile, ...fields } };
}

function iptablesItem(tool: 'iptables' | 'ip6tables', save: IptablesSave, fw: LinuxFirewall, family: Packet['family']): Observation {
  const filter = save.tables.get('filter');
  const input = filter?.rules.filter((r) => r.chain === 'INPUT' || r.chain.startsWith('ufw-user-input')) ?? [];
  const count = [...save.tables.values()].reduce((n, t) => n + t.rules.length, 0);
  return item(tool, family, {
    'firewall.enabled': iptablesFilters(save),
    'firewall.default_inbound': defaultInbound(fw, family),
    ...(save.backend ? { 'firewall.backend': save.backend } : {}),
    'firewall.rules.count': count,
    'firewall.rules.summary': input.slice(0, MAX_SUMMARY).map((r) => `-A ${r.chain} ${r.args.join(' ')}`),
  });
}

export function firewallItems(fw: LinuxFirewall, config: FirewallConfig): Observation[] {
  const out: Observation[] = [];
  const want = new Set(config.products);
  if (want.has('nftables') && fw.nft.status === 'ok') {
    // Tables iptables-nft made are reported as iptables; nftables' own are the rest.
    const skipTables = iptablesNftTables(fw);
    const ruleset = fw.nft.data;
    const bases = (['ipv4', 'ipv6'] as const).flatMap((family) => nftBaseChains(ruleset, { family, transport: 'tcp', port: 1 }, { skipTables }));
    const names = [...new Set(bases.map((b) => b.name))];
    const own = ruleset.rules.filter((r) => !skipTables.has(`${r.family} ${r.table}`));
    out.push(item('nftables', 'all', {
      'firewall.enabled': names.length > 0,
      'firewall.default_inbound': defaultInbound(fw, 'ipv4'),
      'firewall.rules.count': own.length,
      'firewall.rules.summary': names.slice(0, MAX_SUMMARY),
      ...(fw.nft.data.version ? { 'firewall.version': fw.nft.data.version } : {}),
    }));
  }
  if (want.has('iptables')) {
    if (fw.iptables.status === 'ok') out.push(iptablesItem('iptables', fw.iptables.data, fw, 'ipv4'));
    if (fw.ip6tables.status === 'ok') out.push(iptablesItem('ip6tables', fw.ip6tables.data, fw, 'ipv6'));
  }
  if (want.has('ufw') && fw.ufw.status === 'ok') {
    const u = fw.ufw.data;
    const incoming = u.defaults.incoming;
    out.push(item('ufw', 'all', {
      'firewall.enabled': u.active,
      'firewall.default_inbound': !u.active ? 'allow' : incoming === 'allow' ? 'allow' : incoming ? 'deny' : 'unknown',
      'firewall.rules.count': u.rules.length,
      'firewall.rules.summary': u.rules.slice(0, MAX_SUMMARY).map((r) => `${r.to} ${r.action} ${r.from}`.trim()),
    }));
  }
  if (want.has('firewalld') && fw.firewalld.status === 'ok') {
    const z = fw.firewalld.data.zone;
    out.push(item('firewalld', z?.zone ?? 'all', {
      'firewall.enabled': fw.firewalld.data.running,
      'firewall.default_inbound': fw.firewalld.data.running ? defaultInbound(fw, 'ipv4') : 'allow',
      ...(z ? {
        'firewall.rules.count': z.services.length + z.ports.length + z.richRules.length,
        'firewall.rules.summary': [
          ...(z.target ? [`target ${z.target}`] : []),
          ...z.services.map((s) => `service ${s}`), ...z.ports.map((p) => `port ${p}`), ...z.richRules,
        ].slice(0, MAX_SUMMARY),
      } : {}),
    }));
  }
  for (const [name, src] of [['nftables', fw.nft], ['iptables', fw.iptables], ['ip6tables', fw.ip6tables], ['ufw', fw.ufw], ['firewalld', fw.firewalld]] as const) {
    const product = name === 'ip6tables' ? 'iptables' : name;
    if (src.status === 'failed' && want.has(product)) {
      out.push(item(name, name === 'ip6tables' ? 'ipv6' : name === 'iptables' ? 'ipv4' : 'all', { 'firewall.enabled': false, 'firewall.default_inbound': 'unknown', 'error.message': src.error }));
    }
  }
  return out;
}
