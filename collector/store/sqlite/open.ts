/** Opening the database file: permissions, durability settings, migrations, and SQLite errors → store codes. */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreCodes, StoreError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION, SCHEMA_VERSION_TABLE } from './schema.js';

export type Synchronous = 'FULL' | 'NORMAL';

const FILE_MODE = 0o600;
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the database at `file` with mode 0600, WAL, the given `synchronous`
 * level and foreign keys on, and brings its schema up to date.
 */
export function openDatabase(file: string, synchronous: Synchronous): Database.Database {
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is never, even briefly, readable by others whatever the umask.
    closeSync(openSync(file, 'a', FILE_MODE));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, FILE_MODE);
    db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    // The first statement reads the header: a damaged or foreign file fails here.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError(StoreCodes.UNAVAILABLE, `${file}: the file system does not support SQLite WAL mode (got ${String(mode)})`);
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    return db;
  } catch (e) {
    db?.close();
    throw toStoreError(e, file);
  }
}

function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    const hasVersionTable = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'").get() !== undefined;
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").get() as { n: number }).n;
    if (!hasVersionTable && tables > 0) {
      throw new StoreError(StoreCodes.CORRUPT, `${file} is an SQLite database but not a Canh Gác one (no schema_version table)`, {
        where: file,
        hint: 'Point the collector at another data directory, or move this file aside.',
      });
    }
    db.exec(SCHEMA_VERSION_TABLE);
    const current = (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_version').get() as { v: number }).v;
    if (current > SCHEMA_VERSION) {
      throw new StoreError(StoreCodes.UNAVAILABLE, `${file} has schema version ${current}; this collector knows up to ${SCHEMA_VERSION}`, {
        where: file,
        hint: 'The database was written by a newer Canh Gác: upgrade the collector (downgrading the database is not supported).',
      });
    }
    const record = db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, m.description, new Date().toISOString());
    }
  }).immediate();
}

const isSqliteError = (e: unknown): e is InstanceType<typeof Database.SqliteError> => e instanceof Database.SqliteError;

/** Maps what SQLite or the file system threw to a StoreError; a StoreError passes through; anything else is a bug and is rethrown. */
export function toStoreError(e: unknown, file: string): unknown {
  if (e instanceof StoreError) return e;
  if (isSqliteError(e)) {
    const c = e.code;
    if (c.startsWith('SQLITE_CORRUPT') || c === 'SQLITE_NOTADB') {
      return new StoreError(StoreCodes.CORRUPT, `${file} is damaged or is not an SQLite database (${e.message})`, {
        cause: e, where: file,
        hint: 'Stop the collector, move the file (and its -wal/-shm files) aside and restore the last backup; agents resend what was not acked.',
      });
    }
    if (c.startsWith('SQLITE_BUSY') || c.startsWith('SQLITE_LOCKED')) {
      return new StoreError(StoreCodes.UNAVAILABLE, `${file} is locked by another process`, {
        cause: e, where: file, hint: 'Is a second collector running on the same data directory?',
      });
    }
    if (c === 'SQLITE_FULL') return new StoreError(StoreCodes.UNAVAILABLE, `${file}: disk full`, { cause: e, where: file, hint: 'Free disk space or shorten retention.' });
    if (c.startsWith('SQLITE_IOERR') || c.startsWith('SQLITE_CANTOPEN') || c.startsWith('SQLITE_READONLY') || c === 'SQLITE_PERM') {
      return new StoreError(StoreCodes.UNAVAILABLE, `${file} cannot be read or written (${e.message})`, {
        cause: e, where: file, hint: 'Check the data directory: it must exist, be writable by the collector user and have free space.',
      });
    }
    if (c === 'SQLITE_CONSTRAINT_PRIMARYKEY' || c === 'SQLITE_CONSTRAINT_UNIQUE') {
      return new StoreError(StoreCodes.CONFLICT, `already stored (${e.message})`, { cause: e });
    }
    if (c.startsWith('SQLITE_CONSTRAINT')) return new StoreError(StoreCodes.INVALID_INPUT, `refused by the database (${e.message})`, { cause: e });
    return new StoreError(StoreCodes.UNAVAILABLE, `${file}: ${e.message}`, { cause: e, where: file });
  }
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    return new StoreError(StoreCodes.UNAVAILABLE, `${file} cannot be opened (${errno})`, {
      cause: e, where: file, hint: 'Check that the data directory exists and is writable by the collector user.',
    });
  }
  return e;
}
