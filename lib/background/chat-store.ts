/**
 * Persistence of the chat: every state transition is ONE IndexedDB
 * transaction. Everything is sealed with the vault first (WebCrypto awaits
 * inside an IndexedDB transaction would let it auto-commit half-way), then
 * all records are written in a single readwrite transaction over every store
 * the transition touches. A worker killed at any moment leaves either the old
 * state or the new one: e.g. a Commit's new epoch together with the system
 * message it produced and the "seen" mark of the relay payload, or an
 * application message's advanced ratchet together with its outbox entry.
 */
import { decodeGroupState, encodeGroupState, type GroupState } from '../mls/group.ts';
import type { Database, MessageRow, OutboxRow } from './db.ts';
import type { ConversationStatus, MessageStatus } from '../protocol/channel.ts';
import type { MailboxCredentials } from './relay-api.ts';
import type { SealedRecord, Vault } from './vault.ts';
import type { ReceiptState, ReceiptsDue } from './receipts.ts';
import type { MemberProof } from './identity/person-proof.ts';
import type { Roster } from './identity/roster.ts';
import type { AddedDevice } from './device-add-plan.ts';
import type { HealBackoff } from './healing/backoff.ts';
import type { DisappearingMeta, RichRecordFields } from './rich-fields.ts';

export interface InviteRecord {
  inviteId: string;
  key: string;
  writeKey: string;
  /** The invite's Ed25519 signing key (base64url seed); records made before invites were signed lack it and are dropped. */
  signingKey?: string;
  /** Unix seconds. */
  expiresAt: number;
  oneTime: boolean;
  /** A rejoin slot (healing/rejoin-slot.ts), made at this epoch: never shown, never a code. */
  slot?: number;
}

export interface ConversationMeta extends DisappearingMeta {
  v: 1;
  id: string;
  name: string;
  status: ConversationStatus;
  /** base64url of the 32-byte relay queue id shared by the members. */
  queue: string;
  unread: number;
  lastActivity: number;
  nextSeq: number;
  memberCount: number;
  epoch: number;
  lastMessage?: { preview: string; senderName: string; fromSelf: boolean };
  invites: InviteRecord[];
  /** The open invites were revoked because a member was removed or left; cleared by the next invite made. */
  invitesRevoked?: boolean;
  /**
   * This conversation's own mailbox on the relay. One mailbox per conversation,
   * so the relay's registrations (queue → mailbox) do not link one person's
   * conversations to each other. Absent in conversations made before this
   * existed: they use the account's mailbox.
   */
  mailbox?: MailboxCredentials;
  /** When our own leaf keys last changed (our last Commit, or joining): ms since the epoch. */
  lastUpdate?: number;
  /** base64url of our leaf's credential identity: a pseudonym of this conversation only (member-names.ts). */
  pseudonym?: string;
  /** memberId → the display name that member's own profile message gave (current members only). */
  names?: Record<string, string>;
  /** Members we announced by placeholder when they joined: their first profile is shown as a change. */
  unnamed?: string[];
  /** memberId → the "joined" note we wrote under that placeholder: rewritten in place to the name once it arrives. */
  joinNotes?: Record<string, { id: string; seq: number; at: number }>;
  /**
   * base64url of the queue capability of our current epoch (queue-capability.ts);
   * while joining, the one the invite carried. Kept here so leaving and
   * detaching can still present it once the group state is gone.
   */
  cap?: string;
  /**
   * The other members' mailbox ids for this conversation, by leaf index, as
   * each announced its own inside the group (app message 'mailbox'); the
   * remover of a member unregisters theirs.
   */
  memberMailboxes?: Record<string, string>;
  /** List placement, this device only (list-placement.ts): when pinned (ms since the epoch), and archived. */
  pinnedAt?: number;
  archived?: boolean;
  /** Notifications are muted until then (ms since the epoch; mute.ts); sealed like the rest, so the device alone knows. */
  mutedUntil?: number;
  /** "Read up to": the seq of the newest message when the person last read this conversation. */
  readSeq?: number;
  /** Receipts for other members' texts not sent yet (receipts.ts), kept with the message that made them due. */
  receiptsDue?: ReceiptsDue;
  /** The conversation was ended for everyone, by this member ("You" when we did). */
  endedBy?: string;
  /** Whether the roles let us invite, as of the last epoch we saw (absent: not known yet, offer it). */
  canInvite?: boolean;
  /**
   * Welcomes of our confirmed Add Commits not posted yet (the relay was out
   * of reach): each device's Welcome mailbox and the envelope (base64url),
   * posted when the relay is back (device-adds.ts).
   */
  pendingWelcomes?: { mailboxId: string; payload: string }[];
  /** memberId → what that member's `person` message proved (identity/member-proofs.ts); current members only. */
  proofs?: Record<string, MemberProof>;
  /** base64url identity key → the newest valid roster seen in this conversation. */
  rosters?: Record<string, Roster>;
  /** The conversation of only our own devices (device-sync.ts): never in the list. */
  selfSync?: true;
  /** In the self conversation: the relay accounts of our devices this device added to it (each is added once). */
  selfDevices?: string[];
  /** Devices this device added by address, so that an add repeated after a crash adds none twice (device-add-plan.ts). */
  addedDevices?: AddedDevice[];
  /** base64url of our RejoinTicket for the newest rejoin slot we know (healing/rejoin-ticket.ts): kept apart from the group state so a damaged state can still heal. */
  rejoinTicket?: string;
  /** Our resync is under way (healing/rejoin.ts): 'heal' keeps the conversation if it loses, 'restore' had nothing to keep. */
  rejoining?: 'heal' | 'restore';
  /** The healer's wait after failed rejoins (healing/backoff.ts), kept so a restart does not start over. */
  healBackoff?: HealBackoff;
}

export interface MessageRecord extends RichRecordFields {
  id: string;
  conversationId: string;
  seq: number;
  kind: 'text' | 'system';
  text: string;
  sender: { memberId: string; displayName: string; self: boolean; tag?: string };
  sentAt: number;
  status: MessageStatus;
  error?: string;
  /** Our own texts: who they were sent to and who acknowledged them (receipts.ts). */
  receipts?: ReceiptState;
}

/** A Commit of ours (or our external join) sent but not yet seen back from the relay in queue order. */
export interface PendingCommit {
  /** base64url SHA-256 of the Commit's bytes as posted. */
  hash: string;
  baseEpoch: number;
  state: GroupState;
  /** The Commit as posted, so a restarted worker can post it again (epoch-sync.ts `repostRestored`); absent in older records. */
  payload?: Uint8Array;
}

export interface OutboxEntry {
  messageId: string;
  conversationId: string;
  createdAt: number;
  failed?: boolean;
  payload: Uint8Array;
  queue: Uint8Array;
  /** The queue capability of the epoch the payload was encrypted in (a stale one means it can no longer be read). */
  cap?: Uint8Array;
  /** The encoded app message, so it can be encrypted again in a newer epoch when the relay finds `cap` stale. */
  app?: Uint8Array;
}

export interface Transition {
  metas?: ConversationMeta[];
  groups?: { id: string; state: GroupState | null }[];
  pending?: { id: string; value: PendingCommit | null }[];
  messages?: MessageRecord[];
  outboxPut?: OutboxEntry[];
  outboxDelete?: string[];
  seen?: string[];
  /** Remove the conversation and everything under it. */
  deleteConversation?: string;
  /** Remove these messages' records (disappearing messages, disappearing.ts): deleted, not hidden. */
  deleteMessages?: { conversationId: string; seq: number }[];
}

const msgSlot = (conversationId: string, seq: number): string => `${conversationId}/${seq}`;
const PENDING_SUFFIX = '#pending';
const pendingKey = (id: string): string => `${id}${PENDING_SUFFIX}`;

/** The chat store as opening the chat reads it (`loadAtOpen`). */
export interface StoredChat {
  metas: ConversationMeta[];
  /** Conversations with a pending Commit in the store (read or not). */
  pendingIds: ReadonlySet<string>;
}
/** Every chunk of one file (keys [conversationId, fileId, index]; an array sorts after every number). */
export const fileRange = (conversationId: string, fileId: string): IDBKeyRange => IDBKeyRange.bound([conversationId, fileId], [conversationId, fileId, []]);

export class ChatStore {
  constructor(
    private readonly db: Database,
    private readonly vault: Vault,
  ) {}

  /** Sealed and written while the data key cannot rotate (a rotation waits for it, see vault.ts). */
  apply(t: Transition): Promise<void> {
    return this.vault.writing(() => this.write(t));
  }

  private async write(t: Transition): Promise<void> {
    const v = this.vault;
    // 1. Seal everything (async crypto) before the transaction exists.
    const [metas, groups, pending, messages, outbox] = await Promise.all([
      Promise.all((t.metas ?? []).map(async (m) => [m.id, await v.sealJson('conversations', m.id, m)] as const)),
      Promise.all(
        (t.groups ?? []).map(async (g) => [g.id, g.state === null ? null : await v.seal('groups', g.id, encodeGroupState(g.state))] as const),
      ),
      Promise.all(
        (t.pending ?? []).map(async (p) => {
          if (p.value === null) return [pendingKey(p.id), null] as const;
          const { bytes, commitLength } = pendingBytes(p.value);
          const sealed = await v.seal('groups', pendingKey(p.id), bytes);
          return [pendingKey(p.id), { ...sealed, hash: p.value.hash, baseEpoch: p.value.baseEpoch, ...commitLength }] as const;
        }),
      ),
      Promise.all(
        (t.messages ?? []).map(async (m) => ({
          conversationId: m.conversationId,
          seq: m.seq,
          messageId: m.id,
          sealed: await v.sealJson('messages', msgSlot(m.conversationId, m.seq), m),
          ...(m.attachment?.fileId === undefined ? {} : { fileId: m.attachment.fileId }),
        })),
      ),
      Promise.all(
        (t.outboxPut ?? []).map(
          async (o): Promise<OutboxRow> => ({
            messageId: o.messageId,
            conversationId: o.conversationId,
            createdAt: o.createdAt,
            ...(o.failed === true ? { failed: true } : {}),
            sealed: await v.seal('outbox', o.messageId, encodeOutbox(o)),
          }),
        ),
      ),
    ]);

    // 2. One transaction for all of it.
    const tx = this.db.transaction(['conversations', 'groups', 'messages', 'outbox', 'seen', 'files'], 'readwrite');
    // A message's file goes when the message goes, or loses it (a delete for everyone): read before the write, in the same transaction.
    const dropFileOf = (conversationId: string, seq: number, keep?: string): Promise<unknown> =>
      tx
        .objectStore('messages')
        .get([conversationId, seq])
        .then((old) => (old?.fileId === undefined || old.fileId === keep ? undefined : tx.objectStore('files').delete(fileRange(conversationId, old.fileId))));
    const ops: Promise<unknown>[] = [];
    try {
      const del = t.deleteConversation;
      if (del !== undefined) {
        ops.push(tx.objectStore('conversations').delete(del));
        ops.push(tx.objectStore('groups').delete(del));
        ops.push(tx.objectStore('groups').delete(pendingKey(del)));
        ops.push(tx.objectStore('messages').delete(IDBKeyRange.bound([del, 0], [del, Number.MAX_SAFE_INTEGER])));
        ops.push(tx.objectStore('files').delete(IDBKeyRange.bound([del], [del, []])));
        ops.push(
          tx
            .objectStore('outbox')
            .index('byConversation')
            .getAllKeys(del)
            .then((keys) => Promise.all(keys.map((k) => tx.objectStore('outbox').delete(k)))),
        );
      }
      for (const [id, s] of metas) ops.push(tx.objectStore('conversations').put(s, id));
      for (const [id, s] of groups) ops.push(s === null ? tx.objectStore('groups').delete(id) : tx.objectStore('groups').put(s, id));
      for (const [key, s] of pending) ops.push(s === null ? tx.objectStore('groups').delete(key) : tx.objectStore('groups').put(s as SealedRecord, key));
      for (const row of messages) ops.push(dropFileOf(row.conversationId, row.seq, row.fileId), tx.objectStore('messages').put(row));
      for (const m of t.deleteMessages ?? []) ops.push(dropFileOf(m.conversationId, m.seq), tx.objectStore('messages').delete([m.conversationId, m.seq]));
      for (const row of outbox) ops.push(tx.objectStore('outbox').put(row));
      for (const id of t.outboxDelete ?? []) ops.push(tx.objectStore('outbox').delete(id));
      const at = Date.now();
      for (const h of t.seen ?? []) ops.push(tx.objectStore('seen').put({ at }, h));
      await Promise.all([...ops, tx.done]);
    } catch (err) {
      // A request that failed (or threw synchronously) must take the whole transition with it.
      // The abort rejects every request still open; `err` below is the one failure that counts.
      for (const op of ops) op.catch(() => undefined);
      tx.done.catch(() => undefined);
      try {
        tx.abort();
      } catch {
        // already aborted or finished
      }
      throw err;
    }
  }

  async loadMetas(): Promise<ConversationMeta[]> {
    const tx = this.db.transaction('conversations');
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
    // A record that does not open (damaged, or sealed under a key that is gone) is left out, as it always was unreadable.
    const out = await Promise.all(keys.map((k, i) => this.vault.openJson<ConversationMeta>('conversations', k, values[i]).catch(() => null)));
    return out.filter((m): m is ConversationMeta => m !== null && m.v === 1);
  }

  /**
   * What opening the chat reads, in two transactions at once: every conversation's metadata, and which of them
   * have a pending Commit (keys only; most have none, and those that do are read with `loadPendings`).
   */
  async loadAtOpen(): Promise<StoredChat> {
    const [metas, keys] = await Promise.all([this.loadMetas(), this.db.getAllKeys('groups')]);
    const pendingIds = new Set(keys.filter((k) => k.endsWith(PENDING_SUFFIX)).map((k) => k.slice(0, -PENDING_SUFFIX.length)));
    return { metas, pendingIds };
  }

  async loadGroup(id: string): Promise<GroupState | undefined> {
    const sealed = await this.db.get('groups', id);
    if (sealed === undefined) return undefined;
    return decodeGroupState(await this.vault.open('groups', id, sealed));
  }

  async loadPending(id: string): Promise<PendingCommit | undefined> {
    const row = (await this.db.get('groups', pendingKey(id))) as PendingRow | undefined;
    if (row === undefined || typeof row.hash !== 'string' || typeof row.baseEpoch !== 'number') return undefined;
    return pendingFrom(row.hash, row.baseEpoch, row.commitLength, await this.vault.open('groups', pendingKey(id), row));
  }

  /**
   * The pending Commits of these conversations (those that have one, and that open), read in one
   * transaction: the keys first, then only the records that exist. Waking reads this for every
   * conversation, and most have none.
   */
  async loadPendings(ids: readonly string[]): Promise<Map<string, PendingCommit>> {
    const tx = this.db.transaction('groups');
    const keys = new Set(await tx.store.getAllKeys());
    const wanted = ids.filter((id) => keys.has(pendingKey(id)));
    const rows = await Promise.all(wanted.map((id) => tx.store.get(pendingKey(id)) as Promise<PendingRow | undefined>));
    await tx.done;
    const out = new Map<string, PendingCommit>();
    await Promise.all(
      wanted.map(async (id, i) => {
        const row = rows[i];
        if (row === undefined || typeof row.hash !== 'string' || typeof row.baseEpoch !== 'number') return;
        try {
          out.set(id, pendingFrom(row.hash, row.baseEpoch, row.commitLength, await this.vault.open('groups', pendingKey(id), row)));
        } catch {
          // unreadable: as if there were none (the conversation carries on from its current epoch)
        }
      }),
    );
    return out;
  }

  async isSeen(hash: string): Promise<boolean> {
    return (await this.db.getKey('seen', hash)) !== undefined;
  }

  async message(conversationId: string, messageId: string): Promise<MessageRecord | undefined> {
    const row = await this.db.getFromIndex('messages', 'byMessageId', [conversationId, messageId]);
    return row === undefined ? undefined : this.vault.openJson<MessageRecord>('messages', msgSlot(row.conversationId, row.seq), row.sealed);
  }

  /** Up to `limit` messages before `beforeSeq` (newest last), and whether older ones remain. */
  async page(conversationId: string, beforeSeq: number | null, limit: number): Promise<{ messages: MessageRecord[]; more: boolean }> {
    const upper = beforeSeq ?? Number.MAX_SAFE_INTEGER;
    const range = IDBKeyRange.bound([conversationId, 0], [conversationId, upper], false, true);
    // Three requests, not one per row: a key cursor from the newest end skips `limit` keys to the
    // first row left out (if any), then one getAll reads the page itself, oldest first.
    const tx = this.db.transaction('messages');
    let taken: MessageRow[] = [];
    let more = false;
    if (limit > 0) {
      const newest = await tx.store.openKeyCursor(range, 'prev');
      const beyond = newest === null ? null : await newest.advance(limit);
      more = beyond !== null;
      const pageRange = beyond === null ? range : IDBKeyRange.bound(beyond.primaryKey, [conversationId, upper], true, true);
      taken = newest === null ? [] : await tx.store.getAll(pageRange);
    } else {
      more = (await tx.store.count(range)) > 0;
    }
    await tx.done;
    const messages = await Promise.all(
      taken.map((r) => this.vault.openJson<MessageRecord>('messages', msgSlot(r.conversationId, r.seq), r.sealed)),
    );
    return { messages, more };
  }

  /** Every message of a conversation that opens, oldest first (the search index is built from them, search-index.ts). */
  async history(conversationId: string): Promise<MessageRecord[]> {
    const rows = await this.db.getAll('messages', IDBKeyRange.bound([conversationId, 0], [conversationId, Number.MAX_SAFE_INTEGER]));
    const out = await Promise.all(
      rows.map((r) => this.vault.openJson<MessageRecord>('messages', msgSlot(r.conversationId, r.seq), r.sealed).catch(() => null)),
    );
    return out.filter((m): m is MessageRecord => m !== null);
  }

  async outbox(): Promise<OutboxEntry[]> {
    const rows = await this.db.getAll('outbox');
    rows.sort((a, b) => a.createdAt - b.createdAt);
    const out: OutboxEntry[] = [];
    for (const r of rows) {
      try {
        const bytes = await this.vault.open('outbox', r.messageId, r.sealed);
        out.push({ ...decodeOutbox(bytes), messageId: r.messageId, conversationId: r.conversationId, createdAt: r.createdAt, ...(r.failed === true ? { failed: true } : {}) });
      } catch {
        // unreadable: leave it; it cannot be sent
      }
    }
    return out;
  }

  /** Drop "seen" marks older than the relay could still deliver (its message TTL, with margin). */
  async pruneSeen(olderThanMs: number): Promise<void> {
    const tx = this.db.transaction('seen', 'readwrite');
    let cursor = await tx.store.openCursor();
    while (cursor !== null) {
      if (cursor.value.at < olderThanMs) await cursor.delete();
      cursor = await cursor.continue();
    }
    await tx.done;
  }
}

/**
 * queue (32) || CAP_MARK || cap (32) || payload length (u32) || payload || app,
 * or queue (32) || payload for entries written before capabilities (an
 * MLSMessage starts with its version, 0x0001, so its first byte is never CAP_MARK).
 */
const CAP_MARK = 0xca;

function encodeOutbox(o: OutboxEntry): Uint8Array {
  if (o.cap === undefined) {
    const out = new Uint8Array(32 + o.payload.length);
    out.set(o.queue);
    out.set(o.payload, 32);
    return out;
  }
  const app = o.app ?? new Uint8Array(0);
  const out = new Uint8Array(69 + o.payload.length + app.length);
  out.set(o.queue);
  out[32] = CAP_MARK;
  out.set(o.cap, 33);
  new DataView(out.buffer).setUint32(65, o.payload.length);
  out.set(o.payload, 69);
  out.set(app, 69 + o.payload.length);
  return out;
}

function decodeOutbox(b: Uint8Array): { queue: Uint8Array; payload: Uint8Array; cap?: Uint8Array; app?: Uint8Array } {
  if (b[32] !== CAP_MARK) return { queue: b.slice(0, 32), payload: b.slice(32) };
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(65);
  const app = b.slice(69 + n);
  return { queue: b.slice(0, 32), cap: b.slice(33, 65), payload: b.slice(69, 69 + n), ...(app.length > 0 ? { app } : {}) };
}

/** A pending Commit's row: its state (and, since `commitLength`, the Commit before it) sealed; hash and epoch beside. */
type PendingRow = SealedRecord & { hash?: unknown; baseEpoch?: unknown; commitLength?: unknown };

/** The sealed bytes of a pending Commit: the Commit as posted, then the group state it leads to. */
function pendingBytes(p: PendingCommit): { bytes: Uint8Array; commitLength: { commitLength?: number } } {
  const state = encodeGroupState(p.state);
  if (p.payload === undefined) return { bytes: state, commitLength: {} };
  const bytes = new Uint8Array(p.payload.length + state.length);
  bytes.set(p.payload);
  bytes.set(state, p.payload.length);
  return { bytes, commitLength: { commitLength: p.payload.length } };
}

function pendingFrom(hash: string, baseEpoch: number, commitLength: unknown, bytes: Uint8Array): PendingCommit {
  // Older records hold the state alone.
  if (typeof commitLength !== 'number' || !Number.isInteger(commitLength) || commitLength < 0 || commitLength > bytes.length) {
    return { hash, baseEpoch, state: decodeGroupState(bytes) };
  }
  return { hash, baseEpoch, state: decodeGroupState(bytes.subarray(commitLength)), payload: bytes.slice(0, commitLength) };
}
