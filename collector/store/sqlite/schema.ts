/**
 * The SQLite schema as an ordered list of migrations. A migration is applied once, in a transaction,
 * and recorded in `schema_version`; never edit a released migration, append a new one.
 * Times are stored as canonical ISO-8601 UTC strings (`Date#toISOString`), so text order is time order.
 */
import { FINDING_KINDS } from '../../../common/finding.js';
import { ALERT_STATUSES, SEVERITIES } from '../types.js';

export interface Migration { version: number; description: string; sql: string }

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

const v1 = `
CREATE TABLE agents (
  id               TEXT PRIMARY KEY,
  host_name        TEXT NOT NULL,
  cert_fingerprint TEXT NOT NULL,
  os               TEXT NOT NULL,
  version          TEXT NOT NULL,
  group_name       TEXT NOT NULL,
  enrolled_at      TEXT NOT NULL,
  last_seen        TEXT NOT NULL,
  last_seq         INTEGER NOT NULL DEFAULT 0,
  status           TEXT NOT NULL CHECK (status IN ('active', 'revoked'))
) STRICT;

CREATE TABLE findings (
  id           TEXT PRIMARY KEY,
  agent_id     TEXT NOT NULL REFERENCES agents(id),
  host_name    TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  observed_at  TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  check_name   TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN (${list(FINDING_KINDS)})),
  family       TEXT NOT NULL CHECK (family IN ('state', 'event')),
  state_key    TEXT NOT NULL,
  snapshot_id  TEXT NOT NULL DEFAULT '',
  fields       TEXT NOT NULL CHECK (json_valid(fields))
) STRICT;
CREATE INDEX findings_agent_kind_time ON findings (agent_id, kind, observed_at);
CREATE INDEX findings_kind_time ON findings (kind, observed_at);
CREATE INDEX findings_time ON findings (observed_at);
-- when a snapshot began: min(observed_at) of its items (see closeSnapshot)
CREATE INDEX findings_snapshot ON findings (agent_id, kind, snapshot_id, observed_at) WHERE snapshot_id <> '';

-- The current truth per host: one row per (agent, kind, state key), pointing at the finding that set it.
CREATE TABLE state (
  agent_id     TEXT NOT NULL REFERENCES agents(id),
  kind         TEXT NOT NULL,
  state_key    TEXT NOT NULL,
  finding_id   TEXT NOT NULL REFERENCES findings(id),
  snapshot_id  TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  fields       TEXT NOT NULL,
  observed_at  TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (agent_id, kind, state_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX state_finding ON state (finding_id);
CREATE INDEX state_kind_time ON state (kind, observed_at);

CREATE TABLE alerts (
  id            TEXT PRIMARY KEY,
  dedup_key     TEXT NOT NULL,
  rule_id       TEXT NOT NULL,
  rule_title    TEXT NOT NULL,
  rule_version  TEXT NOT NULL,
  severity      TEXT NOT NULL CHECK (severity IN (${list(SEVERITIES)})),
  severity_rank INTEGER NOT NULL GENERATED ALWAYS AS (
    CASE severity WHEN 'informational' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 4 END
  ) VIRTUAL,
  status        TEXT NOT NULL CHECK (status IN (${list(ALERT_STATUSES)})),
  agent_id      TEXT NOT NULL,
  host_name     TEXT NOT NULL,
  finding_ids   TEXT NOT NULL CHECK (json_valid(finding_ids) AND json_array_length(finding_ids) <= 100),
  first_seen    TEXT NOT NULL,
  last_seen     TEXT NOT NULL,
  count         INTEGER NOT NULL CHECK (count >= 0),
  tags          TEXT NOT NULL CHECK (json_valid(tags)),
  summary       TEXT NOT NULL,
  version       INTEGER NOT NULL,
  updated_at    TEXT NOT NULL
) STRICT;
-- fold lookup: the newest alert of a dedup key that is not closed
CREATE INDEX alerts_dedup ON alerts (dedup_key, first_seen);
CREATE INDEX alerts_last_seen ON alerts (last_seen);
CREATE INDEX alerts_status_last_seen ON alerts (status, last_seen);
CREATE INDEX alerts_host ON alerts (host_name, last_seen);
CREATE INDEX alerts_agent ON alerts (agent_id, last_seen);

-- Append-only: the triggers below refuse every UPDATE and DELETE, including from other tools.
CREATE TABLE audit (
  seq        INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  at         TEXT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT NOT NULL,
  from_value TEXT NOT NULL,
  to_value   TEXT NOT NULL,
  reason     TEXT NOT NULL
) STRICT;
CREATE INDEX audit_target_at ON audit (target, at);
CREATE INDEX audit_at ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only: DELETE refused'); END;

CREATE TABLE tokens (
  id          TEXT PRIMARY KEY,
  hash        TEXT NOT NULL UNIQUE,
  group_name  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  uses_left   INTEGER CHECK (uses_left IS NULL OR uses_left >= 0),
  created_by  TEXT NOT NULL
) STRICT;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'findings, state, alerts, audit, agents, tokens', sql: v1 },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Created before any migration runs; one row per applied migration. */
export const SCHEMA_VERSION_TABLE = `
CREATE TABLE IF NOT EXISTS schema_version (
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  TEXT NOT NULL
) STRICT;
`;
