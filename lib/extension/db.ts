/**
 * The background's IndexedDB (through idb). Versioned: each schema version has
 * one migration step, applied in order inside the upgrade transaction, so a
 * browser that skipped versions still arrives at the current schema.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { KeySlot } from './vault.ts';

export const DB_NAME = 'microchat';

export interface Settings {
  relayUrl: string;
}

export interface MicroChatDB extends DBSchema {
  settings: { key: string; value: unknown };
  /** The vault's data key (a non-extractable CryptoKey). */
  keys: { key: string; value: CryptoKey };
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

/** The vault's key slot in this database. */
export function vaultKeySlot(db: Database): KeySlot {
  return {
    load: () => db.get('keys', 'device'),
    store: async (key) => {
      await db.put('keys', key, 'device');
    },
  };
}
