/**
 * Alerts: upsert by dedup key, status changes with optimistic concurrency and an audit entry.
 *
 * Finding the open alert of a dedup key must be real-time (a search would miss an alert created a moment
 * ago), so the store keeps a pointer document per dedup key in the meta index (`dedup` → alert id) and
 * reads both by id. The pointer is written before the alert it names: a crash in between leaves a
 * pointer to nothing, which the next upsert treats as "no open alert". Alert ids are UUIDv7 stamped with
 * the first sighting, which names the monthly index holding the alert.
 */
import { StoreCodes, StoreError } from '../errors.js';
import {
  CLOSED_STATUSES, STATUS_TRANSITIONS, canTransition, type Alert, type AlertUpsert, type AuditEntry, type StatusChange,
} from '../types.js';
import type { Ctx } from './context.js';
import { alertToDoc, docToAlert, type Doc } from './documents.js';
import { describeEngineError } from './engine-types.js';
import { keyId, timeOfUuidv7, uuidFrom, uuidv7At } from './names.js';
import { isoTime, maxIso, minIso } from './time.js';

/** At most this many finding ids are kept on an alert (oldest first). */
export const MAX_ALERT_FINDINGS = 100;
const MAX_ATTEMPTS = 20;

interface Pointer { doc: 'dedup'; dedupKey: string; alertId: string }

/** The monthly index of an alert, from its id; undefined if the id is not one of ours. */
export function alertIndex(ctx: Ctx, id: string): string | undefined {
  const ms = timeOfUuidv7(id);
  return ms === undefined ? undefined : ctx.n.alertsMonth(ms);
}

export async function readAlert(ctx: Ctx, id: string): Promise<{ alert: Alert; index: string; seqNo: number; primaryTerm: number } | undefined> {
  const index = alertIndex(ctx, id);
  if (!index) return undefined;
  const got = await ctx.get(index, id);
  if (!got) return undefined;
  return { alert: docToAlert(got.source), index, seqNo: got.seqNo, primaryTerm: got.primaryTerm };
}

export async function upsertAlert(ctx: Ctx, u: AlertUpsert, now: string): Promise<'created' | 'folded'> {
  const n = ctx.n;
  const seenAt = isoTime(u.seenAt, `alert ${u.dedupKey}: seenAt`);
  const pointerId = keyId('dedup', u.dedupKey);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const pointer = await ctx.get<Pointer>(n.meta, pointerId);
    const current = pointer ? await readAlert(ctx, pointer.source.alertId) : undefined;
    if (current && !CLOSED_STATUSES.includes(current.alert.status)) {
      const a = current.alert;
      const ids = [...a.findingIds];
      for (const id of u.findingIds) {
        if (ids.length >= MAX_ALERT_FINDINGS) break;
        if (!ids.includes(id)) ids.push(id);
      }
      const folded: Alert = {
        ...a, count: a.count + u.count, firstSeen: minIso(a.firstSeen, seenAt), lastSeen: maxIso(a.lastSeen, seenAt),
        findingIds: ids, version: a.version + 1, updatedAt: now,
      };
      const [r] = await ctx.write([{
        action: 'index', index: current.index, id: a.id, doc: alertToDoc(folded), ifSeqNo: current.seqNo, ifPrimaryTerm: current.primaryTerm,
      }]);
      if (r!.status === 409) continue;
      if (r!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not fold alert ${a.id} (${describeEngineError(r!.item.error)})`);
      return 'folded';
    }
    // No open alert for this key: point the key at a new alert, then create it.
    const ms = Date.parse(seenAt);
    const id = uuidv7At(ms);
    const ptr: Pointer = { doc: 'dedup', dedupKey: u.dedupKey, alertId: id };
    const [p] = await ctx.write([pointer
      ? { action: 'index', index: n.meta, id: pointerId, doc: { ...ptr }, ifSeqNo: pointer.seqNo, ifPrimaryTerm: pointer.primaryTerm }
      : { action: 'create', index: n.meta, id: pointerId, doc: { ...ptr } }]);
    if (p!.status === 409) continue;
    if (p!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not record dedup key (${describeEngineError(p!.item.error)})`);
    const alert: Alert = {
      id, dedupKey: u.dedupKey, rule: { ...u.rule }, severity: u.severity, status: 'open', agentId: u.agentId, hostName: u.hostName,
      findingIds: [...new Set(u.findingIds)].slice(0, MAX_ALERT_FINDINGS), firstSeen: seenAt, lastSeen: seenAt, count: u.count,
      tags: { mitre: [...u.tags.mitre], compliance: { ...u.tags.compliance } }, summary: u.summary, version: 1, updatedAt: now,
    };
    const index = n.alertsMonth(ms);
    await ctx.ensureIndex(index);
    const [r] = await ctx.write([{ action: 'create', index, id, doc: alertToDoc(alert) }]);
    if (r!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not create alert (${describeEngineError(r!.item.error)})`);
    return 'created';
  }
  throw new StoreError(StoreCodes.CONFLICT, `alert for dedup key kept changing under this commit`);
}

export async function changeAlertStatus(ctx: Ctx, id: string, change: StatusChange, nextAuditSeq: () => number): Promise<Alert> {
  const cur = await readAlert(ctx, id);
  if (!cur) throw new StoreError(StoreCodes.NOT_FOUND, `no alert ${id}`);
  const a = cur.alert;
  if (a.version !== change.expectedVersion) {
    throw new StoreError(StoreCodes.CONFLICT, `alert ${id} is at version ${a.version}, not ${change.expectedVersion}: someone changed it meanwhile`, {
      hint: 'Reload the alert and decide again.',
    });
  }
  if (!canTransition(a.status, change.to)) {
    const allowed = STATUS_TRANSITIONS[a.status].join(', ');
    throw new StoreError(StoreCodes.INVALID_TRANSITION, `alert ${id} cannot go from ${a.status} to ${String(change.to)}`, {
      hint: `From ${a.status} it can go to: ${allowed}.`,
    });
  }
  const at = isoTime(change.at ?? new Date().toISOString(), 'at');
  const version = a.version + 1;
  const entry: AuditEntry = {
    id: uuidFrom(`alert:${id}:v${version}`), at, actor: change.actor, action: 'alert.status', target: `alert:${id}`,
    from: a.status, to: change.to, reason: change.reason,
  };
  const next: Alert = { ...a, status: change.to, version, updatedAt: at };
  const [r] = await ctx.write([{
    action: 'index', index: cur.index, id, doc: alertToDoc(next, { lastChange: entry }), ifSeqNo: cur.seqNo, ifPrimaryTerm: cur.primaryTerm,
  }]);
  if (r!.status === 409) {
    throw new StoreError(StoreCodes.CONFLICT, `alert ${id} changed while its status was being set: someone changed it meanwhile`, {
      hint: 'Reload the alert and decide again.',
    });
  }
  if (r!.status >= 300) throw new StoreError(StoreCodes.UNAVAILABLE, `could not change alert ${id} (${describeEngineError(r!.item.error)})`);
  await writeAudit(ctx, entry, nextAuditSeq());
  return next;
}

/** Creates the audit document; its id is deterministic, so writing it twice leaves one entry. */
export async function writeAudit(ctx: Ctx, e: AuditEntry, seq: number): Promise<void> {
  const doc: Doc = { ...e, seq };
  const [r] = await ctx.write([{ action: 'create', index: ctx.n.audit, id: e.id, doc }]);
  if (r!.status >= 300 && r!.status !== 409) {
    throw new StoreError(StoreCodes.UNAVAILABLE, `could not write the audit entry (${describeEngineError(r!.item.error)})`);
  }
}
