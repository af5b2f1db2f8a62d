/**
 * What the relay keeps of encrypted backups (issue #19), behind one interface
 * with an embedded SQLite implementation (sqlite-backups.ts, in the relay's
 * own database file) and a Redis one (redis-backups.ts, under the relay's key
 * prefix). As in ../store.ts every operation that must be atomic is ONE
 * method: a put checks the secret, the account's quota and stores the item
 * together.
 *
 * A backup is a backup id (derived from the recovery key on the device), the
 * hash of its access secret, the account that last wrote it (for the quota,
 * and so that deleting the account deletes it) and its items: opaque names
 * and ciphertext. Nothing here is readable by the relay.
 */

export interface BackupCaps {
  /** Ciphertext bytes of every item of every backup an account writes. */
  maxBytesPerAccount: number;
  /** Items of every backup an account writes. */
  maxItemsPerAccount: number;
}

/**
 * Refusals: 'not_found' (no such backup or item, or a wrong secret: one
 * answer), 'quota' (the account's caps). Nothing is stored on a refusal.
 */
export type BackupRefusal = 'not_found' | 'quota';
export type BackupResult<T> = { ok: true; value: T } | { ok: false; reason: BackupRefusal };

export interface StoredItem {
  item: string;
  size: number;
}

export interface BackupStore {
  /**
   * Stores (or replaces) one item. The first put creates the backup with this
   * secret hash; later ones must present the same hash. The backup then
   * belongs to `accountId` (a restored account may be a new one) and counts
   * against its caps. Answers the account's backup bytes after the put.
   */
  putItem(accountId: string, backupId: string, secretHash: string, item: string, data: Uint8Array, caps: BackupCaps): Promise<BackupResult<{ bytes: number }>>;
  /** The backup's items, or null (no such backup or a wrong secret). */
  listItems(backupId: string, secretHash: string): Promise<StoredItem[] | null>;
  /** One item's ciphertext, or null. */
  getItem(backupId: string, secretHash: string, item: string): Promise<Uint8Array | null>;
  /** Deletes one item; false if there was none (or a wrong secret). */
  dropItem(backupId: string, secretHash: string, item: string): Promise<boolean>;
  /** Deletes the backup and its items; false if there was none (or a wrong secret). */
  deleteBackup(backupId: string, secretHash: string): Promise<boolean>;
  /** Deletes every backup the account wrote (the account is being deleted). */
  dropAccount(accountId: string): Promise<void>;
  /** Makes sure deleted ciphertext is no longer in any file (WAL, AOF). */
  scrub(): Promise<void>;
  close(): Promise<void>;
}
