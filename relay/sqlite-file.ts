/**
 * One SQLite file of the relay's embedded store (blobs, backups), opened the
 * way deletion stays real: WAL, secure_delete (freed pages are zeroed in the
 * main file), and after deletions a TRUNCATE checkpoint so the WAL's old page
 * images go too. Writes run in one synchronous IMMEDIATE transaction each.
 */
import { DatabaseSync } from 'node:sqlite';

export class SecureSqliteFile {
  readonly db: DatabaseSync;
  /** Something was deleted since the last checkpoint that emptied the WAL. */
  private dirty = false;

  constructor(path: string, schema: string) {
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec('PRAGMA secure_delete = ON');
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec(schema);
  }

  /** Runs fn in one write transaction (fn is synchronous: nothing interleaves). */
  tx<T>(fn: () => T): T {
    return inWriteTransaction(this.db, fn);
  }

  /** Something was deleted: the next scrub empties the WAL of it. */
  deleted(): void {
    this.dirty = true;
  }

  /** After deletions, copy the WAL into the main file and truncate it; tried again next time if busy. */
  scrub(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const r = this.db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
    if (r === undefined || Number(r.busy) !== 0) this.dirty = true;
  }

  close(): void {
    this.db.close();
  }
}

/** Runs fn inside BEGIN IMMEDIATE … COMMIT on db, rolling back if it throws. */
export function inWriteTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const value = fn();
    db.exec('COMMIT');
    return value;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
