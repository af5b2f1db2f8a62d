/**
 * Backups in the embedded store: two tables in the relay's own SQLite file
 * (relay.db), on a connection of their own with the message store's settings
 * (WAL, secure_delete), so deleted ciphertext is zeroed in the main file and
 * scrub() truncates the WAL after deletions. Triggers keep deletion whole: a
 * deleted backup takes its items, a deleted account its backups, in the
 * transaction that deleted it.
 */

import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';
import { SecureSqliteFile } from '../sqlite-file.ts';
import type { BackupCaps, BackupResult, BackupStore, StoredItem } from './store.ts';

/** The message store (opened first) creates `accounts`; these sit beside it. */
const SCHEMA = `
-- account_id: the account that last wrote the backup (its quota; deleted with it).
CREATE TABLE IF NOT EXISTS backups (backup_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, account_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS backups_account ON backups (account_id);
-- Up to a few MiB a row: a rowid table.
CREATE TABLE IF NOT EXISTS backup_items (backup_id TEXT NOT NULL, item TEXT NOT NULL, data BLOB NOT NULL, UNIQUE (backup_id, item));
CREATE TRIGGER IF NOT EXISTS backups_drop_items AFTER DELETE ON backups BEGIN
  DELETE FROM backup_items WHERE backup_id = OLD.backup_id;
END;
CREATE TRIGGER IF NOT EXISTS backups_account_deleted AFTER DELETE ON accounts BEGIN
  DELETE FROM backups WHERE account_id = OLD.account_id;
END;
`;

const num = (v: SQLOutputValue | undefined): number => Number(v);
const str = (v: SQLOutputValue | undefined): string => (typeof v === 'string' ? v : String(v));

export class SqliteBackupStore implements BackupStore {
  private readonly file: SecureSqliteFile;
  private readonly db: DatabaseSync;
  private readonly s: Record<string, StatementSync>;

  constructor(path: string) {
    this.file = new SecureSqliteFile(path, SCHEMA);
    this.db = this.file.db;
    const p = (sql: string): StatementSync => this.db.prepare(sql);
    this.s = {
      getBackup: p('SELECT secret_hash, account_id FROM backups WHERE backup_id = ?'),
      insBackup: p('INSERT INTO backups (backup_id, secret_hash, account_id) VALUES (?, ?, ?)'),
      setOwner: p('UPDATE backups SET account_id = ? WHERE backup_id = ?'),
      // What the account would hold with this backup counted as its own, without the item being replaced.
      usage: p(
        `SELECT COUNT(*) AS n, coalesce(SUM(length(i.data)), 0) AS bytes FROM backup_items i JOIN backups b ON b.backup_id = i.backup_id
         WHERE (b.account_id = ?1 OR b.backup_id = ?2) AND NOT (i.backup_id = ?2 AND i.item = ?3)`,
      ),
      accountBytes: p(
        'SELECT coalesce(SUM(length(i.data)), 0) AS bytes FROM backup_items i JOIN backups b ON b.backup_id = i.backup_id WHERE b.account_id = ?',
      ),
      putItem: p('INSERT INTO backup_items (backup_id, item, data) VALUES (?, ?, ?) ON CONFLICT (backup_id, item) DO UPDATE SET data = excluded.data'),
      list: p('SELECT item, length(data) AS size FROM backup_items WHERE backup_id = ? ORDER BY item'),
      getItem: p('SELECT data FROM backup_items WHERE backup_id = ? AND item = ?'),
      dropItem: p('DELETE FROM backup_items WHERE backup_id = ? AND item = ?'),
      delBackup: p('DELETE FROM backups WHERE backup_id = ?'),
      delAccount: p('DELETE FROM backups WHERE account_id = ?'),
    };
  }

  private tx<T>(fn: () => T): T {
    return this.file.tx(fn);
  }

  /** Whether the backup exists and the secret hash is its own. */
  private opens(backupId: string, secretHash: string): boolean {
    const b = this.s.getBackup!.get(backupId);
    return b !== undefined && str(b.secret_hash) === secretHash;
  }

  async putItem(accountId: string, backupId: string, secretHash: string, item: string, data: Uint8Array, caps: BackupCaps): Promise<BackupResult<{ bytes: number }>> {
    const r = this.tx(() => {
      const b = this.s.getBackup!.get(backupId);
      if (b !== undefined && str(b.secret_hash) !== secretHash) return { ok: false, reason: 'not_found' } as const;
      const use = this.s.usage!.get(accountId, backupId, item);
      if (num(use?.n) + 1 > caps.maxItemsPerAccount || num(use?.bytes) + data.length > caps.maxBytesPerAccount) {
        return { ok: false, reason: 'quota' } as const;
      }
      if (b === undefined) this.s.insBackup!.run(backupId, secretHash, accountId);
      else if (str(b.account_id) !== accountId) this.s.setOwner!.run(accountId, backupId);
      this.s.putItem!.run(backupId, item, data);
      return { ok: true, value: { bytes: num(this.s.accountBytes!.get(accountId)?.bytes) } } as const;
    });
    // A replaced item's old pages are freed (and zeroed by secure_delete); the WAL still has them.
    if (r.ok) this.file.deleted();
    return r;
  }

  async listItems(backupId: string, secretHash: string): Promise<StoredItem[] | null> {
    if (!this.opens(backupId, secretHash)) return null;
    return this.s.list!.all(backupId).map((row) => ({ item: str(row.item), size: num(row.size) }));
  }

  async getItem(backupId: string, secretHash: string, item: string): Promise<Uint8Array | null> {
    if (!this.opens(backupId, secretHash)) return null;
    const row = this.s.getItem!.get(backupId, item);
    return row !== undefined && row.data instanceof Uint8Array ? new Uint8Array(row.data) : null;
  }

  async dropItem(backupId: string, secretHash: string, item: string): Promise<boolean> {
    const dropped = this.tx(() => this.opens(backupId, secretHash) && Number(this.s.dropItem!.run(backupId, item).changes) === 1);
    if (dropped) this.file.deleted();
    return dropped;
  }

  async deleteBackup(backupId: string, secretHash: string): Promise<boolean> {
    const deleted = this.tx(() => this.opens(backupId, secretHash) && Number(this.s.delBackup!.run(backupId).changes) === 1);
    if (deleted) this.file.deleted();
    return deleted;
  }

  async dropAccount(accountId: string): Promise<void> {
    // Normally done by the trigger on `accounts`; kept so both stores answer the same call.
    this.tx(() => this.s.delAccount!.run(accountId));
    this.file.deleted();
  }

  async scrub(): Promise<void> {
    this.file.scrub();
  }

  async close(): Promise<void> {
    this.file.close();
  }
}
