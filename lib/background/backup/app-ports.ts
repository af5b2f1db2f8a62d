/**
 * The backup's ports over this device's real state (issue #19): what a backup
 * reads (BackupInputs) and where a restore puts what it read (RestoreTargets).
 *
 *   identity   the identity part's link bundle (identity key, personId,
 *              roster) as JSON text, the same bundle linking hands a new
 *              device; adopting it on the restored device signs a new roster
 *              that adds this device's own key (a NEW device of the person)
 *   account    display name and the settings that follow the person
 *   history    the stored messages of a conversation (when opted in); on
 *              restore they wait in the linked-history stash until the
 *              conversation is rejoined, as a linked device's do
 */
import type { Settings } from '../../protocol/channel.ts';
import { ChatStore } from '../chat-store.ts';
import type { Database } from '../db.ts';
import { thisDeviceName } from '../identity/device-name.ts';
import type { OwnIdentity } from '../identity/own-identity.ts';
import { conversationHistory, storedHistoryPort } from '../linking/history-port.ts';
import type { Vault } from '../vault.ts';
import type { BackupSettings } from './backup-content.ts';
import type { BackupInputs, RestoreTargets } from './ports.ts';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** A backup whose identity material does not read (it authenticated, so it is ours but from a version we cannot use). */
export class BackupIdentityError extends Error {
  override readonly name = 'BackupIdentityError';
}

export function backupSettingsOf(s: Settings): BackupSettings {
  return { notifications: s.notifications, notificationContent: s.notificationContent, readReceipts: s.readReceipts, backupHistory: s.backupHistory === true };
}

export interface BackupSources {
  own(): OwnIdentity;
  displayName(): string;
  settings(): Settings;
  /** The conversations this device is in now (active ones only: the others cannot be rejoined), with the names members announced. */
  conversations(): { id: string; name: string; names?: Record<string, string> }[];
  store: ChatStore;
}

export function appBackupInputs(s: BackupSources): BackupInputs {
  return {
    identity: async () => enc.encode(JSON.stringify(s.own().exportForLink())),
    displayName: async () => s.displayName(),
    settings: async () => backupSettingsOf(s.settings()),
    conversations: async () => s.conversations(),
    history: (conversationId) => conversationHistory(s.store, conversationId),
  };
}

export interface RestoreSinks {
  db: Database;
  vault: Vault;
  own(): OwnIdentity;
  setDisplayName(name: string): Promise<unknown>;
  setSettings(settings: BackupSettings): Promise<void>;
  /** A conversation is back by resync: its kept history and the names from the backup go into it. */
  settle(conversationId: string, names: Record<string, string> | undefined): Promise<void>;
  deviceName?: string;
  now?: () => number;
}

export function appRestoreTargets(s: RestoreSinks): RestoreTargets {
  const stash = storedHistoryPort(s.db, s.vault, new ChatStore(s.db, s.vault));
  return {
    async adoptIdentity(identity) {
      let bundle: unknown;
      try {
        bundle = JSON.parse(dec.decode(identity));
      } catch (cause) {
        throw new BackupIdentityError('the backup identity is not JSON', { cause });
      }
      const own = s.own();
      // Checked by the identity part (the roster must be signed by the identity key it comes with).
      await own.importFromLink(bundle);
      // This device joins the person's roster under its own new device key; the lost device stays listed
      // until one of the person's devices removes it (its leaves go at each rejoin).
      await own.signRosterWith({ deviceKey: own.deviceKey, name: s.deviceName ?? thisDeviceName(), addedAt: (s.now ?? Date.now)() });
    },
    async importAccount(displayName, settings) {
      await s.setDisplayName(displayName);
      await s.setSettings(settings);
    },
    importHistory: (records) => stash.importPage(records),
    rejoined: (conversationId, names) => s.settle(conversationId, names),
  };
}
