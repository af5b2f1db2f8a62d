/**
 * The backup part of the relay contract (issue #19): an account's encrypted
 * backup, kept by the relay as a few opaque items (a manifest and history
 * segments, each ciphertext under a key derived on the device from the
 * recovery key). A backup is addressed by a backup id and opened with an
 * access secret, both derived from the recovery key too; the relay keeps only
 * the secret's hash. The relay (relay/backups/) reads these bodies with its
 * strict readers; the extension reads the answers with the decoders below.
 *
 *   put     session + {backupId, secret, item, data} -> {bytes, maxBytes}
 *           creates the backup on the first put; counts against the account's quota
 *   list    {backupId, secret}                  -> {items: [{item, size}]}
 *   get     {backupId, secret, item}            -> {data}
 *   drop    {backupId, secret, item}            -> {ok}     one item
 *   delete  {backupId, secret}                  -> {ok}     the whole backup
 *
 * Only `put` names an account (the quota, and deleting the account deletes
 * its backups); reading needs no account, so a fresh profile restores with
 * the recovery key alone. An unknown backup and a wrong secret get the same
 * not_found, and nothing is created by a refused request.
 *
 * Imports only lib/bytes.ts: the relay runs this file under Deno.
 */

import { fromB64 } from '../bytes.ts';

/** Unpadded base64url text of a byte string. */
export type B64 = string;

/** Length of the access secret (the relay keeps its SHA-256). */
export const BACKUP_SECRET_BYTES = 32;

export const BACKUP_ROUTES = {
  putBackupItem: { method: 'POST', path: '/v1/backups/put' },
  listBackup: { method: 'POST', path: '/v1/backups/list' },
  getBackupItem: { method: 'POST', path: '/v1/backups/get' },
  dropBackupItem: { method: 'POST', path: '/v1/backups/drop' },
  deleteBackup: { method: 'POST', path: '/v1/backups/delete' },
} as const satisfies Record<string, { method: 'POST'; path: string }>;

export type BackupRouteName = keyof typeof BACKUP_ROUTES;

/** Every path under this prefix is a backup route (or a 404). */
export const BACKUP_PATH_PREFIX = '/v1/backups';

export interface BackupItemInfo {
  item: string;
  size: number;
}

/** What each backup route takes and answers. */
export interface BackupRouteTypes {
  putBackupItem: {
    request: { backupId: string; secret: B64; item: string; data: B64 };
    /** The account's backup bytes after this put, and its quota. */
    response: { bytes: number; maxBytes: number };
  };
  listBackup: {
    request: { backupId: string; secret: B64 };
    response: { items: BackupItemInfo[] };
  };
  getBackupItem: {
    request: { backupId: string; secret: B64; item: string };
    response: { data: B64 };
  };
  dropBackupItem: {
    request: { backupId: string; secret: B64; item: string };
    response: { ok: true };
  };
  deleteBackup: {
    request: { backupId: string; secret: B64 };
    response: { ok: true };
  };
}

export type BackupRequestOf<R extends BackupRouteName> = BackupRouteTypes[R]['request'];
export type BackupResponseOf<R extends BackupRouteName> = BackupRouteTypes[R]['response'];

// ---------------------------------------------------------------------------
// Strict decoders of the relay's answers (the client side).

/** An answer that is not what the contract says: hostile or broken, never used. */
export class BackupAnswerError extends Error {
  override readonly name = 'BackupAnswerError';
}

/** Ids (backup id, item name) are 16 random-looking bytes as unpadded base64url, as every relay id. */
export const BACKUP_ID_SHAPE = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** Items one backup can list; the relay's per-account cap is at most this. */
export const BACKUP_MAX_ITEMS = 4096;

function record(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BackupAnswerError('expected an object');
  return v as Record<string, unknown>;
}

function exactKeys(o: Record<string, unknown>, keys: readonly string[]): void {
  const got = Object.keys(o);
  if (got.length !== keys.length || !keys.every((k) => Object.hasOwn(o, k))) throw new BackupAnswerError(`expected exactly ${keys.join(', ')}`);
}

function int(o: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BackupAnswerError(`${key}: out of range`);
  return v;
}

export function decodePutBackupItem(v: unknown): { bytes: number; maxBytes: number } {
  const o = record(v);
  exactKeys(o, ['bytes', 'maxBytes']);
  return { bytes: int(o, 'bytes', 0, Number.MAX_SAFE_INTEGER), maxBytes: int(o, 'maxBytes', 0, Number.MAX_SAFE_INTEGER) };
}

export function decodeListBackup(v: unknown): BackupItemInfo[] {
  const o = record(v);
  exactKeys(o, ['items']);
  if (!Array.isArray(o.items) || o.items.length > BACKUP_MAX_ITEMS) throw new BackupAnswerError('items: not a list');
  const seen = new Set<string>();
  return o.items.map((raw: unknown) => {
    const e = record(raw);
    exactKeys(e, ['item', 'size']);
    if (typeof e.item !== 'string' || !BACKUP_ID_SHAPE.test(e.item) || seen.has(e.item)) throw new BackupAnswerError('item: not an id');
    seen.add(e.item);
    return { item: e.item, size: int(e, 'size', 1, Number.MAX_SAFE_INTEGER) };
  });
}

/** The answer to getBackupItem; `maxBytes` bounds what the caller accepts. */
export function decodeGetBackupItem(v: unknown, maxBytes: number): Uint8Array {
  const o = record(v);
  exactKeys(o, ['data']);
  if (typeof o.data !== 'string' || o.data.length > Math.ceil((maxBytes * 4) / 3) + 1) throw new BackupAnswerError('data: not a byte string');
  const bytes = fromB64(o.data);
  if (bytes === null || bytes.length === 0 || bytes.length > maxBytes) throw new BackupAnswerError('data: wrong length');
  return bytes;
}

export function decodeBackupOk(v: unknown): void {
  const o = record(v);
  exactKeys(o, ['ok']);
  if (o.ok !== true) throw new BackupAnswerError('ok: not true');
}
