/**
 * What backup and restore need from the rest of the background, as small
 * interfaces the lead wires at merge (the healing part provides rejoining;
 * the identity part the identity material; the chat store the history).
 * Unit tests fake them; integration tests use real ones or say they don't.
 */

import type { HistoryRecord } from '../linking/ports.ts';
import type { BackupSettings } from './backup-content.ts';

/** Each conversation's rejoin material (a RejoinTicket, encoded by the healing part). */
export interface RejoinSource {
  /** undefined when this conversation has none (yet): it is backed up without, and a restore says it cannot rejoin. */
  ticketFor(conversationId: string): Promise<Uint8Array | undefined>;
}

/** Rejoins one conversation from its material (ChatService.rejoin after decoding the ticket). */
export interface Rejoiner {
  rejoin(conversationId: string, ticket: Uint8Array): Promise<void>;
}

/** What goes into a backup, read from this device. */
export interface BackupInputs {
  /** The identity material a new device needs (identity key, personId, roster), encoded by the identity part. */
  identity(): Promise<Uint8Array>;
  displayName(): Promise<string>;
  settings(): Promise<BackupSettings>;
  /** The active conversations. */
  conversations(): Promise<{ id: string; name: string; names?: Record<string, string> }[]>;
  /** One conversation's kept messages, oldest first (read only when history is opted in). */
  history(conversationId: string): Promise<HistoryRecord[]>;
}

/** Where a restore puts what it read. */
export interface RestoreTargets {
  /** Adopt the identity (the identity part signs a roster that adds this device). Idempotent. */
  adoptIdentity(identity: Uint8Array): Promise<void>;
  /** Display name and settings. Idempotent. */
  importAccount(displayName: string, settings: BackupSettings): Promise<void>;
  /** Keep history records until their conversation is rejoined (HistoryPort.importPage: idempotent per record). */
  importHistory(records: HistoryRecord[]): Promise<void>;
  /** A conversation is back: store its kept history and the names the backup knew (idempotent). */
  rejoined?(conversationId: string, names: Record<string, string> | undefined): Promise<void>;
}

/** Small persisted state, sealed by its implementation (it may hold the recovery key during a restore). */
export interface Persisted<T> {
  load(): Promise<T | undefined>;
  save(value: T): Promise<void>;
  clear(): Promise<void>;
}
