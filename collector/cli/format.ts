/** How alerts, findings and agents look to people (tables) and to programs (ECS-nested JSON). */
import { nest, toDocument, type FindingRecord } from '../../common/finding.js';
import { table } from '../../common/table.js';
import { resolveProgramPath } from '../app.js';
import { loadRuleSet, viTitlesById } from '../engine/index.js';
import type { AgentRecord, Alert } from '../store/types.js';

/**
 * Vietnamese rule titles by rule id, read once from the shipped ruleset (rules/detection under the
 * program folder, the default `rules_dir`): the store keeps only the English title of an alert's rule.
 * A ruleset that cannot be read leaves the Vietnamese title out rather than failing the listing.
 */
let titlesVi: ReadonlyMap<string, string> | undefined;
function ruleTitleVi(ruleId: string): string | undefined {
  if (titlesVi === undefined) {
    try {
      titlesVi = viTitlesById(loadRuleSet(resolveProgramPath('rules/detection')).rules);
    } catch {
      titlesVi = new Map();
    }
  }
  return titlesVi.get(ruleId);
}

export function alertDocument(a: Alert): Record<string, unknown> {
  const titleVi = ruleTitleVi(a.rule.id);
  return nest({
    id: a.id, 'rule.id': a.rule.id, 'rule.title': a.rule.title, ...(titleVi === undefined ? {} : { 'rule.title_vi': titleVi }),
    'rule.version': a.rule.version, severity: a.severity, status: a.status,
    'host.name': a.hostName, 'agent.id': a.agentId, first_seen: a.firstSeen, last_seen: a.lastSeen, count: a.count, summary: a.summary,
    'threat.technique.id': a.tags.mitre, compliance: a.tags.compliance, finding_ids: a.findingIds, version: a.version, updated_at: a.updatedAt,
  });
}

export function agentDocument(a: AgentRecord): Record<string, unknown> {
  return nest({
    'agent.id': a.id, 'agent.version': a.version, 'host.name': a.hostName, 'host.os.full': a.os, 'agent.group': a.group, 'agent.status': a.status,
    enrolled_at: a.enrolledAt, last_seen: a.lastSeen, last_seq: a.lastSeq, 'tls.client.hash.sha256': a.certFingerprint.replace(/^sha256:/, ''),
  });
}

export function findingDocument(r: FindingRecord): Record<string, unknown> {
  const doc = toDocument(r);
  // "No fixed version published" is said explicitly (null), not by leaving the key out.
  if (r.kind === 'vulnerability' && r.fields['vulnerability.fixed_version'] === undefined) {
    const v = doc.vulnerability as Record<string, unknown> | undefined;
    if (v !== undefined) v.fixed_version = null;
  }
  return doc;
}

const SEV_ORDER = ['critical', 'high', 'medium', 'low', 'informational'];
export function severityRank(s: string): number {
  const i = SEV_ORDER.indexOf(s);
  return i < 0 ? SEV_ORDER.length : i;
}

export function alertsTable(alerts: Alert[]): string {
  return table(['SEVERITY', 'STATUS', 'RULE', 'HOST', 'COUNT', 'LAST SEEN', 'SUMMARY', 'ID'],
    alerts.map((a) => [a.severity, a.status, a.rule.title, a.hostName, a.count, a.lastSeen.replace('T', ' ').slice(0, 19), a.summary, a.id]), 50);
}

export function agentsTable(agents: AgentRecord[]): string {
  return table(['AGENT', 'HOST', 'OS', 'STATUS', 'LAST SEEN', 'LAST SEQ'],
    agents.map((a) => [a.id, a.hostName, a.os, a.status, a.lastSeen.replace('T', ' ').slice(0, 19), a.lastSeq]));
}

/** The columns worth showing per kind; the full record is in --json. */
const COLUMNS: Record<string, [string, string][]> = {
  host: [['HOST', 'host.name'], ['OS', 'host.os.name'], ['VERSION', 'host.os.version'], ['KERNEL', 'host.os.kernel'], ['ARCH', 'host.architecture']],
  package: [['HOST', 'host.name'], ['PACKAGE', 'package.name'], ['VERSION', 'package.version'], ['ARCH', 'package.architecture'], ['TYPE', 'package.type']],
  listener: [['HOST', 'host.name'], ['PROTO', 'network.transport'], ['ADDRESS', 'server.ip'], ['PORT', 'server.port'], ['PROCESS', 'process.name'], ['PID', 'process.pid'], ['EXPOSURE', 'exposure.verdict']],
  fim: [['TIME', '@timestamp'], ['HOST', 'host.name'], ['ACTION', 'event.action'], ['PATH', 'file.path'], ['MODE', 'file.mode'], ['SOURCE', 'fim.source']],
  vulnerability: [['HOST', 'host.name'], ['ID', 'vulnerability.id'], ['SEVERITY', 'vulnerability.severity'], ['KEV', 'vulnerability.kev'], ['PACKAGE', 'package.name'], ['INSTALLED', 'package.version'], ['FIXED', 'vulnerability.fixed_version'], ['FIRST SEEN', 'vulnerability.first_seen']],
  sca: [['HOST', 'host.name'], ['CHECK', 'sca.check.id'], ['RESULT', 'sca.check.result'], ['TITLE', 'sca.check.title']],
  update: [['HOST', 'host.name'], ['PACKAGE', 'package.name'], ['INSTALLED', 'package.version'], ['CANDIDATE', 'update.version'], ['SECURITY', 'update.security'], ['SEVERITY', 'update.severity']],
  firewall: [['HOST', 'host.name'], ['PRODUCT', 'firewall.product'], ['PROFILE', 'firewall.profile'], ['ENABLED', 'firewall.enabled'], ['DEFAULT IN', 'firewall.default_inbound'], ['RULES', 'firewall.rules.count']],
  health: [['TIME', '@timestamp'], ['HOST', 'host.name'], ['CHECK', 'agent.health.check'], ['ACTION', 'event.action'], ['MESSAGE', 'agent.health.message'], ['ERROR', 'error.message']],
  change: [['TIME', '@timestamp'], ['HOST', 'host.name'], ['ACTION', 'event.action'], ['ITEM', 'change.state_key']],
};

export function findingsTable(kind: string, records: FindingRecord[]): string {
  const cols = COLUMNS[kind] ?? [['TIME', '@timestamp'], ['HOST', 'host.name'], ['ACTION', 'event.action'], ['MESSAGE', 'message']];
  const get = (r: FindingRecord, f: string): string | number | undefined => {
    if (f === 'host.name') return r.hostName;
    if (f === '@timestamp') return r.observedAt.replace('T', ' ').slice(0, 19);
    const v = r.fields[f];
    if (f === 'vulnerability.fixed_version' && v === undefined && r.kind === 'vulnerability') return '(none)';
    if (f === 'vulnerability.first_seen' && typeof v === 'string') return v.replace('T', ' ').slice(0, 16);
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    return Array.isArray(v) ? v.join(',') : (v as string | number | undefined);
  };
  return table(cols.map((c) => c[0]), records.map((r) => cols.map((c) => get(r, c[1]))));
}
