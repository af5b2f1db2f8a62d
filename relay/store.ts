/**
 * What the relay keeps, behind one interface so the embedded SQLite store
 * (sqlite-store.ts) and a later Redis store are interchangeable. Every method
 * is async (Redis is), and every operation that must be atomic is ONE method
 * (a Redis implementation maps each to a MULTI or a Lua script): spending a
 * token together with storing the message it pays for, acknowledging a
 * delivery together with dropping the last copy, claiming a key package.
 *
 * Data minimisation (docs/product.md): no IPs, no timestamps except expiries, no
 * account on anything delivery-related. Queues are known only by a hash of
 * the members' opaque queue id, and opened only with the current queue
 * capability, kept as a hash (it rotates with every epoch, so a removed
 * member's one stops working); mailboxes are anonymous capabilities (id plus
 * a secret stored as a hash); secrets and session tokens only as hashes.
 */

import type { KeyPackageCounts } from '../lib/protocol/relay.ts';

export interface StoredCredential {
  /** base64url credential id, as WebAuthn reports it. */
  credentialId: string;
  accountId: string;
  /** COSE public key. */
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
}

export interface Ceremony {
  kind: 'register' | 'login';
  /** base64url challenge we issued. */
  challenge: string;
  /** For registration: the pseudonymous account id the credential will belong to. */
  accountId: string | null;
  expiresAt: number;
}

export interface TokenKey {
  keyId: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  /** Issue new tokens under this key until then (unix seconds). */
  issueUntil: number;
  /** Accept tokens of this key until then; afterwards the key and its spent set are pruned. */
  acceptUntil: number;
}

export interface StoredMessage {
  messageId: string;
  payload: Uint8Array;
  /** 'group' for queue messages, 'welcome' for messages addressed to the mailbox itself. */
  kind: 'group' | 'welcome';
}

/** What an account has in the key package directory (also an answer of the HTTP API). */
export type { KeyPackageCounts };

/** A spend to record atomically with the operation it pays for. */
export interface Spend {
  keyId: string;
  /** Hash of the token input, so the spent set holds no token material itself. */
  inputHash: string;
}

/**
 * 'stale': a queue operation presented the queue's previous capability (it
 * rotated with a Commit the caller has not processed yet); any other wrong
 * capability is 'not_found', as for an unknown queue.
 */
export type SpendResult<T> = { ok: true; value: T } | { ok: false; reason: 'spent' | 'not_found' | 'full' | 'stale' };

export interface NewMessage {
  messageId: string;
  payload: Uint8Array;
  expiresAt: number;
}

/**
 * An invite: a GroupInfo encrypted under a key that only the invite code
 * carries, published so an invitee can join by external commit while nobody
 * else is online. Known by the hash of its id; writable with a key held as a hash.
 */
export interface StoredInvite {
  writeKeyHash: string;
  ciphertext: Uint8Array;
  expiresAt: number;
  /** Deleted by the first read. */
  oneTime: boolean;
}

export interface SweepResult {
  messages: number;
  sessions: number;
  ceremonies: number;
  /** Mailboxes dropped because nobody read them for the message TTL. */
  mailboxes: number;
}

/**
 * Storage bounds checked atomically with every stored message. A scope is a
 * queue (its group messages) or a mailbox (its Welcomes); what counts is
 * what is still pending (stored and not yet acknowledged by every reader).
 */
export interface StorageCaps {
  maxMessagesPerScope: number;
  maxBytesPerScope: number;
  /** Payload bytes of every stored message together. */
  maxTotalBytes: number;
}

export interface RelayStore {
  // WebAuthn ceremonies (challenge state between start and finish).
  /** Stores a ceremony; when `max` are already pending, the one that expires first is dropped to make room. */
  putCeremony(id: string, ceremony: Ceremony, max: number): Promise<void>;
  /** Returns and deletes the ceremony (single use); null if unknown or expired. */
  takeCeremony(id: string, now: number): Promise<Ceremony | null>;

  // Accounts and passkeys.
  createAccount(accountId: string, credential: StoredCredential): Promise<void>;
  getCredential(credentialId: string): Promise<StoredCredential | null>;
  updateCredentialCounter(credentialId: string, counter: number): Promise<void>;
  accountExists(accountId: string): Promise<boolean>;
  /**
   * Deletes the account with everything kept under its id: its passkey
   * credentials, its sessions and its key packages (one-time and last
   * resort), atomically. False when there was no such account.
   */
  deleteAccount(accountId: string): Promise<boolean>;

  // Sessions, by hash of the bearer token.
  putSession(tokenHash: string, accountId: string, expiresAt: number): Promise<void>;
  getSession(tokenHash: string, now: number): Promise<{ accountId: string; expiresAt: number } | null>;
  deleteSession(tokenHash: string): Promise<void>;

  // Key package directory.
  /** Adds one-time packages (and replaces the last-resort one); refuses with 'full' above the cap. */
  addKeyPackages(
    accountId: string,
    oneTime: Uint8Array[],
    lastResort: Uint8Array | undefined,
    maxOneTime: number,
  ): Promise<SpendResult<KeyPackageCounts>>;
  /** Removes and returns one one-time package, else returns (keeps) the last-resort one. */
  claimKeyPackage(accountId: string): Promise<Uint8Array | null>;
  countKeyPackages(accountId: string): Promise<KeyPackageCounts>;
  /** Registers the hash of the account's retire secret (replacing any); false once it is retired. */
  setKeyPackageRetireHash(accountId: string, hash: Uint8Array): Promise<boolean>;
  /** When `hash` is the registered one: deletes all its packages and marks it retired (again: true). */
  retireKeyPackages(accountId: string, hash: Uint8Array): Promise<boolean>;
  keyPackagesRetired(accountId: string): Promise<boolean>;

  /** Adds `amount` to a counter bucket unless that would exceed `max`; buckets expire. */
  consumeQuota(bucket: string, amount: number, max: number, expiresAt: number): Promise<boolean>;

  // Sealed-sender token keys and the spent set.
  listTokenKeys(): Promise<TokenKey[]>;
  putTokenKey(key: TokenKey): Promise<void>;
  /** Deletes the key and its whole spent set. */
  retireTokenKey(keyId: string): Promise<void>;
  /** Records a spend alone (tests, operations that need nothing else). */
  spend(spend: Spend): Promise<boolean>;

  // Mailboxes: anonymous read capabilities.
  /**
   * Creating a mailbox costs a token, spent atomically. `idleUntil`: when the
   * mailbox is dropped unless it is read before (a coarse expiry, see touchMailbox).
   */
  createMailbox(spend: Spend, mailboxId: string, secretHash: string, idleUntil: number): Promise<SpendResult<null>>;
  getMailboxSecretHash(mailboxId: string): Promise<string | null>;
  /** The mailbox was read (fetch, subscription, ack): it lives until `idleUntil` at least. */
  touchMailbox(mailboxId: string, idleUntil: number): Promise<void>;
  deleteMailbox(mailboxId: string): Promise<boolean>;

  // Group queues, known by hash. Every queue operation presents the hash of
  // the queue capability (`capHash`); the store compares it with the queue's
  // current one in the same atomic operation (see SpendResult for 'stale').
  /** The first registration creates the queue with this capability hash. */
  /** 'full' when the queue has `maxPerQueue` mailboxes or the mailbox is on `maxPerMailbox` queues already. */
  registerMailbox(queueHash: string, capHash: string, mailboxId: string, maxPerQueue: number, maxPerMailbox: number): Promise<SpendResult<null>>;
  /** Detaches the mailbox and drops its pending deliveries of this queue (the messages only it waited for go). */
  unregisterMailbox(queueHash: string, capHash: string, mailboxId: string): Promise<SpendResult<null>>;
  /** Deletes the queue, its capability, its registrations and all its messages. */
  deleteQueue(queueHash: string, capHash: string): Promise<SpendResult<null>>;

  /**
   * Spends the token and stores one message for every mailbox registered to
   * the queue, atomically. With `rotateTo` (a Commit that starts a new epoch)
   * the queue's capability hash becomes `rotateTo` in the same operation, and
   * the one presented is kept as the previous one. Returns the mailboxes to
   * notify; 'full' (nothing spent, nothing stored) when the message would pass a cap.
   */
  postToQueue(spend: Spend, queueHash: string, capHash: string, message: NewMessage, rotateTo: string | null, caps: StorageCaps): Promise<SpendResult<string[]>>;
  /** Spends the token and stores a message (a Welcome) for one mailbox; 'full' as postToQueue. */
  postToMailbox(spend: Spend, mailboxId: string, message: NewMessage, caps: StorageCaps): Promise<SpendResult<null>>;
  /** Pending messages of a mailbox, oldest first (order per queue is preserved). */
  fetchMailbox(mailboxId: string, limit: number, now: number): Promise<StoredMessage[]>;
  /**
   * Removes the named messages from this mailbox only; a message is deleted
   * when its last mailbox acknowledges it. Unknown ids are ignored. Returns how
   * many deliveries were removed.
   */
  ack(mailboxId: string, messageIds: string[]): Promise<number>;

  // Invites, known by hash of the invite id.
  /** Stores a new invite; false when the id is taken (a deleted invite's id stays taken until its expiry). */
  putInvite(inviteHash: string, invite: StoredInvite): Promise<boolean>;
  /** Replaces the ciphertext of a live invite whose write key hash matches; false otherwise. */
  updateInvite(inviteHash: string, writeKeyHash: string, ciphertext: Uint8Array, now: number): Promise<boolean>;
  /** The ciphertext of a live invite (a one-time invite is deleted by this read), or null. */
  readInvite(inviteHash: string, now: number): Promise<Uint8Array | null>;
  /**
   * Deletes the ciphertext of a live invite whose write key hash matches, keeping a
   * tombstone (id hash and expiry, no write key) until it expires; false otherwise.
   * A one-time invite's first read leaves the same tombstone.
   */
  deleteInvite(inviteHash: string, writeKeyHash: string): Promise<boolean>;

  /** Deletes everything expired (invites included), and mailboxes idle past their `idleUntil` with what waits for them. */
  sweep(now: number): Promise<SweepResult>;
  /** Makes sure freed ciphertext is no longer in any file (WAL included). */
  scrub(): Promise<void>;
  close(): Promise<void>;
}
