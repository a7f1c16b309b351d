/**
 * Documents the engine refused for good (mapping conflicts, bad field names) are not lost with their
 * batch: each goes to `<dataDir>/dead-letter/<kind>-YYYY-MM-DD.ndjson` with the reason, fsynced before the
 * commit resolves, so what the collector acks is either indexed or in a dead-letter file.
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

export interface DeadLetter {
  at: string;
  index: string;
  id: string;
  status: number;
  reason: string;
  document: unknown;
}

export class DeadLetters {
  readonly dir: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'dead-letter');
  }

  /** Appends the entries (one JSON line each) and fsyncs; resolves with the file written. */
  write(kind: string, entries: DeadLetter[]): Promise<string> {
    const file = join(this.dir, `${kind}-${new Date().toISOString().slice(0, 10)}.ndjson`);
    const text = entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const run = async (): Promise<string> => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const fh = await open(file, 'a', 0o600);
      try {
        await fh.appendFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return file;
    };
    // One writer at a time, so lines of concurrent commits never interleave.
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }
}
