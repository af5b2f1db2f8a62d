/**
 * The background's IndexedDB (through idb). Versioned: each schema version has
 * one migration step, applied in order inside the upgrade transaction, so a
 * browser that skipped versions still arrives at the current schema.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { KeySlot, SealedRecord } from './vault.ts';
import type { LockTimeout } from '../protocol/channel.ts';
import type { NotificationContent } from '../protocol/channel.ts';

export const DB_NAME = 'microchat';

export interface Settings {
  relayUrl: string;
  notifications: boolean;
  lockTimeout: LockTimeout;
  notificationContent: NotificationContent;
  readReceipts: boolean;
  /** Message history goes into the encrypted backup (issue #19); off unless the person opts in. */
  backupHistory: boolean;
}

/** A stored message: its place in the conversation in the clear (for paging), everything else sealed. */
export interface MessageRow {
  conversationId: string;
  seq: number;
  messageId: string;
  sealed: SealedRecord;
  /** The message's file in `files` (a random id, attachment-record.ts), so deleting the message deletes it in the same transaction. */
  fileId?: string;
}

/** One chunk of a file on this device (a downloaded or sent attachment), sealed. */
export interface FileRow {
  conversationId: string;
  fileId: string;
  index: number;
  sealed: SealedRecord;
}

/** An encrypted MLS message waiting to be posted (already persisted with the state that made it). */
export interface OutboxRow {
  messageId: string;
  conversationId: string;
  createdAt: number;
  /** The relay refused it; kept for a retry. */
  failed?: boolean;
  sealed: SealedRecord;
}

/** The vault slot of a file chunk (binds the sealed chunk to its place). */
export const fileSlot = (conversationId: string, fileId: string, index: number): string => `${conversationId}/${fileId}/${index}`;

export interface MicroChatDB extends DBSchema {
  settings: { key: string; value: unknown };
  /** The vault's data key (a non-extractable CryptoKey). */
  keys: { key: string; value: CryptoKey };
  /** Sealed singletons: the account (session, mailbox, display name). */
  secrets: { key: string; value: SealedRecord };
  /** Unspent sealed-sender tokens, one sealed record each. */
  tokens: { key: string; value: SealedRecord };
  /** Conversation metadata (sealed), keyed by conversation id. */
  conversations: { key: string; value: SealedRecord };
  /** Serialized MLS group state (sealed), keyed by conversation id. */
  groups: { key: string; value: SealedRecord };
  messages: { key: [string, number]; value: MessageRow; indexes: { byMessageId: [string, string] } };
  outbox: { key: string; value: OutboxRow; indexes: { byConversation: string } };
  /** Hashes of relay payloads already handled (duplicates and our own echoes are dropped). */
  seen: { key: string; value: { at: number } };
  /** Private parts of our published KeyPackages (sealed), keyed by base64url KeyPackageRef (key-package-store.ts). */
  keyPackages: { key: string; value: SealedRecord };
  /** Files of messages, chunk by chunk (attachment-files.ts); deleted with their message or conversation. */
  files: { key: [string, string, number]; value: FileRow };
}

export type Database = IDBPDatabase<MicroChatDB>;

type Migration = (db: Database) => void;

const MIGRATIONS: readonly Migration[] = [
  // v1: plain settings (no secrets).
  (db) => {
    db.createObjectStore('settings');
  },
  // v2: the vault's key slot.
  (db) => {
    db.createObjectStore('keys');
  },
  // v3: the chat: account, tokens, conversations, group states, messages, outbox, seen payloads.
  (db) => {
    db.createObjectStore('secrets');
    db.createObjectStore('tokens');
    db.createObjectStore('conversations');
    db.createObjectStore('groups');
    const messages = db.createObjectStore('messages', { keyPath: ['conversationId', 'seq'] });
    messages.createIndex('byMessageId', ['conversationId', 'messageId'], { unique: true });
    const outbox = db.createObjectStore('outbox', { keyPath: 'messageId' });
    outbox.createIndex('byConversation', 'conversationId');
    db.createObjectStore('seen');
  },
  // v4: the private parts of our KeyPackages in the relay's directory.
  (db) => {
    db.createObjectStore('keyPackages');
  },
  // v5: files of messages (issue #20), sealed chunk by chunk.
  (db) => {
    db.createObjectStore('files', { keyPath: ['conversationId', 'fileId', 'index'] });
  },
];

export const DB_VERSION = MIGRATIONS.length;

export function openDatabase(name = DB_NAME): Promise<Database> {
  return openDB<MicroChatDB>(name, DB_VERSION, {
    upgrade(db, oldVersion) {
      for (let v = oldVersion; v < DB_VERSION; v++) MIGRATIONS[v]!(db);
    },
  });
}

export async function loadSetting<K extends keyof Settings>(db: Database, key: K): Promise<Settings[K] | undefined> {
  return (await db.get('settings', key)) as Settings[K] | undefined;
}

export async function saveSetting<K extends keyof Settings>(db: Database, key: K, value: Settings[K]): Promise<void> {
  await db.put('settings', value, key);
}

/** The view state kept for a wake (wake-state.ts), a sealed singleton in `secrets`; never kept under the lock. */
export const WAKE_STATE_SLOT = 'wake-state';

/** The vault's key slot in this database. */
export function vaultKeySlot(db: Database): KeySlot {
  return {
    load: () => db.get('keys', 'device'),
    store: async (key) => {
      await db.put('keys', key, 'device');
    },
  };
}
