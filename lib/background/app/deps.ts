/** What the background app is built from: the browser's hooks and the test seams. */
import type { Database } from '../db.ts';
import type { WebSocketConstructor } from '../relay-api.ts';
import type { RotationOptions } from '../key-rotation.ts';
import type { Argon2Params } from '../passphrase.ts';
import type { UnlockedKeyStore } from '../unlocked-key.ts';
import type { NotificationAction } from '../notification-policy.ts';
import type { LinkPortsFactory } from '../linking/ports.ts';
import type { Rejoiner, RejoinSource } from '../backup/ports.ts';

/** What the browser offers the background beyond the channel (all optional, for tests). */
export interface Platform {
  setBadge?(unread: number): void;
  /** Show, update or clear a desktop notification (notification-policy.ts decides which). */
  notification?(action: NotificationAction): void;
}

export interface BackgroundDeps {
  db: Database;
  version: string;
  fetch?: typeof fetch;
  /** The WebSocket constructor (the browser's; `ws` in Node tests). Without it there is no live connection. */
  WebSocket?: WebSocketConstructor;
  /** WebAuthn RP ID to ask the relay for (the extension's id in the browser); the relay picks when absent. */
  rpId?: string;
  platform?: Platform;
  /** Test hooks: connection timings. */
  connection?: { heartbeatMs?: number; deadlineMs?: number; backoffBaseMs?: number; backoffMaxMs?: number };
  confirmTimeoutMs?: number;
  /** Test hooks: a cheaper passphrase KDF, and a way to kill a key rotation halfway. */
  passphraseKdf?: Argon2Params;
  rotation?: RotationOptions;
  /** How long an unanswered "share this page" offer waits (share-offer.ts); a test hook. */
  shareTtlMs?: number;
  /** Where the unlocked data key outlives a stopped worker (storage.session); without it every start is locked. */
  unlockedKeys?: UnlockedKeyStore;
  /** The identity and directory ports linking uses (app/linking.ts); tests pass fakes. */
  linkPorts?: LinkPortsFactory;
  /** Backup (issue #19): the quiet moment before a change is backed up (30 s by default; a test hook). */
  backupDelayMs?: number;
  /** Rejoin material and rejoining for backup and restore (the healing part's; tests may pass their own). */
  rejoin?: { source: RejoinSource; rejoiner: Rejoiner };
}
