/**
 * Reading the Linux host firewall through the allowlisted runner: the nftables ruleset, iptables and
 * ip6tables rules, ufw and firewalld status. Each source is read independently; one that is not
 * installed or fails is recorded as such, never guessed.
 */
import { AgentCodes } from '../../errors.js';
import { parseFirewallCmdListAll, type FirewalldZone } from '../../host/linux/firewalld.js';
import { parseIptablesSave, type IptablesSave } from '../../host/linux/iptables.js';
import { parseNftJson, type NftRuleset } from '../../host/linux/nft.js';
import { parseUfwStatus, type UfwStatus } from '../../host/linux/ufw.js';
import type { CommandId, Runner } from '../../host/run.js';

export type Source<T> =
  | { status: 'ok'; data: T }
  | { status: 'missing' }
  | { status: 'failed'; error: string };

export interface LinuxFirewall {
  nft: Source<NftRuleset>;
  iptables: Source<IptablesSave>;
  ip6tables: Source<IptablesSave>;
  ufw: Source<UfwStatus>;
  /** Running or not, and when running the default zone (`firewall-cmd --list-all`). */
  firewalld: Source<{ running: boolean; zone?: FirewalldZone }>;
}

async function read<T>(run: () => Promise<string>, parse: (s: string) => T): Promise<Source<T>> {
  try {
    return { status: 'ok', data: parse(await run()) };
  } catch (e) {
    if ((e as { code?: string }).code === AgentCodes.HOST_COMMAND_MISSING) return { status: 'missing' };
    return { status: 'failed', error: (e as Error).message.slice(0, 500) };
  }
}

export async function readLinuxFirewall(run: Runner<CommandId>): Promise<LinuxFirewall> {
  const [nft, iptables, ip6tables, ufw, firewalld] = await Promise.all([
    read(async () => (await run('nft', ['-j', 'list', 'ruleset'])).stdout, parseNftJson),
    read(async () => (await run('iptables-save', [])).stdout, parseIptablesSave),
    read(async () => (await run('ip6tables-save', [])).stdout, parseIptablesSave),
    read(async () => (await run('ufw', ['status', 'verbose'])).stdout, parseUfwStatus),
    read(async () => {
      try {
        return (await run('firewall-cmd', ['--state'])).stdout;
      } catch (e) {
        // `firewall-cmd --state` exits 252 and prints "not running" when the daemon is down.
        if ((e as { code?: string }).code === AgentCodes.HOST_COMMAND_FAILED && /not running|status 252/.test((e as Error).message)) return 'not running';
        throw e;
      }
    }, (s): { running: boolean; zone?: FirewalldZone } => ({ running: s.trim() === 'running' })),
  ]);
  if (firewalld.status === 'ok' && firewalld.data.running) {
    try {
      const zone = parseFirewallCmdListAll((await run('firewall-cmd', ['--list-all'])).stdout);
      if (zone) firewalld.data.zone = zone;
    } catch {
      // The state is known; the zone listing is a detail.
    }
  }
  return { nft, iptables, ip6tables, ufw, firewalld };
}
