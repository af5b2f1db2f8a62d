/**
 * The backup API (issue #19): an account's backup, encrypted on the device
 * under a key derived from the recovery key, kept here as opaque items. The
 * routes and bodies are lib/protocol/relay-backups.ts; the storage is a
 * BackupStore (store.ts).
 *
 * What the relay learns: that an account keeps a backup of about this size
 * (items are padded on the device), when it changes, and from where it is
 * read. Not what is inside (no key), nor the recovery key (the backup id and
 * access secret are one-way derivations of it; the secret is kept hashed).
 * A wrong secret and an unknown backup are the same not_found, and a refused
 * put stores nothing.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { toB64 } from '../../lib/bytes.ts';
import { BACKUP_ROUTES, BACKUP_SECRET_BYTES, type BackupResponseOf, type BackupRouteName } from '../../lib/protocol/relay-backups.ts';
import type { Accounts } from '../accounts.ts';
import type { RelayConfig } from '../config.ts';
import { readBytes, readId } from '../encoding.ts';
import { ErrorCode, RelayError, notFound } from '../errors.ts';
import { readStrictBody } from '../http.ts';
import type { BackupStore } from './store.ts';

/** The settings the backup API reads (relay/config.ts). */
export type BackupConfig = Pick<RelayConfig, 'maxBackupItemBytes' | 'maxBackupBytesPerAccount' | 'maxBackupItemsPerAccount'>;

const SMALL_BODY_BYTES = 4096;

/** The keys that name a backup and prove access to it (`slot`). */
const SLOT_KEYS = ['backupId', 'secret'] as const;

const hashSecret = (secret: Uint8Array): string => toB64(sha256(secret));

export class Backups {
  constructor(
    private readonly store: BackupStore,
    private readonly accounts: Pick<Accounts, 'authenticate'>,
    private readonly config: BackupConfig,
  ) {}

  /** Backup id and the hash of its access secret, read strictly from a body. */
  private slot(b: Record<string, unknown>): { backupId: string; secretHash: string } {
    return { backupId: readId(b, 'backupId'), secretHash: hashSecret(readBytes(b, 'secret', { min: BACKUP_SECRET_BYTES, max: BACKUP_SECRET_BYTES })) };
  }

  async put(accountId: string, b: Record<string, unknown>): Promise<BackupResponseOf<'putBackupItem'>> {
    const { backupId, secretHash } = this.slot(b);
    const item = readId(b, 'item');
    const data = readBytes(b, 'data', { min: 1, max: this.config.maxBackupItemBytes });
    const caps = { maxBytesPerAccount: this.config.maxBackupBytesPerAccount, maxItemsPerAccount: this.config.maxBackupItemsPerAccount };
    const r = await this.store.putItem(accountId, backupId, secretHash, item, data, caps);
    if (!r.ok) {
      if (r.reason === 'quota') throw new RelayError(ErrorCode.quotaExceeded, 'backup quota of this account reached (bytes or items)');
      throw notFound();
    }
    return { bytes: r.value.bytes, maxBytes: this.config.maxBackupBytesPerAccount };
  }

  async list(b: Record<string, unknown>): Promise<BackupResponseOf<'listBackup'>> {
    const { backupId, secretHash } = this.slot(b);
    const items = await this.store.listItems(backupId, secretHash);
    if (items === null) throw notFound();
    return { items };
  }

  async get(b: Record<string, unknown>): Promise<BackupResponseOf<'getBackupItem'>> {
    const { backupId, secretHash } = this.slot(b);
    const data = await this.store.getItem(backupId, secretHash, readId(b, 'item'));
    if (data === null) throw notFound();
    return { data: toB64(data) };
  }

  async drop(b: Record<string, unknown>): Promise<BackupResponseOf<'dropBackupItem'>> {
    const { backupId, secretHash } = this.slot(b);
    if (!(await this.store.dropItem(backupId, secretHash, readId(b, 'item')))) throw notFound();
    return { ok: true };
  }

  async delete(b: Record<string, unknown>): Promise<BackupResponseOf<'deleteBackup'>> {
    const { backupId, secretHash } = this.slot(b);
    if (!(await this.store.deleteBackup(backupId, secretHash))) throw notFound();
    return { ok: true };
  }

  /** The account is being deleted: its backups go first (so a failure leaves the account, and the person retries). */
  accountDeleted(accountId: string): Promise<void> {
    return this.store.dropAccount(accountId);
  }

  scrub(): Promise<void> {
    return this.store.scrub();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** The routes, each reading its own body with its own bound. */
  handlers(): { [N in BackupRouteName]: (req: Request) => Promise<BackupResponseOf<N>> } {
    const itemBody = Math.ceil((this.config.maxBackupItemBytes * 4) / 3) + SMALL_BODY_BYTES;
    return {
      putBackupItem: async (req) => {
        const { accountId } = await this.accounts.authenticate(req);
        return this.put(accountId, await readStrictBody(req, itemBody, [...SLOT_KEYS, 'item', 'data']));
      },
      listBackup: async (req) => this.list(await readStrictBody(req, SMALL_BODY_BYTES, SLOT_KEYS)),
      getBackupItem: async (req) => this.get(await readStrictBody(req, SMALL_BODY_BYTES, [...SLOT_KEYS, 'item'])),
      dropBackupItem: async (req) => this.drop(await readStrictBody(req, SMALL_BODY_BYTES, [...SLOT_KEYS, 'item'])),
      deleteBackup: async (req) => this.delete(await readStrictBody(req, SMALL_BODY_BYTES, SLOT_KEYS)),
    };
  }
}

/** Path → route name, for the router in app.ts (a path under the prefix that is not here is a 404). */
export const BACKUP_ROUTE_BY_PATH: ReadonlyMap<string, BackupRouteName> = new Map(
  (Object.keys(BACKUP_ROUTES) as BackupRouteName[]).map((name) => [BACKUP_ROUTES[name].path, name]),
);
