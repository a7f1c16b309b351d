/**
 * The worker thread that runs Store.commit for the embedded store (see commit-thread.ts): its own
 * connection to the same database file (WAL, the same `synchronous`), commits in the order they arrive,
 * those waiting together in one transaction (commit.ts). A commit is answered only after its
 * transaction committed, so the collector's ack still follows a durable commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IngestCommit } from '../types.js';
import { prepareCommit } from './commit.js';
import { openDatabase, toStoreError, type Synchronous } from './open.js';
import { wireError, type ToMain, type ToWorker } from './commit-protocol.js';

/** At most this many findings in one group transaction (bounds the latency of the first commit waiting). */
const GROUP_FINDINGS = 20_000;

const { file, synchronous } = workerData as { file: string; synchronous: Synchronous };
const port = parentPort!;
const post = (m: ToMain): void => port.postMessage(m);

let commitGroup: ReturnType<typeof prepareCommit> | undefined;
let db: ReturnType<typeof openDatabase> | undefined;
try {
  db = openDatabase(file, synchronous);
  commitGroup = prepareCommit(db);
} catch (e) {
  post({ type: 'fatal', error: wireError(toStoreError(e, file)) });
  port.close();
}

const waiting: { id: number; c: IngestCommit }[] = [];
let scheduled = false;
let closing = false;

function flush(): void {
  scheduled = false;
  while (waiting.length) {
    const group: typeof waiting = [];
    let n = 0;
    while (waiting.length && (group.length === 0 || n + waiting[0]!.c.findings.length <= GROUP_FINDINGS)) {
      const w = waiting.shift()!;
      n += w.c.findings.length;
      group.push(w);
    }
    try {
      if (!commitGroup) throw new Error('the database could not be opened');
      const outcomes = commitGroup(group.map((g) => g.c));
      outcomes.forEach((o, i) => {
        const id = group[i]!.id;
        post(o.ok ? { type: 'done', id, result: o.result } : { type: 'failed', id, error: wireError(toStoreError(o.error, file)) });
      });
    } catch (e) {
      const error = wireError(toStoreError(e, file));
      for (const g of group) post({ type: 'failed', id: g.id, error });
    }
  }
  if (closing) {
    db?.close();
    port.close();
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'commit') waiting.push({ id: m.id, c: m.commit });
  else closing = true;
  // Commits that arrive while one is written wait here and go together in the next transaction.
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
