/** The demo's summary: the agent, findings per kind, alerts by severity, the top alerts. */
import { table } from '../../common/table.js';
import { SEVERITIES, type Store } from '../store/types.js';
import { alertsTable, severityRank } from './format.js';

export async function printSummary(store: Store, caFingerprint: string, feedId?: string): Promise<void> {
  const agents = await store.listAgents();
  const byKind = await store.countFindings('kind');
  const bySev = await store.countAlerts('severity', { status: ['open', 'acknowledged', 'in_progress'] });
  const open = await store.listAlerts({ status: ['open', 'acknowledged', 'in_progress'], limit: 1000 });
  const top = [...open.items].sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.lastSeen.localeCompare(a.lastSeen)).slice(0, 10);
  const out: string[] = [];
  out.push('', `Canh Gác — summary / tóm tắt   (collector CA ${caFingerprint})`, '');
  out.push(table(['AGENT', 'HOST', 'OS', 'LAST SEEN'], agents.map((a) => [a.id, a.hostName, a.os, a.lastSeen.replace('T', ' ').slice(0, 19)])));
  out.push('', 'Findings by kind / phát hiện theo loại:');
  out.push(table(['KIND', 'COUNT'], Object.entries(byKind).sort().map(([k, n]) => [k, n])));
  out.push('', feedId
    ? `Vulnerabilities / lỗ hổng: ${byKind.vulnerability ?? 0} (feed ${feedId}) — canhgac findings list --kind vulnerability`
    : 'Vulnerabilities / lỗ hổng: not matched, no feed imported — canhgac feed import FILE.cgfeed');
  out.push('', 'Open alerts by severity / cảnh báo theo mức độ:');
  out.push(table(['SEVERITY', 'MỨC ĐỘ', 'COUNT'], [...SEVERITIES].reverse().map((s) => [s, VI[s], bySev[s] ?? 0])));
  out.push('', top.length ? `Top alerts / cảnh báo hàng đầu (${top.length} of ${open.total}):` : 'No open alerts / không có cảnh báo.');
  if (top.length) out.push(alertsTable(top));
  out.push('', 'More: canhgac alerts list | canhgac findings list --kind package|update|vulnerability|listener|sca|fim|host  (--data-dir, --json)');
  console.log(out.join('\n'));
}

const VI: Record<string, string> = { critical: 'nghiêm trọng', high: 'cao', medium: 'trung bình', low: 'thấp', informational: 'thông tin' };

/** Prints alerts changed after `since`; returns the new watermark. */
export async function printNewAlerts(store: Store, since: string): Promise<string> {
  const page = await store.listAlerts({ limit: 50, sort: { field: 'lastSeen', dir: 'desc' } });
  const fresh = page.items.filter((a) => a.updatedAt > since);
  if (fresh.length) console.log(`\n${new Date().toISOString()} — ${fresh.length} new or repeated alerts:\n${alertsTable(fresh)}`);
  return fresh.reduce((m, a) => (a.updatedAt > m ? a.updatedAt : m), since);
}
