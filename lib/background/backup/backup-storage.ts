/**
 * Where sealed backup items live: the relay's backup slot (over the routes of
 * lib/protocol/relay-backups.ts) or a backup file the person keeps. Both
 * answer the same small interface, so restoring from a file is restoring
 * from the relay without the relay.
 */

import { fromB64, toB64 } from '../../bytes.ts';
import {
  BACKUP_ID_SHAPE,
  BACKUP_MAX_ITEMS,
  BACKUP_ROUTES,
  decodeBackupOk,
  decodeGetBackupItem,
  decodeListBackup,
  decodePutBackupItem,
  type BackupItemInfo,
  type BackupRequestOf,
  type BackupRouteName,
} from '../../protocol/relay-backups.ts';
import { UsageError } from '../../crypto/errors.ts';
import { t } from '../../platform/i18n.ts';
import { relayAnswer } from '../relay-api.ts';
import { boundedText, RelayApiError } from '../relay-wire.ts';
import type { AccessSecret, BackupId, ItemName } from './recovery-key.ts';

/** A backup item at most this long is accepted back (the relay's default item cap). */
export const MAX_ITEM_BYTES = 4 * 1024 * 1024;

/**
 * The largest answer read (BACKUP-READ-1): one item in base64 and its JSON, or
 * a list of the most items there can be. A longer or endless body is cut off
 * and refused ('malformed') as soon as it passes this, never read into memory.
 */
const MAX_ANSWER_BYTES = Math.ceil((MAX_ITEM_BYTES * 4) / 3) + 64 * 1024;

/** Reading a backup: the relay's slot, or a file. */
export interface BackupSource {
  /** The items, or null when there is no such backup (a wrong recovery key looks the same). */
  list(): Promise<BackupItemInfo[] | null>;
  get(item: ItemName): Promise<Uint8Array | null>;
}

/** Writing a backup (the relay's slot). */
export interface BackupSink extends BackupSource {
  put(item: ItemName, data: Uint8Array): Promise<{ bytes: number; maxBytes: number }>;
  drop(item: ItemName): Promise<void>;
  /** Deletes the whole backup (a new recovery key replaced it). */
  deleteAll(): Promise<void>;
}

export interface RelayBackupOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** The account session, for writing (reading needs none). */
  session?: () => Promise<string>;
}

/** The backup slot at a relay, opened with the backup id and access secret. */
export class RelayBackup implements BackupSink {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(
    private readonly baseUrl: string,
    private readonly backupId: BackupId,
    private readonly secret: AccessSecret,
    private readonly options: RelayBackupOptions = {},
  ) {
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  private async call<R extends BackupRouteName>(route: R, extra: Omit<BackupRequestOf<R>, 'backupId' | 'secret'>, session?: string): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (session !== undefined) headers.authorization = `Bearer ${session}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.baseUrl + BACKUP_ROUTES[route].path, {
        method: BACKUP_ROUTES[route].method,
        headers,
        body: JSON.stringify({ backupId: this.backupId, secret: toB64(this.secret), ...extra }),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      text = await boundedText(res, MAX_ANSWER_BYTES, 'backup answer above one item');
    } catch (err) {
      if (err instanceof RelayApiError) throw err;
      throw new RelayApiError(0, 'unreachable', t('bg_relay_unreachable'), { cause: err });
    } finally {
      clearTimeout(timer);
    }
    return relayAnswer(res, text);
  }

  /** not_found is an answer here (no backup, or not ours), not a failure. */
  private async orNull<T>(p: Promise<T>): Promise<T | null> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof RelayApiError && err.code === 'not_found') return null;
      throw err;
    }
  }

  async list(): Promise<BackupItemInfo[] | null> {
    return this.orNull(this.call('listBackup', {}).then(decodeListBackup));
  }

  async get(item: ItemName): Promise<Uint8Array | null> {
    return this.orNull(this.call('getBackupItem', { item }).then((v) => decodeGetBackupItem(v, MAX_ITEM_BYTES)));
  }

  async put(item: ItemName, data: Uint8Array): Promise<{ bytes: number; maxBytes: number }> {
    if (this.options.session === undefined) throw new UsageError('RelayBackup.put needs a session');
    return decodePutBackupItem(await this.call('putBackupItem', { item, data: toB64(data) }, await this.options.session()));
  }

  async drop(item: ItemName): Promise<void> {
    // Already gone is as good as dropped.
    await this.orNull(this.call('dropBackupItem', { item }).then(decodeBackupOk));
  }

  async deleteAll(): Promise<void> {
    await this.orNull(this.call('deleteBackup', {}).then(decodeBackupOk));
  }
}

// ---------------------------------------------------------------------------
// The backup file: the same sealed items, as JSON the person keeps.

const FILE_MAGIC = 'microchat-backup';
const FILE_VERSION = 1;

/** A file that is not a MicroChat backup (or is damaged). */
export class BackupFileError extends Error {
  override readonly name = 'BackupFileError';
}

/** The file's bytes: its backup id and every sealed item (all ciphertext; names are opaque). */
export function encodeBackupFile(backupId: BackupId, items: ReadonlyMap<ItemName, Uint8Array>): Uint8Array {
  const body = { format: FILE_MAGIC, v: FILE_VERSION, backupId, items: [...items].map(([item, data]) => ({ item, data: toB64(data) })) };
  return new TextEncoder().encode(JSON.stringify(body));
}

/** A backup file read strictly, answering as a BackupSource for the backup id it was made for. */
export class BackupFile {
  private constructor(
    readonly backupId: string,
    private readonly items: ReadonlyMap<string, Uint8Array>,
  ) {}

  static read(bytes: Uint8Array): BackupFile {
    let v: unknown;
    try {
      v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (err) {
      throw new BackupFileError('not a backup file', { cause: err });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BackupFileError('not a backup file');
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length !== 4 || o.format !== FILE_MAGIC || o.v !== FILE_VERSION) throw new BackupFileError('not a backup file');
    if (typeof o.backupId !== 'string' || !BACKUP_ID_SHAPE.test(o.backupId)) throw new BackupFileError('bad backup id');
    if (!Array.isArray(o.items) || o.items.length > BACKUP_MAX_ITEMS) throw new BackupFileError('bad item list');
    const items = new Map<string, Uint8Array>();
    for (const raw of o.items as unknown[]) {
      const e = raw as Record<string, unknown>;
      if (typeof e !== 'object' || e === null || Object.keys(e).length !== 2 || typeof e.item !== 'string' || !BACKUP_ID_SHAPE.test(e.item)) throw new BackupFileError('bad item');
      const data = typeof e.data === 'string' ? fromB64(e.data) : null;
      if (data === null || data.length === 0 || data.length > MAX_ITEM_BYTES || items.has(e.item)) throw new BackupFileError('bad item');
      items.set(e.item, data);
    }
    return new BackupFile(o.backupId, items);
  }

  /** As a source for `backupId`: another recovery key's id finds nothing, as at the relay. */
  sourceFor(backupId: BackupId): BackupSource {
    const mine = backupId === this.backupId;
    return {
      list: async () => (mine ? [...this.items].map(([item, data]) => ({ item, size: data.length })) : null),
      get: async (item) => (mine ? (this.items.get(item) ?? null) : null),
    };
  }
}
