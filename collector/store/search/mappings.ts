/**
 * Composable index templates with explicit ECS mappings, put at every start (idempotent). Known ECS
 * fields of findings (DESIGN §3.2) are typed; any other field maps by a dynamic template that cannot
 * conflict with later values (strings and booleans → keyword; numbers with ignore_malformed).
 */
import type { Names } from './names.js';

/** Bumped when a mapping changes; recorded in each template's _meta. */
export const MAPPING_VERSION = 1;

type Prop = Record<string, unknown>;

const keyword = { type: 'keyword', ignore_above: 4096 };
const date = { type: 'date', ignore_malformed: true };
const long = { type: 'long', ignore_malformed: true };
const float = { type: 'float', ignore_malformed: true };
const ip = { type: 'ip', ignore_malformed: true };

/** Typed ECS fields of findings; booleans are keyword so that "yes" never costs a document. */
const FINDING_FIELDS: Record<string, Prop> = {
  '@timestamp': { type: 'date' },
  'event.id': { type: 'keyword' },
  'event.kind': keyword, 'event.category': keyword, 'event.type': keyword, 'event.action': keyword,
  'event.dataset': keyword, 'event.module': keyword, 'event.outcome': keyword,
  'event.ingested': { type: 'date' },
  'event.sequence': { type: 'long' },
  'agent.id': keyword, 'agent.name': keyword, 'agent.version': keyword,
  'host.name': keyword, 'host.hostname': keyword, 'host.id': keyword, 'host.ip': ip, 'host.mac': keyword,
  'host.architecture': keyword,
  'host.os.family': keyword, 'host.os.name': keyword, 'host.os.version': keyword, 'host.os.kernel': keyword,
  'host.os.build': keyword, 'host.os.platform': keyword, 'host.os.type': keyword,
  'package.name': keyword, 'package.version': keyword, 'package.architecture': keyword, 'package.type': keyword,
  'package.source.name': keyword, 'package.source.version': keyword, 'package.update.version': keyword,
  'update.security': keyword,
  'vulnerability.id': keyword, 'vulnerability.aliases': keyword, 'vulnerability.severity': keyword,
  'vulnerability.score.base': float, 'vulnerability.fixed_version': keyword, 'vulnerability.kev': keyword,
  'vulnerability.explanation': keyword,
  'server.ip': ip, 'server.port': long,
  'network.transport': keyword, 'network.type': keyword,
  'process.pid': long, 'process.name': keyword, 'process.executable': keyword,
  'user.name': keyword, 'service.name': keyword,
  'exposure.verdict': keyword, 'exposure.reason': keyword,
  'firewall.product': keyword, 'firewall.enabled': keyword, 'firewall.profile': keyword, 'firewall.default_inbound': keyword,
  'file.path': keyword, 'file.type': keyword, 'file.size': long, 'file.mode': keyword, 'file.uid': keyword,
  'file.gid': keyword, 'file.hash.sha256': keyword, 'file.mtime': date,
  'fim.source': keyword, 'fim.expected': keyword, 'fim.package': keyword,
  'sca.policy.id': keyword, 'sca.check.id': keyword, 'sca.check.title': keyword, 'sca.check.result': keyword,
  'sca.check.evidence': keyword, 'sca.check.remediation': keyword,
  'gap.from_seq': long, 'gap.to_seq': long, 'gap.count': long, 'gap.reason': keyword,
  'error.message': keyword,
  'canhgac.kind': { type: 'keyword' },
  'canhgac.state_key': { type: 'keyword' },
  'canhgac.snapshot_id': { type: 'keyword' },
  // Original values of fields that the envelope shadows (see documents.ts); kept, never indexed.
  'canhgac.overlap': { type: 'object', enabled: false },
};

const STATE_FIELDS: Record<string, Prop> = {
  'canhgac.finding_index': { type: 'keyword' },
  'canhgac.updated_at': { type: 'date' },
};

const ALERT_FIELDS: Record<string, Prop> = {
  '@timestamp': { type: 'date' },
  'event.kind': { type: 'keyword' }, 'event.severity': { type: 'integer' },
  'event.start': { type: 'date' }, 'event.end': { type: 'date' },
  'rule.id': { type: 'keyword' }, 'rule.name': keyword, 'rule.version': { type: 'keyword' },
  'agent.id': { type: 'keyword' }, 'host.name': { type: 'keyword' },
  message: keyword,
  'threat.technique.id': { type: 'keyword' },
  'canhgac.alert.id': { type: 'keyword' },
  'canhgac.alert.dedup_key': { type: 'keyword' },
  'canhgac.alert.severity': { type: 'keyword' },
  'canhgac.alert.severity_rank': { type: 'integer' },
  'canhgac.alert.status': { type: 'keyword' },
  'canhgac.alert.finding_ids': { type: 'keyword' },
  'canhgac.alert.first_seen': { type: 'date' },
  'canhgac.alert.last_seen': { type: 'date' },
  'canhgac.alert.count': { type: 'long' },
  'canhgac.alert.version': { type: 'long' },
  'canhgac.alert.updated_at': { type: 'date' },
  'canhgac.alert.tags': { type: 'object', enabled: false },
  'canhgac.alert.last_change': { type: 'object', enabled: false },
};

const AGENT_FIELDS: Record<string, Prop> = {
  id: { type: 'keyword' }, hostName: { type: 'keyword' }, certFingerprint: { type: 'keyword' }, os: { type: 'keyword' },
  version: { type: 'keyword' }, group: { type: 'keyword' }, enrolledAt: { type: 'date' }, lastSeen: { type: 'date' },
  lastSeq: { type: 'long' }, status: { type: 'keyword' },
};

const TOKEN_FIELDS: Record<string, Prop> = {
  doc: { type: 'keyword' }, id: { type: 'keyword' }, hash: { type: 'keyword' }, group: { type: 'keyword' },
  createdAt: { type: 'date' }, expiresAt: { type: 'date' }, usesLeft: { type: 'long' }, createdBy: { type: 'keyword' },
  tokenId: { type: 'keyword' },
};

const AUDIT_FIELDS: Record<string, Prop> = {
  id: { type: 'keyword' }, at: { type: 'date' }, actor: { type: 'keyword' }, action: { type: 'keyword' },
  target: { type: 'keyword' }, from: keyword, to: keyword, reason: keyword, seq: { type: 'long' },
};

const META_FIELDS: Record<string, Prop> = {
  doc: { type: 'keyword' }, '@timestamp': { type: 'date' }, agentId: { type: 'keyword' }, kind: { type: 'keyword' },
  snapshotId: { type: 'keyword' }, start: { type: 'date' }, dedupKey: { type: 'keyword' }, alertId: { type: 'keyword' },
};

/** `{'a.b': x}` → `{a: {properties: {b: x}}}`. */
export function properties(fields: Record<string, Prop>): Record<string, Prop> {
  const out: Record<string, Prop> = {};
  for (const [name, mapping] of Object.entries(fields)) {
    const parts = name.split('.');
    let node = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      const obj = (node[p] ??= { properties: {} }) as { properties: Record<string, Prop> };
      obj.properties ??= {};
      node = obj.properties;
    }
    node[parts[parts.length - 1]!] = { ...(node[parts[parts.length - 1]!] ?? {}), ...mapping };
  }
  return out;
}

const DYNAMIC_TEMPLATES = [
  { strings_as_keyword: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 4096 } } },
  { booleans_as_keyword: { match_mapping_type: 'boolean', mapping: { type: 'keyword' } } },
  { longs: { match_mapping_type: 'long', mapping: { type: 'long', ignore_malformed: true } } },
  { doubles: { match_mapping_type: 'double', mapping: { type: 'double', ignore_malformed: true } } },
];

/** Settings of every index: one shard; a replica as soon as the cluster has a second node. */
function settings(refresh: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    number_of_shards: 1,
    auto_expand_replicas: '0-1',
    refresh_interval: refresh,
    max_result_window: 100_000,
    ...extra,
  };
}

export interface Template { name: string; body: Record<string, unknown> }

export function componentTemplates(n: Names): Template[] {
  return [{
    name: `${n.prefix}-ecs-findings`,
    body: {
      template: {
        mappings: {
          dynamic: true, date_detection: false, numeric_detection: false,
          dynamic_templates: DYNAMIC_TEMPLATES, properties: properties(FINDING_FIELDS),
        },
      },
      _meta: { managed_by: 'canhgac', mapping_version: MAPPING_VERSION },
    },
  }];
}

export function indexTemplates(n: Names): Template[] {
  const meta = { managed_by: 'canhgac', mapping_version: MAPPING_VERSION };
  const strict = (fields: Record<string, Prop>) => ({ dynamic: false, properties: properties(fields) });
  return [
    {
      name: `${n.prefix}-findings`,
      body: {
        index_patterns: [n.findingsPattern], priority: 200, composed_of: [`${n.prefix}-ecs-findings`], _meta: meta,
        template: { settings: settings('1s', { 'mapping.total_fields.limit': 2000 }), aliases: { [n.findings]: {} } },
      },
    },
    {
      name: `${n.prefix}-state`,
      body: {
        index_patterns: [n.state], priority: 200, composed_of: [`${n.prefix}-ecs-findings`], _meta: meta,
        template: {
          settings: settings('1s', { 'mapping.total_fields.limit': 2000 }),
          mappings: { properties: properties(STATE_FIELDS) },
        },
      },
    },
    {
      name: `${n.prefix}-alerts`,
      body: {
        index_patterns: [n.alertsPattern], priority: 200, _meta: meta,
        template: { settings: settings('1s'), mappings: strict(ALERT_FIELDS), aliases: { [n.alerts]: {} } },
      },
    },
    ...([[n.agents, AGENT_FIELDS], [n.tokens, TOKEN_FIELDS], [n.audit, AUDIT_FIELDS], [n.meta, META_FIELDS]] as const).map(
      ([index, fields]) => ({
        name: index,
        body: { index_patterns: [index], priority: 200, _meta: meta, template: { settings: settings('1s'), mappings: strict(fields) } },
      }),
    ),
  ];
}

/** Mappings to add to an existing index when the store starts (new fields only; never a type change). */
export function mappingsFor(n: Names, index: string): Record<string, unknown> | undefined {
  if (index === n.state) return { properties: properties({ ...FINDING_FIELDS, ...STATE_FIELDS }) };
  if (index === n.agents) return { properties: properties(AGENT_FIELDS) };
  if (index === n.tokens) return { properties: properties(TOKEN_FIELDS) };
  if (index === n.audit) return { properties: properties(AUDIT_FIELDS) };
  if (index === n.meta) return { properties: properties(META_FIELDS) };
  return undefined;
}
