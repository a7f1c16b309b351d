/**
 * The durable outbox (DESIGN §5): findings are written here before they are sent and deleted only
 * when the collector acknowledged their sequence number. It is bounded: when full, the oldest entries
 * are dropped and a `gap` finding says how many and which sequence numbers, so loss is provable.
 *
 * Storage is an SQLite file (WAL, synchronous=FULL): one transaction per enqueue, so a crash leaves
 * either the whole batch of observations or none of it, and sequence numbers never repeat.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { chmodSync } from 'node:fs';
import type { Finding } from '../../common/finding.js';
import { T } from '../../proto/index.js';
import { toWire, type WireFinding } from '../../proto/convert.js';
import { TransportCodes, TransportError } from './errors.js';

export interface OutboxLimits { maxEntries: number; maxBytes: number }

export interface OutboxEntry { seq: number; bytes: Buffer }

export interface Outbox {
  /** Assigns sequence numbers and persists; resolves when durable. Returns the assigned seqs. */
  enqueue(findings: Omit<Finding, 'seq'>[]): number[];
  /** Oldest entries with seq > afterSeq, up to `maxItems` and roughly `maxBytes` of encoded findings. */
  peek(afterSeq: number, maxItems: number, maxBytes: number): OutboxEntry[];
  /** Deletes everything ≤ seq (the collector has it). */
  ack(upToSeq: number): number;
  depth(): { entries: number; bytes: number; firstSeq: number; lastSeq: number };
  close(): void;
}

export function openOutbox(path: string, limits: OutboxLimits): Outbox {
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, bytes BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta(key, value) VALUES ('next_seq', 1), ('bytes', 0);
    `);
    chmodSync(path, 0o600);
  } catch (e) {
    throw new TransportError(TransportCodes.OUTBOX_CORRUPT, 'cannot open the outbox database', {
      cause: e, where: path, hint: 'check the disk and permissions; if the file is damaged, move it aside (queued findings in it are lost and a gap will be reported)',
    });
  }
  const getMeta = db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?');
  const setMeta = db.prepare('UPDATE meta SET value = ? WHERE key = ?');
  const insert = db.prepare('INSERT INTO outbox(seq, id, bytes) VALUES (?, ?, ?)');
  const count = db.prepare<[], { n: number; first: number | null; last: number | null }>('SELECT count(*) AS n, min(seq) AS first, max(seq) AS last FROM outbox');
  const oldest = db.prepare<[number], { seq: number; len: number }>('SELECT seq, length(bytes) AS len FROM outbox ORDER BY seq LIMIT ?');
  const delUpTo = db.prepare('DELETE FROM outbox WHERE seq <= ?');
  const sumUpTo = db.prepare<[number], { b: number | null }>('SELECT sum(length(bytes)) AS b FROM outbox WHERE seq <= ?');
  const select = db.prepare<[number, number], { seq: number; bytes: Buffer }>('SELECT seq, bytes FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');

  const meta = (k: string): number => getMeta.get(k)?.value ?? 0;

  function encode(f: Finding): Buffer {
    return Buffer.from(T.Finding.encode(T.Finding.fromObject(toWire(f) as unknown as Record<string, unknown>)).finish());
  }

  /** Drops the oldest entries until `incoming` more fit; returns the gap to report, if any. */
  function makeRoom(incomingEntries: number, incomingBytes: number): { from: number; to: number; count: number } | undefined {
    const c = count.get()!;
    let entries = c.n;
    let bytes = meta('bytes');
    if (entries + incomingEntries <= limits.maxEntries && bytes + incomingBytes <= limits.maxBytes) return undefined;
    // Room is needed: make it for the incoming entries plus the gap finding that reports the loss.
    incomingEntries += 1;
    const excessEntries = entries + incomingEntries - limits.maxEntries;
    let dropped = 0; let from = 0; let to = 0; let freed = 0;
    for (const row of oldest.all(Math.max(excessEntries, 0) + 10_000)) {
      if (entries + incomingEntries <= limits.maxEntries && bytes + incomingBytes <= limits.maxBytes) break;
      if (!from) from = row.seq;
      to = row.seq; dropped++; entries--; bytes -= row.len; freed += row.len;
    }
    if (!dropped) return undefined;
    delUpTo.run(to);
    setMeta.run(meta('bytes') - freed, 'bytes');
    return { from, to, count: dropped };
  }

  const enqueueTx = db.transaction((findings: Omit<Finding, 'seq'>[]): number[] => {
    let next = meta('next_seq');
    const encoded = findings.map((f) => ({ f, bytes: encode({ ...f, seq: 0 }) }));
    const incomingBytes = encoded.reduce((n, e) => n + e.bytes.length + 16, 0);
    const gap = makeRoom(encoded.length, incomingBytes);
    const seqs: number[] = [];
    let added = 0;
    const put = (f: Omit<Finding, 'seq'>): void => {
      const seq = next++;
      const bytes = encode({ ...f, seq } as Finding);
      insert.run(seq, f.id, bytes);
      added += bytes.length;
      seqs.push(seq);
    };
    if (gap) {
      put({
        id: randomUUID(), observedAt: new Date().toISOString(), check: 'agent', kind: 'gap', stateKey: '',
        snapshotId: '', snapshotTotal: 0,
        fields: {
          'gap.from_seq': gap.from, 'gap.to_seq': gap.to, 'gap.count': gap.count, 'gap.reason': 'outbox_full',
          'event.action': 'outbox-overflow', 'event.category': 'host',
          message: `outbox full: dropped ${gap.count} oldest findings (seq ${gap.from}–${gap.to})`,
        },
      });
      seqs.pop();
    }
    for (const { f } of encoded) put(f);
    setMeta.run(next, 'next_seq');
    setMeta.run(meta('bytes') + added, 'bytes');
    return seqs;
  });

  return {
    enqueue: (findings) => (findings.length ? enqueueTx(findings) : []),
    peek(afterSeq, maxItems, maxBytes) {
      const out: OutboxEntry[] = [];
      let bytes = 0;
      for (const row of select.iterate(afterSeq, maxItems)) {
        if (out.length && bytes + row.bytes.length > maxBytes) break;
        out.push({ seq: row.seq, bytes: row.bytes });
        bytes += row.bytes.length;
      }
      return out;
    },
    ack(upToSeq) {
      return db.transaction(() => {
        const freed = sumUpTo.get(upToSeq)?.b ?? 0;
        const n = delUpTo.run(upToSeq).changes;
        setMeta.run(Math.max(0, meta('bytes') - freed), 'bytes');
        return n;
      })();
    },
    depth() {
      const c = count.get()!;
      return { entries: c.n, bytes: meta('bytes'), firstSeq: c.first ?? 0, lastSeq: c.last ?? meta('next_seq') - 1 };
    },
    close: () => db.close(),
  };
}

/** Decodes an outbox entry back to the wire object (for sending). */
export function decodeEntry(bytes: Buffer): WireFinding {
  return T.Finding.toObject(T.Finding.decode(bytes), { longs: Number, defaults: true, oneofs: true }) as unknown as WireFinding;
}
