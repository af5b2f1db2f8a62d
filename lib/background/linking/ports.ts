/**
 * What linking needs from the rest of the background, as small interfaces
 * (ports), so the flow is written and tested before the identity and
 * directory parts of #18 land, and plugs into them without change:
 *
 *   IdentityPort   identity part  (identity key, personId, roster)
 *   DirectoryPort  directory part (this device's address, addDevices)
 *   AccountPort    this part, over the existing background (account-port.ts)
 *   HistoryPort    this part (history-port.ts); fakes in tests
 */
import type { NotificationContent } from '../../protocol/channel.ts';
import type { AccountRecord } from '../account.ts';
import type { Database } from '../db.ts';
import type { RelayApi } from '../relay-api.ts';
import type { Vault } from '../vault.ts';

/**
 * How others reach a device without a link: its relay account (KeyPackage
 * directory entry) and its Welcome mailbox. Structurally the same as
 * `DeviceAddress` in lib/background/device-address.ts (directory part).
 */
export interface LinkDeviceAddress {
  accountId: string;
  welcomeMailboxId: string;
}

/** The new device as it introduces itself over the secure channel. */
export interface NewDevice {
  /** Its Ed25519 device key (public, 32 bytes). */
  deviceKey: Uint8Array;
  /** "Firefox on Linux". */
  name: string;
  address: LinkDeviceAddress;
}

export interface IdentityPort {
  /** New device: the public half of its own device key (made if it has none yet). */
  deviceKey(): Promise<Uint8Array>;
  /** Existing device: the identity material to hand over (identity key pair and personId), as opaque bytes. */
  exportForLink(): Promise<Uint8Array>;
  /**
   * Existing device: a new roster version that includes `device`, signed by
   * the identity key and kept as ours; returns its encoding for the new device.
   */
  signRosterWith(device: NewDevice): Promise<Uint8Array>;
  /**
   * New device: adopt the identity and the roster (both checked: the roster
   * must be signed by that identity and list this device's key). Throws when
   * they do not hold; nothing is kept then.
   */
  importFromLink(identity: Uint8Array, roster: Uint8Array): Promise<void>;
}

export interface DirectoryPort {
  /** New device: its address, with its KeyPackages uploaded and its Welcome mailbox open. */
  ownAddress(): Promise<LinkDeviceAddress>;
  /** Existing device: Add `devices` to the conversation (one Commit + Welcome), respecting its roles. */
  addDevices(conversationId: string, devices: LinkDeviceAddress[]): Promise<void>;
}

/** The settings that follow a person to a new device (the lock and the relay stay per device). */
export interface LinkedSettings {
  notifications: boolean;
  notificationContent: NotificationContent;
  readReceipts: boolean;
}

export interface LinkedConversation {
  id: string;
  name: string;
}

export interface AccountHandover {
  displayName: string;
  settings: LinkedSettings;
  conversations: LinkedConversation[];
}

export interface AccountPort {
  /** Existing device: what the new one takes over. */
  exportAccount(): Promise<AccountHandover>;
  /** New device: take it over (display name, settings; the conversation list waits for the Welcomes). */
  importAccount(account: AccountHandover): Promise<void>;
}

/** One stored message as it travels to the new device. */
export interface HistoryRecord {
  conversationId: string;
  id: string;
  kind: 'text' | 'system';
  text: string;
  sender: { displayName: string; self: boolean };
  sentAt: number;
}

export interface HistoryPort {
  /** Existing device: how many records `pages` will yield. */
  count(): Promise<number>;
  /** Existing device: every record, oldest first per conversation, in pages. */
  pages(pageSize: number): AsyncIterable<HistoryRecord[]>;
  /** New device: keep a page (idempotent per record id). */
  importPage(records: HistoryRecord[]): Promise<void>;
}

/** The ports the identity and directory parts provide to the background app (app/linking.ts). */
export interface LinkPorts {
  identity: IdentityPort;
  directory: DirectoryPort;
  /** Message history to hand over and to keep; default: this device's stored messages (history-port.ts). */
  history?: HistoryPort;
}

/** What a ports factory gets: the session open now. */
export interface LinkPortsContext {
  db: Database;
  vault: Vault;
  account: AccountRecord;
  api: RelayApi;
}

/** Builds the ports for the open session; undefined while the parts that provide them are missing. */
export type LinkPortsFactory = (session: LinkPortsContext) => LinkPorts | undefined;
