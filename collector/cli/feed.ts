/**
 * canhgac feed import|status|trust: the offline vulnerability feed of a collector's data directory
 * (docs/vulnerability-data.md §4–§5, §9).
 */
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CanhGacError } from '../../common/errors.js';
import { table } from '../../common/table.js';
import {
  feedStatus, importBundleBytes, loadTrustedKeys, readBundleFile, readEvaluationMarker, trustDir, trustForImport, trustedKeyFromPem,
  TEST_FEED_KEY_ID, type FeedStatus, type ImportProgress, type Rollback, type TrustedKey,
} from '../vuln/index.js';
import type { AuditEntry } from '../store/types.js';

const STEP_TEXT: Record<ImportProgress['step'], string> = {
  read: 'reading the bundle', verify: 'verifying format, signature, manifest, digests and records', write: 'writing the feed',
  activate: 'activating', done: 'done',
};

function progressPrinter(): { onProgress(p: ImportProgress): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    onProgress(p) {
      if (!tty) return;
      const count = p.done !== undefined && p.total !== undefined ? ` ${p.done}/${p.total}` : '';
      process.stderr.write(`\r\x1b[2K  ${STEP_TEXT[p.step]}${count}…`);
      shown = true;
    },
    end() {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}

function ageText(days: number): string {
  return days <= 0 ? 'today' : days === 1 ? '1 day ago' : `${days} days ago`;
}

function keyNote(keyId: string): string {
  return keyId === TEST_FEED_KEY_ID ? ' — the repository TEST key: a test feed, not for production' : '';
}

export interface FeedImportOptions {
  file: string;
  dataDir: string;
  trustKeys: string[];
  json: boolean;
  /** Accept a bundle built before the active feed (needs `reason`; audited). */
  allowOlder?: boolean;
  reason?: string | undefined;
  /** Who runs the import, for the audit trail. */
  actor?: string;
  /** Appends to the collector's audit trail (the CLI opens the data directory's store). */
  audit?: (e: Omit<AuditEntry, 'id'>) => Promise<void>;
}

/** The audit entry of an allowed rollback: written before the older feed is activated. */
export function rollbackAuditEntry(r: Rollback, actor: string, reason: string, at: Date = new Date()): Omit<AuditEntry, 'id'> {
  return {
    at: at.toISOString(), actor, action: 'feed.rollback', target: `feed:${r.incoming.id}`,
    from: `${r.active.id} (built ${r.active.builtAt})`, to: `${r.incoming.id} (built ${r.incoming.builtAt})`, reason,
  };
}

/** Verifies and activates a bundle; throws (non-zero exit) on any refusal, the previous feed staying active. */
export async function feedImport(o: FeedImportOptions): Promise<void> {
  const file = resolve(o.file);
  if (o.allowOlder && !o.reason?.trim()) {
    throw new CanhGacError('USAGE', '--allow-older needs --reason: the audit trail records why an older feed replaced a newer one', { where: '--reason' });
  }
  // Check the file before touching the data directory: a mistyped path must leave nothing behind.
  try {
    accessSync(file, constants.R_OK);
    if (statSync(file).isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
  } catch (e) {
    throw new CanhGacError('COLLECTOR_FEED_IMPORT', `cannot read the bundle file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: file, cause: e, hint: 'give the path of the .cgfeed file copied from the feed build machine; the active feed is unchanged',
    });
  }
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const configured: TrustedKey[] = [
    ...loadTrustedKeys(trustDir(o.dataDir)),
    ...o.trustKeys.map((k) => ({ ...trustedKeyFromPem(readKeyFile(k), resolve(k)), source: `--trust-key ${resolve(k)}` })),
  ];
  const bar = progressPrinter();
  bar.onProgress({ step: 'read' });
  const bytes = await readBundleFile(file);
  let result;
  let trust;
  try {
    trust = trustForImport(bytes, configured);
    const actor = o.actor ?? 'unknown';
    result = await importBundleBytes(bytes, basename(file), o.dataDir, trust.keys, {
      onProgress: bar.onProgress,
      allowOlder: o.allowOlder ?? false,
      ...(o.allowOlder ? { rollbackBy: { actor, reason: o.reason!.trim() } } : {}),
      onRollback: async (r) => {
        if (!o.audit) throw new CanhGacError('USAGE', 'a rollback must be audited and no audit trail is available');
        await o.audit(rollbackAuditEntry(r, actor, o.reason!.trim()));
      },
    });
  } finally {
    bar.end();
  }
  const s = result.status;
  const signer = trust.keys.find((k) => k.keyId === s.keyId);
  if (o.json) {
    console.log(JSON.stringify({ outcome: result.outcome, rollback: result.rollback ?? null, test_bundle: trust.testBundle, trusted_key: { id: s.keyId, source: signer?.source }, status: statusDocument(s) }, null, 2));
    return;
  }
  const out: string[] = [];
  out.push(result.outcome === 'unchanged' ? `feed ${s.id} is already the active feed; nothing changed` : `feed ${s.id} imported and active`);
  const win = s.files.find((f) => f.kind === 'windows-builds');
  out.push(`  built ${s.builtAt} (${ageText(s.ageDays)}); ${s.records} OSV records: ${s.files.filter((f) => f.kind === 'osv').map((f) => `${f.ecosystem} ${f.records}`).join(', ') || 'none'}${win ? `; Windows fixed builds: ${win.records}` : ''}`);
  if (result.rollback) {
    out.push(`  ROLLBACK (allowed with --allow-older, recorded in the audit trail): replaces ${result.rollback.active.id} built ${result.rollback.active.builtAt} with a feed built ${result.rollback.incoming.builtAt}`);
  }
  out.push(`  signature verified with trusted key ${s.keyId} (${signer?.source ?? 'feed-trust'})${keyNote(s.keyId)}`);
  if (trust.testBundle) {
    out.push('  WARNING: the repository test key was trusted for this import only because the file is, byte for byte, the');
    out.push('  committed test bundle. It holds a few real advisories (Debian 12, Ubuntu, AlmaLinux 9): do not rely on it for a real assessment.');
  }
  if (result.outcome === 'imported') out.push(`  previous feed: ${s.previous ?? '(none)'} — kept in ${join(o.dataDir, 'feed')} for a switch back`);
  out.push('  hosts: a running collector loads it within 30 s and re-evaluates every host without a rescan; a stopped one does at its next start');
  console.log(out.join('\n'));
}

function readKeyFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CanhGacError('USAGE', 'cannot read the key file', { where: path, cause: e, hint: '--trust-key takes an Ed25519 public key in PEM form (*.pub from scripts/feed/keygen)' });
  }
}

function statusDocument(s: Extract<FeedStatus, { active: true }>): Record<string, unknown> {
  return {
    active: true, id: s.id, built_at: s.builtAt, imported_at: s.importedAt, age_days: s.ageDays, key_id: s.keyId,
    test_feed: s.keyId === TEST_FEED_KEY_ID, records: s.records, previous: s.previous ?? null,
    rollback: s.rollback ? { replaced: s.rollback.replaced, replaced_built_at: s.rollback.replacedBuiltAt, kind: s.rollback.kind, actor: s.rollback.actor ?? null, reason: s.rollback.reason ?? null } : null,
    sources: s.sources, files: s.files,
  };
}

export async function feedStatusCommand(o: { dataDir: string; json: boolean }): Promise<void> {
  const s = await feedStatus(o.dataDir);
  const marker = await readEvaluationMarker(o.dataDir);
  const evaluated = marker && s.active && marker.feed_id === s.id ? { finished_at: marker.finished_at, hosts: marker.hosts } : null;
  const keys = loadTrustedKeys(trustDir(o.dataDir));
  if (o.json) {
    const doc = s.active ? { ...statusDocument(s), evaluated } : { active: false, reason: s.reason };
    console.log(JSON.stringify({ ...doc, trusted_keys: keys.map((k) => ({ id: k.keyId, file: k.source })) }, null, 2));
    return;
  }
  const out: string[] = [];
  if (!s.active) {
    out.push(`no active vulnerability feed: ${s.reason}`, '  import one: canhgac feed import FILE.cgfeed [--data-dir DIR]');
  } else {
    out.push(`active feed ${s.id}`);
    out.push(`  built ${s.builtAt} (${ageText(s.ageDays)}), imported ${s.importedAt}, signed by key ${s.keyId}${keyNote(s.keyId)}`);
    if (s.ageDays > 30) out.push(`  note: the feed is ${s.ageDays} days old; advisories published since are not matched — import a newer bundle`);
    out.push(`  ${s.records} OSV records; previous feed ${s.previous ?? '(none)'}`);
    if (s.rollback) out.push(`  rolled back: replaced ${s.rollback.replaced} (built ${s.rollback.replacedBuiltAt}), allowed by ${s.rollback.actor ?? '?'}: ${s.rollback.reason ?? ''}`);
    out.push(evaluated ? `  every host evaluated against it at ${evaluated.finished_at} (${evaluated.hosts} hosts)` : '  not yet evaluated by a collector (a running collector picks it up within 30 s)');
    out.push('', table(['FILE', 'KIND', 'ECOSYSTEM', 'RECORDS', 'SOURCE'], s.files.map((f) => [f.path, f.kind, f.ecosystem ?? '', f.records, f.source])));
    out.push('', table(['SOURCE', 'ORIGIN', 'RETRIEVED', 'LICENCE'], s.sources.map((x) => [x.id, x.origin, x.retrieved_at.slice(0, 10), x.licence])));
  }
  out.push('', keys.length ? `trusted keys (${trustDir(o.dataDir)}): ${keys.map((k) => `${k.keyId} ${basename(k.source)}`).join(', ')}` : `no trusted keys in ${trustDir(o.dataDir)} (add one: canhgac feed trust add KEY.pub)`);
  console.log(out.join('\n'));
}

/** Copies a publisher's public key into <data dir>/feed-trust/ after checking it is an Ed25519 key. */
export function feedTrustAdd(o: { file: string; dataDir: string; name?: string | undefined }): void {
  const key = trustedKeyFromPem(readKeyFile(o.file), resolve(o.file));
  const name = (o.name ?? basename(o.file).replace(/\.pub$/, '')).replace(/[^A-Za-z0-9._-]/g, '_');
  if (key.keyId === TEST_FEED_KEY_ID) {
    throw new CanhGacError('USAGE', `key ${key.keyId} is the repository's TEST key, whose private half is public; trusting it lets anyone sign a feed`, {
      where: o.file, hint: 'the committed test bundle imports without it; for other test bundles pass --trust-key to that one import',
    });
  }
  const dir = trustDir(o.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dest = join(dir, `${name}.pub`);
  if (existsSync(dest)) throw new CanhGacError('USAGE', `${dest} exists`, { hint: 'choose another --name, or remove the old key first' });
  copyFileSync(o.file, dest);
  console.log(`trusted key ${key.keyId} added as ${dest}; bundles it signs import from now on`);
}

export function feedTrustList(o: { dataDir: string; json: boolean }): void {
  const keys = loadTrustedKeys(trustDir(o.dataDir));
  if (o.json) console.log(JSON.stringify(keys.map((k) => ({ id: k.keyId, file: k.source })), null, 2));
  else console.log(keys.length ? table(['KEY ID', 'FILE'], keys.map((k) => [k.keyId, k.source])) : `no trusted keys in ${trustDir(o.dataDir)}`);
}
