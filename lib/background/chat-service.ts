/**
 * Conversations over MLS and the relay.
 *
 * A conversation is an MLS group (id = base64url of its group_id) plus a
 * relay queue whose id the members share; every member's device mailbox is
 * registered to the queue. Everything a member sends (application messages,
 * proposals, Commits) is posted to the queue with a sealed-sender token and
 * comes back, in one total per-queue order, to every mailbox, ours included.
 *
 * Commits are confirmed by that order: our Commit's new state is kept as
 * "pending" (persisted) until the relay delivers the Commit back to us; if
 * another member's Commit for the same epoch comes first, everyone applies
 * theirs and ours is void. That keeps all members on one epoch history
 * without any server-side MLS logic. External joins work the same way.
 *
 * Sending text: the message is encrypted at once (advancing the ratchet),
 * and the new state, the message (status 'sending') and the ciphertext in the
 * outbox are written in one transaction; the outbox is flushed whenever the
 * relay is reachable. A ciphertext is never produced twice for one ratchet
 * generation.
 *
 * Receiving: duplicates (and our own echoes) are dropped by a hash of the
 * relay payload recorded in the same transaction that applied it; the relay
 * is acknowledged only after that transaction commits.
 *
 * Invites: see invite.ts. Every member re-publishes the encrypted, signed
 * GroupInfo of each new epoch under every live invite it knows of; a Commit
 * that removes someone revokes them all (invite-revocation.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { CipherSuite } from '../crypto/provider.ts';
import { getCipherSuite } from '../crypto/suites.ts';
import { ContentType, WireFormat, type MLSMessage } from '../mls/framing/framing.ts';
import {
  createCommit,
  createGroup,
  decodeMessage,
  encodeMessage,
  epochAuthenticator,
  exportGroupInfo,
  generateIdentity,
  joinByExternalCommit,
  leaveGroup,
  members,
  processMessage,
  sendApplicationMessage,
  type CommitOptions,
  type GroupState,
} from '../mls/group.ts';
import { ProposalType } from '../mls/group/proposals.ts';
import { encodeAppMessage, parseAppMessage, type AppMessage } from './app-messages.ts';
import { fromB64, randomBytes, randomId, toB64 } from '../bytes.ts';
import { place, placementOf, unarchiveOnMessage, type Placement } from './list-placement.ts';
import { ChatStore, type ConversationMeta, type MessageRecord, type OutboxEntry, type PendingCommit, type Transition } from './chat-store.ts';
import type { Database } from './db.ts';
import { formatInviteLink, inviteLinkOf, newInviteSigningKey, openInvite, parseInviteLink, sealInvite, type InviteContent } from './invite.ts';
import { membershipShrank, revokeAtRelay } from './invite-revocation.ts';
import { JOINER_NOTICE } from '../protocol/channel.ts';
import {
  ChannelError,
  ErrorCode,
  type ConversationDetail,
  type ConversationSummary,
  type InviteMode,
  type InviteView,
  type MessagePage,
  type MessageView,
} from '../protocol/channel.ts';
import { RelayApiError, type DeliveredMessage, type MailboxCredentials, type RelayApi } from './relay-api.ts';
import { keyFingerprint, memberIdOf, safetyCode } from './safety-code.ts';
import { labelMembers, labelText, newPseudonym, placeholderName, isPseudonym, type MemberLabel } from './member-names.ts';
import { capabilityHash, queueCapability } from './queue-capability.ts';
import { reencryptStale } from './outbox-refresh.ts';
import { isMuted } from './mute.ts';
import { mailboxesOfRemoved, pruneMailboxes, recordAnnouncement, removedLeaves, someoneJoined } from './member-mailboxes.ts';
import type { TokenWallet } from './tokens.ts';
import { TOKEN_KEY_PARTITION_WARNING, type TokenKeyMessage, type TokenKeyWatch } from './token-key-watch.ts';
import type { Vault } from './vault.ts';
import {
  addDue,
  applyReceipt,
  deliveryOf,
  isDueEmpty,
  MAX_READ_AT_ONCE,
  newReceiptState,
  RECEIPT_DELAY_MS,
  takeBatch,
  withoutBatch,
  type Delivery,
} from './receipts.ts';
import { adminChange, closeAllowed, creatorRoles, heirIfLastAdmin, invitePolicyChange, isAdminAt, mayInvite, requireRole, roleCapabilities, rolesView } from './conversation-roles.ts';
import { ENDED_BY_YOU, endsConversation, ownCommitRemovals, removalNote, removalsOf, removedYouNote, roleChangeNotes, type Person, type Removal } from './epoch-notes.ts';
import { bytesEqual } from '../bytes.ts';
import { credentialIdentity } from '../mls/tree/leaf-node-validation.ts';
import type { InvitePolicyView } from '../protocol/channel.ts';
import { sendTimings } from './send-timing.ts';

export const DEFAULT_SUITE = 1;
const JOIN_GIVE_UP_MS = 10 * 60_000;
/**
 * Post-compromise security needs our leaf keys to change now and then: when
 * we send and our last Commit is older than this, we also commit an update
 * (an empty Commit with a fresh path).
 */
const SELF_UPDATE_MS = 7 * 86_400_000;
const JOIN_CONFLICT = 'The conversation changed while you were joining; open the link again.';
const LOST_RACE = 'Someone else changed the conversation at the same time; try again.';
/** Longer than the relay keeps undelivered messages (30 days by default). */
const SEEN_RETENTION_MS = 45 * 86_400_000;

export interface ChatIdentity {
  displayName: string;
  /** The device mailbox of older accounts (conversations made before each had its own). */
  mailbox?: MailboxCredentials;
  relayUrl: string;
}

export interface ChatDeps {
  db: Database;
  vault: Vault;
  api: () => RelayApi;
  wallet: () => TokenWallet;
  identity: () => ChatIdentity;
  /** Conversation summaries changed (publish the view state). */
  onSummaries: () => void;
  onMessages: (conversationId: string, messages: MessageView[]) => void;
  /** A text from someone else arrived. */
  onIncoming?: (conversation: ConversationSummary, message: MessageView) => void;
  /** Acknowledge relay deliveries (after their transaction committed). */
  ack: (mailboxId: string, ids: string[]) => void;
  /** A conversation's mailbox starts or stops being listened to. */
  onMailbox?: (change: { added: MailboxCredentials } | { removed: string }) => void;
  confirmTimeoutMs?: number;
  /** Members compare their token keys (token-key-watch.ts). */
  tokenKeys?: TokenKeyWatch;
  /** Whether read receipts are on (sent and counted); default on. Delivery receipts always go. */
  readReceipts?: () => boolean;
}

const hashOf = (payload: Uint8Array): string => toB64(sha256(payload));
const nowS = (): number => Math.floor(Date.now() / 1000);

/** memberId → label of every member (names from the conversation's profiles; ours is our display name). */
function memberLabels(state: GroupState, names: Readonly<Record<string, string>> | undefined, selfName: string): Map<string, MemberLabel> {
  const list = members(state).map((m) => ({ memberId: memberIdOf(m.leaf.signatureKey), leaf: m.leaf, self: m.leafIndex === state.ownLeaf }));
  return labelMembers(list, names ?? {}, selfName);
}

function memberIdAt(state: GroupState, leaf: number): string {
  const l = leaf < 0 ? undefined : state.tree.leaf(leaf as never);
  return l === undefined ? '' : memberIdOf(l.signatureKey);
}

function ownMemberId(state: GroupState): string {
  const leaf = state.tree.leaf(state.ownLeaf);
  return leaf === undefined ? '' : memberIdOf(leaf.signatureKey);
}

/** Group id, epoch and content type from a framed message's clear header. */
function headerOf(msg: MLSMessage): { groupId: Uint8Array; epoch: bigint; contentType: number } | null {
  if (msg.wireFormat === WireFormat.privateMessage) return msg.privateMessage;
  if (msg.wireFormat === WireFormat.publicMessage) return msg.publicMessage.content;
  return null;
}

function toView(m: MessageRecord): MessageView {
  return {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    kind: m.kind,
    text: m.text,
    sender: { ...m.sender },
    sentAt: m.sentAt,
    status: m.status,
    ...(m.error === undefined ? {} : { error: m.error }),
    ...delivery(m),
  };
}

function delivery(m: MessageRecord): { delivery?: Delivery } {
  const d = m.status === 'failed' ? undefined : deliveryOf(m.receipts);
  return d === undefined ? {} : { delivery: d };
}

function preview(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? one.slice(0, 79) + '…' : one;
}

function relayProblem(err: unknown, what: string): ChannelError {
  if (err instanceof ChannelError) return err;
  if (err instanceof RelayApiError) {
    if (err.unreachable) return new ChannelError(ErrorCode.Unavailable, `You are offline: ${what} needs the relay.`, { cause: err });
    return new ChannelError(ErrorCode.Unavailable, `The relay refused: ${err.message}`, { cause: err });
  }
  return new ChannelError(ErrorCode.Internal, `Could not ${what}.`, { cause: err });
}

/** The relay refused because the queue capability rotated: a Commit we have not processed came first. */
function isStale(err: unknown): boolean {
  return err instanceof RelayApiError && err.code === 'stale_capability';
}

const capOf = (meta: ConversationMeta): Uint8Array | undefined => (meta.cap === undefined ? undefined : (fromB64(meta.cap) ?? undefined));

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class ChatService {
  private readonly store: ChatStore;
  private readonly metas = new Map<string, ConversationMeta>();
  private readonly groups = new Map<string, GroupState>();
  private readonly pending = new Map<string, PendingCommit>();
  private readonly waiters = new Map<string, Waiter[]>();
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private readonly suite: CipherSuite;

  private constructor(private readonly deps: ChatDeps) {
    this.store = new ChatStore(deps.db, deps.vault);
    this.suite = getCipherSuite(DEFAULT_SUITE);
  }

  /** Restore from IndexedDB: conversation metadata and pending commits only (group states load on demand). */
  static async open(deps: ChatDeps): Promise<ChatService> {
    const s = new ChatService(deps);
    const stale: string[] = [];
    for (const m of await s.store.loadMetas()) {
      // A join whose Commit never came back (the worker died before posting it) is given up after a while.
      if (m.status === 'joining' && Date.now() - m.lastActivity > JOIN_GIVE_UP_MS) stale.push(m.id);
      else s.metas.set(m.id, m);
    }
    for (const id of stale) await s.store.apply({ deleteConversation: id });
    // Receipts that were due when the worker stopped go out now.
    for (const m of s.metas.values()) if (!isDueEmpty(m.receiptsDue)) s.receiptsSoon(m.id);
    void s.store.pruneSeen(Date.now() - SEEN_RETENTION_MS).catch(() => undefined);
    const live = [...s.metas.values()].filter((m) => m.status === 'active' || m.status === 'joining').map((m) => m.id);
    for (const [id, p] of await s.store.loadPendings(live).catch(() => new Map<string, PendingCommit>())) s.pending.set(id, p);
    return s;
  }

  /** Run state transitions one at a time (receive, send, commit never interleave); none after close(). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => (this.closed ? Promise.reject(new ChannelError(ErrorCode.Forbidden, 'This account is signed out.')) : fn());
    const run = this.chain.then(guarded, guarded);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Signing out or deleting the account: let the state change under way finish, then refuse every other. */
  /**
   * Cancel the receipts due to go out a moment from now (they stay due in the store). A service
   * that is stopped or closed must not send from a timer: another instance (the next unlock, the
   * next worker) may own the group state by then, and a late send from this one would reuse its
   * sender generations, so the others would drop that member's next message.
   */
  cancelTimers(): void {
    for (const t of this.receiptTimers.values()) clearTimeout(t);
    this.receiptTimers.clear();
  }

  close(): Promise<void> {
    this.cancelTimers();
    return this.serial(async () => {
      this.closed = true;
    });
  }

  private async apply(t: Transition): Promise<void> {
    await this.store.apply(t);
    if (t.deleteConversation !== undefined) {
      this.metas.delete(t.deleteConversation);
      this.groups.delete(t.deleteConversation);
      this.pending.delete(t.deleteConversation);
    }
    for (const m of t.metas ?? []) this.metas.set(m.id, m);
    for (const g of t.groups ?? []) {
      if (g.state === null) this.groups.delete(g.id);
      else this.groups.set(g.id, g.state);
    }
    for (const p of t.pending ?? []) {
      if (p.value === null) this.pending.delete(p.id);
      else this.pending.set(p.id, p.value);
    }
    if (t.metas !== undefined || t.deleteConversation !== undefined) this.deps.onSummaries();
    const byConv = new Map<string, MessageView[]>();
    for (const m of t.messages ?? []) {
      const list = byConv.get(m.conversationId) ?? [];
      list.push(toView(m));
      byConv.set(m.conversationId, list);
    }
    for (const [id, list] of byConv) this.deps.onMessages(id, list);
  }

  /** Every mailbox to listen to: one per live conversation. */
  mailboxes(): MailboxCredentials[] {
    const out: MailboxCredentials[] = [];
    for (const m of this.metas.values()) if (m.mailbox !== undefined && (m.status === 'active' || m.status === 'joining')) out.push(m.mailbox);
    return out;
  }

  private mailboxOf(meta: ConversationMeta): MailboxCredentials | undefined {
    return meta.mailbox ?? this.deps.identity().mailbox;
  }

  /** A fresh anonymous mailbox (paid with a token) for one conversation. */
  private async newMailbox(): Promise<MailboxCredentials> {
    return this.deps.wallet().spend((token) => this.deps.api().createMailbox(token));
  }

  /** Stop listening for a conversation: detach its mailbox from the queue, delete it if it is its own. Best effort. */
  private detach(meta: ConversationMeta): void {
    const api = this.deps.api();
    const mb = this.mailboxOf(meta);
    const cap = capOf(meta);
    if (mb !== undefined && cap !== undefined) void api.unregisterQueue(fromB64(meta.queue)!, cap, mb.mailboxId).catch(() => undefined);
    if (meta.mailbox !== undefined) {
      const own = meta.mailbox;
      this.deps.onMailbox?.({ removed: own.mailboxId });
      void api.deleteMailbox(own).catch(() => undefined);
    }
  }

  private meta(id: string): ConversationMeta {
    const m = this.metas.get(id);
    if (m === undefined) throw new ChannelError(ErrorCode.NotFound, 'That conversation does not exist.');
    return m;
  }

  private activeMeta(id: string): ConversationMeta {
    const m = this.meta(id);
    if (m.status !== 'active') throw new ChannelError(ErrorCode.Forbidden, 'You are no longer in this conversation.');
    return m;
  }

  private async group(id: string): Promise<GroupState> {
    const cached = this.groups.get(id);
    if (cached !== undefined) return cached;
    const loaded = await this.store.loadGroup(id);
    if (loaded === undefined) throw new ChannelError(ErrorCode.Forbidden, 'You are no longer in this conversation.');
    this.groups.set(id, loaded);
    return loaded;
  }

  // -- summaries -------------------------------------------------------------

  summaries(): ConversationSummary[] {
    return [...this.metas.values()]
      .map((m) => this.summary(m))
      .sort((a, b) => b.lastActivity - a.lastActivity);
  }

  private summary(m: ConversationMeta): ConversationSummary {
    return {
      id: m.id,
      name: m.name,
      status: m.status,
      unread: m.unread,
      memberCount: m.memberCount,
      lastActivity: m.lastActivity,
      ...(m.lastMessage === undefined ? {} : { lastMessage: { ...m.lastMessage } }),
      ...placementOf(m),
      ...(isMuted(m.mutedUntil, Date.now()) ? { mutedUntil: m.mutedUntil } : {}),
      ...(m.readSeq === undefined ? {} : { readUpTo: m.readSeq }),
      ...(m.endedBy === undefined ? {} : { endedBy: m.endedBy }),
      ...(m.canInvite === undefined ? {} : { canInvite: m.canInvite }),
    };
  }

  /** Pin or archive a conversation in this person's list (list-placement.ts). */
  async place(id: string, change: Placement): Promise<void> {
    await this.serial(async () => {
      const meta = this.meta(id);
      const next = place(meta, change, Date.now());
      if (next !== meta) await this.apply({ metas: [next] });
    });
  }

  unreadTotal(): number {
    let n = 0;
    for (const m of this.metas.values()) n += m.unread;
    return n;
  }

  private systemMessage(meta: ConversationMeta, text: string, at = Date.now()): MessageRecord {
    return {
      id: randomId(),
      conversationId: meta.id,
      seq: meta.nextSeq++,
      kind: 'system',
      text,
      sender: { memberId: '', displayName: '', self: false },
      sentAt: at,
      status: 'received',
    };
  }

  // -- create, rename, details ----------------------------------------------

  async create(name: string): Promise<string> {
    const clean = name.trim();
    if (clean === '') throw new ChannelError(ErrorCode.InvalidInput, 'Give the conversation a name.');
    // A pseudonym, never the display name: a later joiner's external Commit carries our leaf to the relay.
    const pseudonym = newPseudonym();
    const identity = await generateIdentity(this.suite, pseudonym);
    // Roles in the group state (conversation-roles.ts): we are its admin.
    const state = await createGroup(this.suite, identity, { capabilities: roleCapabilities(this.suite), groupExtensions: creatorRoles(pseudonym) });
    const id = toB64(state.context.groupId);
    const queue = randomBytes(32);
    const cap = queueCapability(state);
    let mailbox: MailboxCredentials;
    try {
      mailbox = await this.newMailbox();
      await this.deps.api().registerQueue(queue, cap, mailbox);
    } catch (err) {
      throw relayProblem(err, 'creating a conversation');
    }
    this.deps.onMailbox?.({ added: mailbox });
    return this.serial(async () => {
      const meta: ConversationMeta = {
        v: 1,
        id,
        name: clean,
        status: 'active',
        queue: toB64(queue),
        mailbox,
        unread: 0,
        lastActivity: Date.now(),
        lastUpdate: Date.now(),
        nextSeq: 0,
        memberCount: 1,
        epoch: 0,
        invites: [],
        pseudonym: toB64(pseudonym),
        cap: toB64(cap),
      };
      const msg = this.systemMessage(meta, `You created “${clean}”.`);
      await this.apply({ metas: [meta], groups: [{ id, state }], messages: [msg] });
      return id;
    });
  }

  async rename(id: string, name: string): Promise<void> {
    const clean = name.trim();
    if (clean === '') throw new ChannelError(ErrorCode.InvalidInput, 'Give the conversation a name.');
    await this.sendApp(id, { v: 1, t: 'rename', id: randomId(), name: clean, at: Date.now() }, (meta, msgId) => {
      meta.name = clean;
      return { ...this.systemMessage(meta, `You renamed the conversation to “${clean}”.`), id: msgId };
    });
  }

  async detail(id: string): Promise<ConversationDetail> {
    const meta = this.meta(id);
    const summary = this.summary(meta);
    if (meta.status !== 'active') return { summary, members: [], safetyCode: '', epoch: meta.epoch };
    const state = await this.group(id);
    const self = ownMemberId(state);
    const list = members(state);
    const labels = memberLabels(state, meta.names, this.deps.identity().displayName);
    return {
      summary,
      members: list.map((m) => {
        const memberId = memberIdOf(m.leaf.signatureKey);
        const label = labels.get(memberId)!;
        return {
          memberId,
          displayName: label.displayName,
          ...(label.tag === undefined ? {} : { tag: label.tag }),
          self: memberId === self,
          fingerprint: keyFingerprint(m.leaf.signatureKey),
          admin: isAdminAt(state, m.leafIndex),
        };
      }),
      safetyCode: safetyCode(
        epochAuthenticator(state),
        state.context.treeHash,
        list.map((m) => m.leaf.signatureKey),
      ),
      epoch: Number(state.context.epoch),
      roles: rolesView(state),
    };
  }

  /** The person read the conversation to its end: move the "read up to" marker, and owe read receipts. */
  async markRead(id: string): Promise<void> {
    const due = await this.serial(async () => {
      const meta = this.meta(id);
      if (meta.unread === 0) return false;
      const next: ConversationMeta = { ...meta, unread: 0, readSeq: meta.nextSeq - 1 };
      const readIds = meta.status === 'active' && this.readReceipts() ? await this.newlyRead(meta) : [];
      if (readIds.length > 0) next.receiptsDue = addDue(meta.receiptsDue, 'read', readIds);
      await this.apply({ metas: [next] });
      return readIds.length > 0;
    });
    if (due) this.receiptsSoon(id);
  }

  /** Mute notifications until then (undefined: unmute). Unread counts go on either way. */
  async setMute(id: string, until: number | undefined): Promise<void> {
    await this.serial(async () => {
      const { mutedUntil: _, ...meta } = this.meta(id);
      await this.apply({ metas: [until === undefined ? meta : { ...meta, mutedUntil: until }] });
    });
  }

  async page(id: string, beforeSeq: number | null, limit: number): Promise<MessagePage> {
    this.meta(id);
    const { messages, more } = await this.store.page(id, beforeSeq, limit);
    const first = messages[0];
    return { messages: messages.map(toView), ...(more && first !== undefined ? { nextBeforeSeq: first.seq } : {}) };
  }

  /** The most recently active conversation we can post in. */
  mostRecentActive(): string | undefined {
    return this.summaries().find((s) => s.status === 'active')?.id;
  }

  // -- sending ---------------------------------------------------------------

  async sendText(id: string, text: string): Promise<MessageView> {
    if (text.trim() === '') throw new ChannelError(ErrorCode.InvalidInput, 'The message is empty.');
    const app: AppMessage = { v: 1, t: 'text', id: randomId(), text, at: Date.now() };
    let view: MessageView | undefined;
    await this.sendApp(id, app, (meta, msgId, self, others) => {
      const rec: MessageRecord = {
        id: msgId,
        conversationId: id,
        seq: meta.nextSeq++,
        kind: 'text',
        text,
        sender: self,
        sentAt: app.at,
        status: 'sending',
        // "Delivered" is judged against who is here now: a later joiner cannot read it anyway.
        receipts: newReceiptState(others),
      };
      meta.lastMessage = { preview: preview(text), senderName: labelText(self), fromSelf: true };
      view = toView(rec);
      return rec;
    });
    const meta = this.metas.get(id);
    if (meta !== undefined && !this.pending.has(id) && Date.now() - (meta.lastUpdate ?? 0) > SELF_UPDATE_MS) {
      void this.selfUpdate(id);
    }
    return view!;
  }

  /**
   * Encrypt one application message and persist it (state + record + outbox)
   * in one transaction, then flush the outbox. `record` may add a visible
   * message and edit the metadata copy it is given.
   */
  private async sendApp(
    id: string,
    app: AppMessage,
    record?: (meta: ConversationMeta, messageId: string, self: MessageRecord['sender'], others: string[]) => MessageRecord | undefined,
  ): Promise<void> {
    // §12.4 (V-APP-1): proposals we have seen must be committed before we send.
    if ((await this.group(id)).pendingProposals.length > 0) await this.commitPending(id);
    const queued = performance.now();
    await this.serial(async () => {
      sendTimings.add('wait', performance.now() - queued);
      const meta = { ...this.activeMeta(id) };
      const state = await this.group(id);
      const plain = encodeAppMessage(app);
      const sent = await sendTimings.time('encrypt', () => sendApplicationMessage(state, plain));
      const payload = encodeMessage(sent.message);
      const own = ownMemberId(state);
      const label = memberLabels(state, meta.names, this.deps.identity().displayName).get(own);
      const self = { memberId: own, displayName: this.deps.identity().displayName, self: true, ...(label?.tag === undefined ? {} : { tag: label.tag }) };
      const others = members(state).map((m) => memberIdOf(m.leaf.signatureKey)).filter((m) => m !== own);
      const rec = record?.(meta, app.id, self, others);
      // A receipt is bookkeeping, not activity: it must not move the conversation up the list.
      if (app.t !== 'receipt') meta.lastActivity = Date.now();
      const persisting = performance.now();
      await this.apply({
        metas: [meta],
        groups: [{ id, state: sent.state }],
        ...(rec === undefined ? {} : { messages: [rec] }),
        outboxPut: [{ messageId: app.id, conversationId: id, createdAt: Date.now(), payload, queue: fromB64(meta.queue)!, cap: queueCapability(state), app: plain }],
        seen: [hashOf(payload)],
      });
      sendTimings.add('persist', performance.now() - persisting);
    });
    void this.flush();
  }

  /** Post everything waiting in the outbox, oldest first; stops at the first network failure. */
  flush(): Promise<void> {
    if (this.flushing !== undefined) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      // Each post is recorded (sent or failed) in order while the next one is on its way; every record
      // lands before the outbox is read again and before this flush ends, so nothing is posted twice.
      const recording: Promise<void>[] = [];
      try {
        do {
          this.flushAgain = false;
          const entries = (await this.store.outbox()).filter((e) => e.failed !== true);
          for (const e of entries) {
            const posted = await this.post(e);
            if (posted === false) return;
            recording.push(posted.recorded);
          }
          await Promise.all(recording.splice(0));
        } while (this.flushAgain);
      } finally {
        await Promise.all(recording);
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Send one outbox entry; false when the relay is unreachable (keep it queued), otherwise the recording of the outcome. */
  private async post(e: OutboxEntry): Promise<false | { recorded: Promise<void> }> {
    let error: string | undefined;
    try {
      const meta = this.metas.get(e.conversationId);
      const cap = e.cap ?? (meta === undefined ? undefined : capOf(meta));
      if (cap === undefined) throw new Error('no queue capability');
      await sendTimings.time('relay', () => this.deps.wallet().spend((token) => sendTimings.time('http', () => this.deps.api().send(e.queue, cap, token, e.payload))));
    } catch (err) {
      if (err instanceof RelayApiError && err.unreachable) return false;
      // Encrypted in an epoch the group has left: encrypt it again once we are in the new one.
      if (isStale(err) && e.app !== undefined) {
        void this.refreshOutbox(e.conversationId);
        return false;
      }
      if (isStale(err)) error = 'The conversation changed before this message went out; send it again.';
      else if (err instanceof RelayApiError && err.code === 'not_found') error = 'This conversation no longer exists on the relay.';
      else if (err instanceof RelayApiError) error = `The relay refused the message (${err.code}).`;
      else if (err instanceof Error && err.name === 'TokenError') return false; // no session/tokens right now: keep it queued
      else error = 'The message could not be sent.';
    }
    const posted = performance.now();
    const recorded = this.serial(async () => {
      const rec = await this.store.message(e.conversationId, e.messageId).catch(() => undefined);
      const updated: MessageRecord | undefined =
        rec === undefined ? undefined : error === undefined ? { ...rec, status: 'sent' } : { ...rec, status: 'failed', error };
      const t: Transition = { ...(updated === undefined ? {} : { messages: [updated] }) };
      if (error === undefined) t.outboxDelete = [e.messageId];
      else t.outboxPut = [{ ...e, failed: true }];
      await this.apply(t);
      sendTimings.add('status', performance.now() - posted);
    });
    return { recorded };
  }

  async retry(id: string, messageId: string): Promise<MessageView> {
    return this.serial(async () => {
      const rec = await this.store.message(id, messageId);
      if (rec === undefined) throw new ChannelError(ErrorCode.NotFound, 'That message does not exist.');
      if (rec.status !== 'failed') return toView(rec);
      const entry = (await this.store.outbox()).find((e) => e.messageId === messageId);
      if (entry === undefined) throw new ChannelError(ErrorCode.NotFound, 'That message can no longer be sent.');
      const again: MessageRecord = { ...rec, status: 'sending' };
      delete again.error;
      await this.apply({ messages: [again], outboxPut: [{ ...entry, failed: false }] });
      void Promise.resolve().then(() => this.flush());
      return toView(again);
    });
  }

  // -- commits ---------------------------------------------------------------

  private waitConfirmed(hash: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(hash);
        if (list !== undefined) this.waiters.set(hash, list.filter((w) => w.resolve !== done));
        reject(new ChannelError(ErrorCode.Unavailable, 'The change was sent but the relay has not confirmed it yet; it will apply when it does.'));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const list = this.waiters.get(hash) ?? [];
      list.push({
        resolve: done,
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.waiters.set(hash, list);
    });
  }

  private settle(hash: string, err?: Error): void {
    const list = this.waiters.get(hash) ?? [];
    this.waiters.delete(hash);
    for (const w of list) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }

  /** Create a Commit, keep its state pending, post it, and wait until the relay's order confirms it. */
  private async commit(id: string, options: CommitOptions): Promise<void> {
    const prepared = await this.serial(async () => {
      const meta = this.activeMeta(id);
      if (this.pending.has(id)) throw new ChannelError(ErrorCode.Unavailable, 'Another change to this conversation is still being confirmed.');
      const state = await this.group(id);
      const r = await createCommit(state, options);
      const payload = encodeMessage(r.commit);
      const p: PendingCommit = { hash: hashOf(payload), baseEpoch: Number(state.context.epoch), state: r.state };
      await this.apply({ pending: [{ id, value: p }] });
      const queue = fromB64(meta.queue)!;
      const revoke = membershipShrank(state, r.state) ? meta.invites : [];
      // Posted with this epoch's capability; the relay swaps in the next one as it stores the Commit.
      return { payload, hash: p.hash, queue, cap: queueCapability(state), rotateTo: capabilityHash(queue, queueCapability(r.state)), revoke };
    });
    const confirmed = this.waitConfirmed(prepared.hash, this.deps.confirmTimeoutMs ?? 20_000);
    confirmed.catch(() => undefined);
    try {
      // A removal revokes the open invites before the Commit is posted (see invite-revocation.ts).
      if (prepared.revoke.length > 0) await revokeAtRelay(this.deps.api(), prepared.revoke);
    } catch (err) {
      await this.serial(async () => {
        if (this.pending.get(id)?.hash === prepared.hash) await this.apply({ pending: [{ id, value: null }] });
      });
      this.settle(prepared.hash, relayProblem(err, 'revoking the invites'));
      throw relayProblem(err, 'revoking the invites');
    }
    try {
      await this.deps.wallet().spend((token) => this.deps.api().send(prepared.queue, prepared.cap, token, prepared.payload, prepared.rotateTo));
    } catch (err) {
      // Refused for sure: the Commit will never come back, forget it. Unreachable: it may
      // have been posted, so keep it pending (the relay's order decides when it shows up).
      // Stale: another Commit for this epoch is already in the queue; ours lost the race.
      const problem = isStale(err) ? new ChannelError(ErrorCode.Unavailable, LOST_RACE, { cause: err }) : relayProblem(err, 'changing the group');
      if (!(err instanceof RelayApiError && err.unreachable)) {
        await this.serial(async () => {
          if (this.pending.get(id)?.hash === prepared.hash) await this.apply({ pending: [{ id, value: null }] });
        });
        this.settle(prepared.hash, problem);
      }
      throw problem;
    }
    await confirmed;
  }

  /** An empty Commit with a fresh path: new leaf and path keys for us, a new epoch for all. */
  async selfUpdate(id: string): Promise<void> {
    await this.commit(id, { pending: 'all' }).catch(() => undefined);
  }

  private async commitPending(id: string): Promise<void> {
    if (this.pending.has(id)) throw new ChannelError(ErrorCode.Unavailable, 'A change to this conversation is still being confirmed; try again in a moment.');
    await this.commit(id, { pending: 'all' });
  }

  async removeMember(id: string, memberId: string): Promise<void> {
    this.activeMeta(id);
    const state = await this.group(id);
    const target = members(state).find((m) => memberIdOf(m.leaf.signatureKey) === memberId);
    if (target === undefined) throw new ChannelError(ErrorCode.NotFound, 'That person is not in this conversation.');
    if (target.leafIndex === state.ownLeaf) throw new ChannelError(ErrorCode.InvalidInput, 'To remove yourself, leave the conversation.');
    requireRole(rolesView(state).canRemove, 'Only admins can remove people from this conversation.');
    await this.commit(id, { proposals: [{ proposalType: ProposalType.remove, remove: { removed: target.leafIndex } }] });
  }

  // -- receiving -------------------------------------------------------------

  /** Handle one delivery from our mailbox (push or fetch); acknowledges it once applied. */
  async receive(mailboxId: string, m: DeliveredMessage): Promise<void> {
    await this.serial(() => this.handle(mailboxId, m)).catch((err: unknown) => {
      console.error('MicroChat: a delivery could not be handled', err instanceof Error ? err.name : typeof err);
    });
  }

  private async handle(mailboxId: string, m: DeliveredMessage): Promise<void> {
    const hash = hashOf(m.payload);
    const ack = (): void => this.deps.ack(mailboxId, [m.id]);
    for (const [id, p] of this.pending) {
      if (p.hash === hash) {
        await this.adopt(id, p);
        ack();
        return;
      }
    }
    if (await this.store.isSeen(hash)) return ack();
    const drop = async (): Promise<void> => {
      await this.apply({ seen: [hash] });
      ack();
    };
    if (m.kind !== 'group') return drop();
    let msg: MLSMessage;
    try {
      msg = decodeMessage(m.payload);
    } catch {
      return drop();
    }
    const header = headerOf(msg);
    const id = header === null ? undefined : toB64(header.groupId);
    const meta = id === undefined ? undefined : this.metas.get(id);
    if (header === null || id === undefined || meta === undefined) return drop();
    const pending = this.pending.get(id);
    if (meta.status === 'joining') {
      // Someone else's Commit at or past the epoch we tried to join: our external Commit lost.
      if (pending !== undefined && header.contentType === ContentType.commit && Number(header.epoch) >= pending.baseEpoch) {
        await this.apply({ deleteConversation: id, seen: [hash] });
        this.settle(pending.hash, new ChannelError(ErrorCode.Unavailable, JOIN_CONFLICT));
        ack();
        this.detach(meta);
        return;
      }
      return drop();
    }
    if (meta.status !== 'active') return drop();
    const state = await this.group(id);
    let processed: Awaited<ReturnType<typeof processMessage>>;
    try {
      processed = await processMessage(state, msg);
    } catch {
      return drop(); // not for our epoch, forged, or unreadable: nothing to apply
    }
    const next: ConversationMeta = { ...meta, invites: [...meta.invites] };
    const t: Transition = { seen: [hash], metas: [next], groups: [{ id, state: processed.state }] };
    const records: MessageRecord[] = [];
    let incoming: MessageRecord | undefined;
    let afterwards: (() => void) | undefined;

    if (processed.kind === 'application') {
      const app = parseAppMessage(processed.data);
      // The sender is the MLS sender's leaf, whatever the payload says.
      const senderId = memberIdAt(state, processed.sender);
      const senderLabel = memberLabels(state, meta.names, this.deps.identity().displayName).get(senderId);
      const senderName = labelText(senderLabel);
      const sender = {
        memberId: senderId,
        displayName: senderLabel?.displayName ?? 'Someone',
        self: false,
        ...(senderLabel?.tag === undefined ? {} : { tag: senderLabel.tag }),
      };
      if (app?.t === 'text') {
        incoming = {
          id: app.id,
          conversationId: id,
          seq: next.nextSeq++,
          kind: 'text',
          text: app.text,
          sender,
          sentAt: app.at,
          status: 'received',
        };
        records.push(incoming);
        // Our device has it: the sender will hear so in our next receipt (never for a receipt).
        next.receiptsDue = addDue(next.receiptsDue, 'delivered', [app.id]);
        next.unread++;
        next.lastActivity = Date.now();
        next.lastMessage = { preview: preview(app.text), senderName, fromSelf: false };
        unarchiveOnMessage(next, Date.now());
      } else if (app?.t === 'rename') {
        next.name = app.name;
        records.push(this.systemMessage(next, `${senderName} renamed the conversation to “${app.name}”.`));
        next.lastActivity = Date.now();
      } else if (app?.t === 'invite') {
        // Under the "admins" policy an invite from anyone else is not kept current by us.
        if (mayInvite(state, processed.sender) && !next.invites.some((i) => i.inviteId === app.inviteId)) {
          next.invites.push({
            inviteId: app.inviteId,
            key: app.key,
            writeKey: app.writeKey,
            signingKey: app.signingKey,
            expiresAt: app.expiresAt,
            oneTime: app.oneTime,
          });
        }
      } else if (app?.t === 'tokenkey') {
        afterwards = () => void this.onTokenKey(id, sender.memberId, app);
      } else if (app?.t === 'profile') {
        const note = learnName(next, state, senderId, app.name, this.deps.identity().displayName);
        if (note !== undefined) records.push(this.systemMessage(next, note));
        // A name we did not show yet: the summary changes, so an open members list reloads.
        if (next.names?.[senderId] !== meta.names?.[senderId]) next.lastActivity = Date.now();
      } else if (app?.t === 'mailbox') {
        const known = recordAnnouncement(next.memberMailboxes, processed.sender, app.mailboxId);
        if (known !== null) next.memberMailboxes = known;
      } else if (app?.t === 'receipt') {
        records.push(...(await this.countReceipt(id, senderId, processed.state, app)));
      } else if (app?.t === 'close' && closeAllowed(state, processed.sender)) {
        // From clients before "End for everyone" was a Commit; in a group with roles only an admin's counts.
        next.status = 'removed';
        next.endedBy = senderName;
        records.push(this.systemMessage(next, removedYouNote({ id: senderId, label: senderName }, true)));
        t.groups = [{ id, state: null }];
        next.invites = [];
        afterwards = () => this.detach(meta);
      }
    } else if (processed.kind === 'proposal') {
      // A member asked to leave (or another proposal): commit it soon, whoever is first wins.
      afterwards = () => this.commitSoon(id);
    } else {
      if (pending !== undefined) {
        // Another member's Commit took this epoch; ours is void.
        t.pending = [{ id, value: null }];
      }
      const byId = memberIdAt(state, senderIndex(processed.sender));
      const by = byId === '' ? 'Someone' : labelText(memberLabels(state, meta.names, this.deps.identity().displayName).get(byId));
      const removals = removalsOf(processed.removals);
      const ended = processed.removed && endsConversation(state, senderIndex(processed.sender), removals);
      records.push(...this.describeEpochChange(next, state, processed.state, processed.removed, { id: byId, label: by }, removals, ended));
      if (processed.removed) {
        next.status = 'removed';
        if (ended) next.endedBy = by;
        next.invites = [];
        t.groups = [{ id, state: null }]; // forward secrecy: nothing of the group stays on this device
        afterwards = () => this.detach(meta);
      } else {
        next.cap = toB64(queueCapability(processed.state));
        next.memberMailboxes = pruneMailboxes(next.memberMailboxes, removedLeaves(state, processed.state));
        // Newcomers cannot read what was said before they came: tell them where we listen, and our name.
        const joinedNow = someoneJoined(state, processed.state);
        const revoked = this.dropInvitesIfShrank(next, state, processed.state);
        afterwards = () => {
          if (revoked.length > 0) void revokeAtRelay(this.deps.api(), revoked).catch(() => undefined);
          void this.publishInvites(id);
          if (joinedNow) void this.announceMailbox(id);
          if (joinedNow) this.announceSoon(id);
          void this.refreshOutbox(id);
          if (processed.state.pendingProposals.length > 0) this.commitSoon(id);
        };
      }
    }
    if (records.length > 0) t.messages = records;
    await this.apply(t);
    ack();
    if (pending !== undefined && processed.kind === 'commit') {
      this.settle(pending.hash, new ChannelError(ErrorCode.Unavailable, LOST_RACE));
    }
    afterwards?.();
    if (incoming !== undefined) this.receiptsSoon(id);
    if (incoming !== undefined) this.deps.onIncoming?.(this.summary(next), toView(incoming));
  }

  /** System messages for what a new epoch changed, and the metadata that follows from it. */
  private describeEpochChange(
    meta: ConversationMeta,
    before: GroupState | undefined,
    after: GroupState,
    removed: boolean,
    by: { id: string; label: string },
    removals: readonly Removal[] = [],
    ended = false,
  ): MessageRecord[] {
    const out: MessageRecord[] = [];
    meta.epoch = Number(after.context.epoch);
    meta.lastActivity = Date.now();
    if (!removed) meta.canInvite = rolesView(after).canInvite;
    const selfName = this.deps.identity().displayName;
    // Who sent each Remove (epoch-notes.ts): the proposer, not always the committer.
    const actorOf = (mid: string): Person | undefined => {
      if (before === undefined) return by;
      const leaf = members(before).find((m) => memberIdOf(m.leaf.signatureKey) === mid)?.leafIndex;
      const r = removals.find((x) => x.removed === leaf);
      if (r === undefined) return removals.length === 0 ? by : undefined;
      const aid = memberIdAt(before, r.by);
      return aid === '' ? undefined : { id: aid, label: labelText(memberLabels(before, meta.names, selfName).get(aid)) };
    };
    if (removed) {
      const me = before === undefined ? undefined : ownMemberId(before);
      out.push(this.systemMessage(meta, removedYouNote(me === undefined ? by : (actorOf(me) ?? by), ended)));
      return out;
    }
    const old = before === undefined ? new Map<string, MemberLabel>() : memberLabels(before, meta.names, selfName);
    // Names of members who are gone are forgotten: the map holds current members only.
    const ids = new Set(members(after).map((m) => memberIdOf(m.leaf.signatureKey)));
    if (meta.names !== undefined) meta.names = Object.fromEntries(Object.entries(meta.names).filter(([mid]) => ids.has(mid)));
    if (meta.unnamed !== undefined) meta.unnamed = meta.unnamed.filter((mid) => ids.has(mid));
    const now = memberLabels(after, meta.names, selfName);
    meta.memberCount = now.size;
    const self = ownMemberId(after);
    for (const [mid, label] of now) {
      if (old.has(mid) || mid === self || before === undefined) continue;
      out.push(this.systemMessage(meta, `${labelText(label)} joined.`));
      const leaf = members(after).find((m) => memberIdOf(m.leaf.signatureKey) === mid)?.leaf;
      if (label.displayName === placeholderName(leaf!.signatureKey)) meta.unnamed = [...(meta.unnamed ?? []), mid];
    }
    for (const [mid, label] of old) {
      if (now.has(mid)) continue;
      out.push(this.systemMessage(meta, removalNote({ id: mid, label: labelText(label) }, actorOf(mid), self)));
    }
    if (before !== undefined) {
      const person = (identity: Uint8Array): Person | undefined => {
        const m = members(after).find((x) => bytesEqual(credentialIdentity(x.leaf.credential), identity));
        const mid = m === undefined ? undefined : memberIdOf(m.leaf.signatureKey);
        return mid === undefined ? undefined : { id: mid, label: labelText(now.get(mid)) };
      };
      for (const note of roleChangeNotes(before, after, by, person, self)) out.push(this.systemMessage(meta, note));
    }
    // An old name-identity conversation: a credential that changed under the same key is a rename, never silent.
    for (const [mid, label] of now) {
      const was = old.get(mid);
      if (was !== undefined && mid !== self && was.displayName !== label.displayName) {
        out.push(this.systemMessage(meta, `${labelText(was)} is now called ${labelText(label)}.`));
      }
    }
    return out;
  }

  /** Our own Commit came back in queue order: its state is now the group's. */
  private async adopt(id: string, p: PendingCommit): Promise<void> {
    const meta = this.metas.get(id);
    if (meta === undefined) return;
    const next: ConversationMeta = { ...meta };
    const joining = meta.status === 'joining';
    const before = joining ? undefined : await this.group(id).catch(() => undefined);
    const own = before === undefined ? [] : ownCommitRemovals(before, removedLeaves(before, p.state));
    const records = this.describeEpochChange(next, before, p.state, false, { id: ownMemberId(p.state), label: 'You' }, own);
    // Revoked at the relay before the Commit went out; again here for an invite made meanwhile (a 404 is fine).
    const revoked = before === undefined ? [] : this.dropInvitesIfShrank(next, before, p.state);
    next.lastUpdate = Date.now();
    if (joining) {
      next.status = 'active';
      records.push(this.systemMessage(next, JOINER_NOTICE));
      records.push(this.systemMessage(next, 'You joined the conversation.'));
    }
    // Our Commit removed these leaves: the relay should keep nothing for their mailboxes.
    const gone = before === undefined ? [] : removedLeaves(before, p.state);
    const unregister = mailboxesOfRemoved(meta.memberMailboxes, gone);
    next.memberMailboxes = pruneMailboxes(meta.memberMailboxes, gone);
    const cap = queueCapability(p.state);
    next.cap = toB64(cap);
    await this.apply({ metas: [next], groups: [{ id, state: p.state }], pending: [{ id, value: null }], seen: [p.hash], messages: records });
    this.settle(p.hash);
    for (const mb of unregister) void this.deps.api().unregisterQueue(fromB64(next.queue)!, cap, mb).catch(() => undefined);
    if (joining || (before !== undefined && someoneJoined(before, p.state))) void this.announceMailbox(id);
    void this.refreshOutbox(id);
    if (revoked.length > 0) void revokeAtRelay(this.deps.api(), revoked).catch(() => undefined);
    void this.publishInvites(id);
    if (p.state.pendingProposals.length > 0) this.commitSoon(id);
    if (joining) void this.announceTokenKey(id, false);
    // The others know us by a placeholder until we say our name.
    if (joining || (before !== undefined && someoneJoined(before, p.state))) this.announceSoon(id);
  }

  // -- receipts (receipts.ts) ------------------------------------------------

  private readReceipts(): boolean {
    return this.deps.readReceipts?.() ?? true;
  }

  /** Ids of the texts from others the person has just read (since the marker), newest at most MAX_READ_AT_ONCE. */
  private async newlyRead(meta: ConversationMeta): Promise<string[]> {
    const from = meta.readSeq;
    const span = from === undefined ? MAX_READ_AT_ONCE : Math.min(MAX_READ_AT_ONCE, meta.nextSeq - 1 - from);
    if (span <= 0) return [];
    const { messages } = await this.store.page(meta.id, null, span);
    const texts = messages.filter((m) => m.kind === 'text' && !m.sender.self && (from === undefined || m.seq > from));
    // No marker yet (a conversation from before it existed): the last `unread` texts are the new ones.
    return (from === undefined ? texts.slice(-meta.unread) : texts).map((m) => m.id);
  }

  /**
   * Another member's receipt: count it for each of OUR texts it names.
   * V-RCPT-4: an id that is not one of our texts (unknown, someone else's, a
   * system line) is ignored. With read receipts off, a read counts as delivered.
   */
  private async countReceipt(id: string, from: string, state: GroupState, app: Extract<AppMessage, { t: 'receipt' }>): Promise<MessageRecord[]> {
    if (from === '') return [];
    const current = new Set(members(state).map((m) => memberIdOf(m.leaf.signatureKey)));
    const readKind: Delivery = this.readReceipts() ? 'read' : 'delivered';
    const claims: [string, Delivery][] = [...app.delivered.map((m): [string, Delivery] => [m, 'delivered']), ...app.read.map((m): [string, Delivery] => [m, readKind])];
    const out: MessageRecord[] = [];
    for (const [messageId, kind] of claims) {
      const rec = await this.store.message(id, messageId).catch(() => undefined);
      if (rec === undefined || !rec.sender.self || rec.kind !== 'text' || rec.receipts === undefined) continue;
      const counted = applyReceipt(rec.receipts, from, kind, current);
      if (counted !== null) out.push({ ...rec, receipts: counted });
    }
    return out;
  }

  private readonly receiptTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly receiptRetries = new Map<string, number>();

  /** Send what is due a moment from now: whatever else arrives meanwhile goes in the same receipt. */
  private receiptsSoon(id: string, delay = RECEIPT_DELAY_MS): void {
    if (this.closed || this.receiptTimers.has(id)) return;
    this.receiptTimers.set(
      id,
      setTimeout(() => {
        this.receiptTimers.delete(id);
        this.sendReceipts(id).then(
          () => this.receiptRetries.delete(id),
          () => {
            // A Commit still being confirmed, or no tokens: try a few more times, then wait for the next message.
            const n = (this.receiptRetries.get(id) ?? 0) + 1;
            this.receiptRetries.set(id, n);
            if (n <= 5) this.receiptsSoon(id, RECEIPT_DELAY_MS * 2 ** n);
            else this.receiptRetries.delete(id);
          },
        );
      }, delay),
    );
  }

  /** One receipt message for what is due in a conversation (more follow if it does not fit). */
  private async sendReceipts(id: string): Promise<void> {
    const meta = this.metas.get(id);
    if (meta?.status !== 'active' || isDueEmpty(meta.receiptsDue)) return;
    // Read receipts turned off since they became due: say delivered only.
    const owed = (m: ConversationMeta): ConversationMeta['receiptsDue'] =>
      m.receiptsDue === undefined || this.readReceipts() ? m.receiptsDue : { delivered: [...m.receiptsDue.delivered, ...m.receiptsDue.read], read: [] };
    const batch = takeBatch(owed(meta)!);
    await this.sendApp(id, { v: 1, t: 'receipt', id: randomId(), at: Date.now(), ...batch }, (m) => {
      const rest = withoutBatch(owed(m), batch);
      if (rest === undefined) delete m.receiptsDue;
      else m.receiptsDue = rest;
      return undefined;
    });
    if (!isDueEmpty(this.metas.get(id)?.receiptsDue)) this.receiptsSoon(id);
  }

  // -- token keys (token-key-watch.ts) ----------------------------------------

  private async onTokenKey(id: string, memberId: string, app: TokenKeyMessage): Promise<void> {
    const watch = this.deps.tokenKeys;
    if (watch === undefined) return;
    const { warn, reply } = await watch.judge(id, memberId, app);
    if (warn) await this.note(id, TOKEN_KEY_PARTITION_WARNING);
    if (reply) await this.announceTokenKey(id, true);
  }

  /** Tell the members of one conversation which token key we hold (best effort). */
  private async announceTokenKey(id: string, reply: boolean): Promise<void> {
    const app = this.deps.tokenKeys?.announcement(reply);
    if (app === undefined || this.metas.get(id)?.status !== 'active') return;
    await this.sendApp(id, app).catch(() => undefined);
  }

  /** Our token key changed (a new period): tell every conversation. */
  announceTokenKeyEverywhere(): void {
    for (const m of this.metas.values()) if (m.status === 'active') void this.announceTokenKey(m.id, true);
  }

  /** A visible system message in every live conversation. */
  async warnEverywhere(text: string): Promise<void> {
    for (const m of [...this.metas.values()]) if (m.status === 'active') await this.note(m.id, text);
  }

  private async note(id: string, text: string): Promise<void> {
    await this.serial(async () => {
      const meta = this.metas.get(id);
      if (meta === undefined || meta.status !== 'active') return;
      const next: ConversationMeta = { ...meta, lastActivity: Date.now() };
      await this.apply({ metas: [next], messages: [this.systemMessage(next, text)] });
    });
  }

  /** Tell the members our display name (encrypted, bound to our leaf by MLS). Best effort. */
  private announceSoon(id: string): void {
    void this.announce(id).catch(() => undefined);
  }

  private async announce(id: string): Promise<void> {
    if (this.metas.get(id)?.status !== 'active') return;
    await this.sendApp(id, { v: 1, t: 'profile', id: randomId(), name: this.deps.identity().displayName, at: Date.now() });
  }

  /** Our display name changed: tell every conversation, and note it in each. */
  async announceName(): Promise<void> {
    const name = this.deps.identity().displayName;
    const ids = [...this.metas.values()].filter((m) => m.status === 'active').map((m) => m.id);
    await Promise.all(
      ids.map((id) =>
        this.sendApp(id, { v: 1, t: 'profile', id: randomId(), name, at: Date.now() }, (meta, msgId) => ({
          ...this.systemMessage(meta, `You are now called ${name}.`),
          id: msgId,
        })).catch(() => undefined),
      ),
    );
  }

  /** Encrypt again, in our current epoch, what waits in the outbox from an older one (outbox-refresh.ts); then send it. */
  private async refreshOutbox(id: string): Promise<void> {
    const changed = await this.serial(async () => {
      if (this.metas.get(id)?.status !== 'active') return false;
      const state = await this.group(id);
      const entries = (await this.store.outbox()).filter((e) => e.conversationId === id);
      const r = await reencryptStale(state, queueCapability(state), entries);
      if (r === null) return false;
      await this.apply({ groups: [{ id, state: r.state }], outboxPut: r.entries, seen: r.entries.map((e) => hashOf(e.payload)) });
      return true;
    }).catch(() => false);
    // After a flush under way (it may be posting the old copies): a new one then sends the new ones.
    if (changed) void (this.flushing ?? Promise.resolve()).then(() => this.flush());
  }

  /** Tell the other members, inside the group, which mailbox we listen on here (member-mailboxes.ts). */
  private async announceMailbox(id: string): Promise<void> {
    const meta = this.metas.get(id);
    if (meta?.status !== 'active') return;
    const mailboxId = this.mailboxOf(meta)?.mailboxId;
    if (mailboxId === undefined) return;
    await this.sendApp(id, { v: 1, t: 'mailbox', id: randomId(), at: Date.now(), mailboxId }).catch(() => undefined);
  }

  private commitSoon(id: string): void {
    const delay = Math.floor(Math.random() * 300);
    setTimeout(() => {
      const g = this.groups.get(id);
      if (g === undefined || g.pendingProposals.length === 0 || this.pending.has(id) || this.metas.get(id)?.status !== 'active') return;
      this.commitPending(id).catch(() => undefined);
    }, delay);
  }

  // -- invites ---------------------------------------------------------------

  async createInvite(id: string, mode: InviteMode, expiresInHours: number): Promise<{ link: string; expiresAt: number; inviteId: string }> {
    const meta = this.activeMeta(id);
    const state = await this.group(id);
    requireRole(rolesView(state).canInvite, 'Only admins can invite people to this conversation.');
    const inviteId = randomId();
    const key = randomBytes(32);
    const writeKey = randomBytes(32);
    const { signingKey, verifyKey } = newInviteSigningKey();
    // A minute short of the longest the relay allows (30 days), so clock skew cannot push it over.
    const expiresAt = nowS() + Math.min(expiresInHours * 3600, 30 * 86_400 - 60);
    const groupInfo = encodeMessage(await exportGroupInfo(state));
    const ciphertext = sealInvite(key, inviteId, { groupInfo, queue: fromB64(meta.queue)!, capability: queueCapability(state), name: meta.name }, signingKey);
    try {
      // Storing an invite costs a sealed-sender token, like a message: bounded per account, unlinkable to it.
      const oneTime = mode === 'one-time';
      await this.deps.wallet().spend((token) => this.deps.api().createInvite({ inviteId, writeKey, ciphertext, expiresAt, oneTime, token }));
    } catch (err) {
      throw relayProblem(err, 'creating an invite');
    }
    const invite = { inviteId, key: toB64(key), writeKey: toB64(writeKey), signingKey: toB64(signingKey), expiresAt, oneTime: mode === 'one-time' };
    const republish = await this.serial(async () => {
      const m = this.metas.get(id);
      if (m !== undefined) await this.apply({ metas: [{ ...m, invites: [...m.invites, invite], invitesRevoked: false }] });
      // The epoch moved on while the relay was storing the blob: publish the current GroupInfo.
      return this.groups.get(id)?.context.epoch !== state.context.epoch;
    });
    if (republish) await this.publishInvites(id);
    // Let the other members keep the invite's GroupInfo current too.
    void this.sendApp(id, { v: 1, t: 'invite', id: randomId(), at: Date.now(), ...invite }).catch(() => undefined);
    return { link: formatInviteLink({ relayUrl: this.deps.identity().relayUrl, inviteId, key, verifyKey }), expiresAt: expiresAt * 1000, inviteId };
  }

  /**
   * The conversation's invites that have not expired, newest first (the links' keys stay here),
   * and whether the earlier ones were revoked because the membership changed.
   */
  listInvites(id: string): { invites: InviteView[]; revoked: boolean } {
    const meta = this.activeMeta(id);
    const now = nowS();
    const invites = meta.invites
      .filter((i) => i.expiresAt > now && i.signingKey !== undefined)
      .map((i) => ({ inviteId: i.inviteId, mode: i.oneTime ? ('one-time' as const) : ('expiring' as const), expiresAt: i.expiresAt * 1000 }))
      .reverse();
    return { invites, revoked: meta.invitesRevoked === true };
  }

  /** The code of an open invite, rebuilt from the keys kept with the conversation, to copy it again. */
  async inviteLink(id: string, inviteId: string): Promise<{ link: string }> {
    this.activeMeta(id);
    // Ask the relay first (republishing answers 404 for an invite it no longer has, which is then
    // forgotten): a one-time invite read by someone who never joined leaves no Commit to tell us.
    // Offline, the code is given as it is known.
    await this.publishInvites(id);
    const meta = this.activeMeta(id);
    const invite = meta.invites.find((i) => i.inviteId === inviteId && i.expiresAt > nowS());
    const link = invite === undefined ? null : inviteLinkOf(this.deps.identity().relayUrl, invite);
    if (link === null) throw new ChannelError(ErrorCode.NotFound, 'That invite is no longer open: it was used, revoked or has expired.');
    return { link };
  }

  /** A Commit removed someone: forget the open invites (the caller deletes them at the relay). Returns them. */
  private dropInvitesIfShrank(next: ConversationMeta, before: GroupState, after: GroupState): ConversationMeta['invites'] {
    if (!membershipShrank(before, after) || next.invites.length === 0) return [];
    const dropped = next.invites;
    next.invites = [];
    next.invitesRevoked = true;
    return dropped;
  }

  /**
   * Revoke an invite: the relay deletes its blob, so the link stops working
   * for everyone. Other members who hold it (they keep invites current) get a
   * 404 at their next update and forget it too.
   */
  async revokeInvite(id: string, inviteId: string): Promise<void> {
    const meta = this.activeMeta(id);
    const invite = meta.invites.find((i) => i.inviteId === inviteId);
    if (invite === undefined) throw new ChannelError(ErrorCode.NotFound, 'That invite does not exist any more.');
    try {
      await this.deps.api().deleteInvite(inviteId, fromB64(invite.writeKey)!);
    } catch (err) {
      // Gone already (used, expired, or revoked by another member): the link is dead either way.
      if (!(err instanceof RelayApiError && err.status === 404)) throw relayProblem(err, 'revoking the invite');
    }
    await this.serial(async () => {
      const m = this.metas.get(id);
      if (m !== undefined) await this.apply({ metas: [{ ...m, invites: m.invites.filter((i) => i.inviteId !== inviteId) }] });
    });
  }

  /** Replace every live invite's blob with this epoch's GroupInfo; forget invites the relay no longer has. */
  private async publishInvites(id: string): Promise<void> {
    const meta = this.metas.get(id);
    if (meta === undefined || meta.status !== 'active' || meta.invites.length === 0) return;
    const state = await this.group(id).catch(() => undefined);
    if (state === undefined) return;
    const groupInfo = encodeMessage(await exportGroupInfo(state));
    const capability = queueCapability(state);
    const gone: string[] = [];
    await Promise.all(
      meta.invites.map(async (inv) => {
        // Unsigned invites (made before blobs were signed) cannot be checked by a joiner: forget them.
        if (inv.expiresAt <= nowS() || inv.signingKey === undefined) {
          gone.push(inv.inviteId);
          return;
        }
        const content = { groupInfo, queue: fromB64(meta.queue)!, capability, name: meta.name };
        const ct = sealInvite(fromB64(inv.key)!, inv.inviteId, content, fromB64(inv.signingKey)!);
        try {
          await this.deps.api().updateInvite(inv.inviteId, fromB64(inv.writeKey)!, ct);
        } catch (err) {
          if (err instanceof RelayApiError && err.status === 404) gone.push(inv.inviteId);
        }
      }),
    );
    if (gone.length > 0) {
      await this.serial(async () => {
        const m = this.metas.get(id);
        if (m !== undefined) await this.apply({ metas: [{ ...m, invites: m.invites.filter((i) => !gone.includes(i.inviteId)) }] });
      });
    }
  }

  /** Fetch and open an invite blob; a 404 means expired, used, or never existed. */
  private async fetchInvite(inviteId: string, key: Uint8Array, verifyKey: Uint8Array): Promise<{ content: InviteContent; gi: MLSMessage & { wireFormat: typeof WireFormat.groupInfo } }> {
    let blob: Uint8Array;
    try {
      blob = await this.deps.api().getInvite(inviteId);
    } catch (err) {
      if (err instanceof RelayApiError && err.status === 404) {
        throw new ChannelError(ErrorCode.NotFound, 'This invite has expired or was already used. Ask for a new link.');
      }
      throw relayProblem(err, 'joining');
    }
    const content = openInvite(key, inviteId, blob, verifyKey);
    let gi: MLSMessage;
    try {
      gi = decodeMessage(content.groupInfo);
    } catch (cause) {
      throw new ChannelError(ErrorCode.InvalidInput, 'This invite is damaged; ask for a new link.', { cause });
    }
    if (gi.wireFormat !== WireFormat.groupInfo) throw new ChannelError(ErrorCode.InvalidInput, 'This invite is damaged; ask for a new link.');
    return { content, gi };
  }

  /**
   * Join by external Commit. Our mailbox is registered to the queue BEFORE we
   * read the GroupInfo we commit against (for a reusable invite we read it a
   * second time), so any Commit that beats ours reaches us and voids the
   * join instead of leaving us on a fork nobody else follows. A one-time
   * invite can be read only once; there a small window remains.
   */
  async join(link: string): Promise<string> {
    try {
      return await this.joinOnce(link);
    } catch (err) {
      if (!(err instanceof ChannelError && err.message === JOIN_CONFLICT)) throw err;
      // Someone else's Commit came first: a reusable invite now holds the newer GroupInfo, try once more.
      return this.joinOnce(link).catch((again: unknown) => {
        throw again instanceof ChannelError && again.code === ErrorCode.NotFound ? err : again;
      });
    }
  }

  private async joinOnce(link: string): Promise<string> {
    const l = parseInviteLink(link);
    const me = this.deps.identity();
    if (l.relayUrl !== me.relayUrl) {
      throw new ChannelError(ErrorCode.InvalidInput, `This invite is for the relay ${l.relayUrl}; your account is on ${me.relayUrl}.`);
    }
    const api = this.deps.api();
    // The mailbox first: the fewer round trips between reading the GroupInfo and
    // registering to the queue, the smaller the window in which a Commit could slip by.
    let mailbox: MailboxCredentials;
    try {
      mailbox = await this.newMailbox();
    } catch (err) {
      throw relayProblem(err, 'joining');
    }
    let listening = false;
    const abandon = (queue?: Uint8Array, cap?: Uint8Array): void => {
      if (queue !== undefined && cap !== undefined) void api.unregisterQueue(queue, cap, mailbox.mailboxId).catch(() => undefined);
      if (listening) this.deps.onMailbox?.({ removed: mailbox.mailboxId });
      void api.deleteMailbox(mailbox).catch(() => undefined);
    };
    let { content, gi } = await this.fetchInvite(l.inviteId, l.key, l.verifyKey).catch((err: unknown) => {
      abandon();
      throw err;
    });
    const id = toB64(gi.groupInfo.groupContext.groupId);
    const existing = this.metas.get(id);
    if (existing?.status === 'active' || (existing?.status === 'joining' && this.pending.has(id))) {
      abandon();
      if (existing.status === 'active') return id;
      throw new ChannelError(ErrorCode.Unavailable, 'You are already joining this conversation.');
    }
    const registeredWith = content.capability;
    try {
      await api.registerQueue(content.queue, registeredWith, mailbox);
    } catch (err) {
      abandon();
      // The invite's GroupInfo is older than the queue's epoch: members republish it soon.
      if (isStale(err)) throw new ChannelError(ErrorCode.Unavailable, JOIN_CONFLICT, { cause: err });
      throw relayProblem(err, 'joining');
    }
    const fresher = await this.fetchInvite(l.inviteId, l.key, l.verifyKey).catch(() => undefined);
    if (fresher !== undefined && toB64(fresher.gi.groupInfo.groupContext.groupId) === id) ({ content, gi } = fresher);

    const suite = getCipherSuite(gi.groupInfo.groupContext.cipherSuite);
    // Our external Commit is a PublicMessage the relay stores: the leaf carries a pseudonym of this conversation only.
    const pseudonym = newPseudonym();
    const identity = await generateIdentity(suite, pseudonym);
    let joined: Awaited<ReturnType<typeof joinByExternalCommit>>;
    try {
      joined = await joinByExternalCommit(gi, identity, { capabilities: roleCapabilities(suite) });
    } catch (cause) {
      abandon(content.queue, content.capability);
      throw new ChannelError(ErrorCode.InvalidInput, 'This invite does not describe a valid conversation.', { cause });
    }
    const payload = encodeMessage(joined.commit);
    const p: PendingCommit = { hash: hashOf(payload), baseEpoch: Number(gi.groupInfo.groupContext.epoch), state: joined.state };
    await this.serial(async () => {
      const meta: ConversationMeta = {
        v: 1,
        id,
        name: content.name.trim() || 'Conversation',
        status: 'joining',
        queue: toB64(content.queue),
        mailbox,
        unread: existing?.unread ?? 0,
        lastActivity: Date.now(),
        nextSeq: existing?.nextSeq ?? 0,
        memberCount: members(joined.state).length,
        epoch: Number(joined.state.context.epoch),
        invites: [],
        pseudonym: toB64(pseudonym),
        cap: toB64(content.capability),
      };
      await this.apply({ metas: [meta], pending: [{ id, value: p }] });
    });
    // Listen only now that the conversation is known as joining: whatever the queue
    // delivered since we registered (a Commit that beat ours) is judged against it.
    this.deps.onMailbox?.({ added: mailbox });
    listening = true;
    const confirmed = this.waitConfirmed(p.hash, this.deps.confirmTimeoutMs ?? 20_000);
    confirmed.catch(() => undefined);
    try {
      const rotateTo = capabilityHash(content.queue, queueCapability(joined.state));
      await this.deps.wallet().spend((token) => api.send(content.queue, content.capability, token, payload, rotateTo));
    } catch (err) {
      await this.serial(() => this.apply({ deleteConversation: id }));
      abandon(content.queue, registeredWith);
      // Someone committed since this GroupInfo: like a Commit that beat ours in the queue.
      const problem = isStale(err) ? new ChannelError(ErrorCode.Unavailable, JOIN_CONFLICT, { cause: err }) : relayProblem(err, 'joining');
      this.settle(p.hash, problem);
      throw problem;
    }
    await confirmed;
    return id;
  }

  // -- leaving and deleting --------------------------------------------------

  async leave(id: string): Promise<void> {
    this.activeMeta(id);
    // The last admin hands the role on first: a conversation keeps someone who can remove people.
    const heir = heirIfLastAdmin(await this.group(id));
    if (heir !== undefined) await this.commit(id, { proposals: [adminChange(await this.group(id), heir, true)] });
    const meta = this.activeMeta(id);
    const queue = fromB64(meta.queue)!;
    const { sent, cap } = await this.serial(async () => {
      const state = await this.group(id);
      return { sent: await leaveGroup(state), cap: queueCapability(state) };
    });
    const payload = encodeMessage(sent.message);
    // Leaving shrinks the membership: revoke the open invites first (whoever commits our leaving does it too).
    await revokeAtRelay(this.deps.api(), meta.invites).catch(() => undefined);
    try {
      await this.serial(() => this.apply({ seen: [hashOf(payload)] }));
      await this.deps.wallet().spend((token) => this.deps.api().send(queue, cap, token, payload));
    } catch (err) {
      throw relayProblem(err, 'leaving');
    }
    await this.serial(async () => {
      const m = this.meta(id);
      const next: ConversationMeta = { ...m, status: 'left', invites: [], lastActivity: Date.now() };
      const note = this.systemMessage(next, 'You left the conversation.');
      await this.apply({ metas: [next], groups: [{ id, state: null }], pending: [{ id, value: null }], messages: [note] });
    });
    this.detach(meta);
  }

  /**
   * Delete for me: leave (the others keep the conversation) and remove it from
   * this device. When we are the last member, nobody is left to use the queue:
   * it goes too. Ending it for everyone is `end`.
   */
  async delete(id: string): Promise<void> {
    const meta = this.meta(id);
    const alone = meta.status === 'active' && members(await this.group(id)).length === 1;
    if (meta.status === 'active' && !alone) {
      await this.leave(id);
    } else if (meta.status === 'active') {
      const api = this.deps.api();
      const queue = fromB64(meta.queue)!;
      try {
        const state = await this.group(id).catch(() => undefined);
        const cap = state === undefined ? capOf(meta) : queueCapability(state);
        if (cap !== undefined) await api.deleteQueue(queue, cap);
      } catch (err) {
        if (!(err instanceof RelayApiError && err.status === 404)) throw relayProblem(err, 'deleting the conversation');
      }
      await Promise.all(meta.invites.map((i) => api.deleteInvite(i.inviteId, fromB64(i.writeKey)!).catch(() => undefined)));
      this.detach(meta);
    }
    await this.serial(() => this.apply({ deleteConversation: id }));
  }

  // -- roles (conversation-roles.ts; the engine enforces them, V-ROLE-*) -------

  async setAdmin(id: string, memberId: string, admin: boolean): Promise<void> {
    this.activeMeta(id);
    const state = await this.group(id);
    requireRole(rolesView(state).canChangeRoles, 'Only admins can change who is an admin.');
    const target = members(state).find((m) => memberIdOf(m.leaf.signatureKey) === memberId);
    if (target === undefined) throw new ChannelError(ErrorCode.NotFound, 'That person is not in this conversation.');
    await this.commit(id, { proposals: [adminChange(state, target.leafIndex, admin)] });
  }

  async setInvitePolicy(id: string, policy: InvitePolicyView): Promise<void> {
    this.activeMeta(id);
    const state = await this.group(id);
    requireRole(rolesView(state).canChangeRoles, 'Only admins can change who may invite.');
    await this.commit(id, { proposals: [invitePolicyChange(state, policy)] });
  }

  /**
   * End for everyone (admins; anyone in a conversation without roles): one
   * Commit removes every other member, then the queue and its ciphertext are
   * deleted at the relay. Our history stays until we delete it here too.
   */
  async end(id: string): Promise<void> {
    const meta = this.activeMeta(id);
    const api = this.deps.api();
    // Needs the relay: check first, so an offline attempt changes nothing.
    try {
      await api.limits();
    } catch (err) {
      throw relayProblem(err, 'ending the conversation');
    }
    const state = await this.group(id);
    requireRole(rolesView(state).canEnd, 'Only admins can end this conversation for everyone.');
    const others = members(state).filter((m) => m.leafIndex !== state.ownLeaf);
    if (others.length > 0) {
      await this.commit(id, { proposals: others.map((m) => ({ proposalType: ProposalType.remove, remove: { removed: m.leafIndex } })) });
    }
    try {
      await api.deleteQueue(fromB64(meta.queue)!, queueCapability(await this.group(id)));
    } catch (err) {
      if (!(err instanceof RelayApiError && err.status === 404)) throw relayProblem(err, 'ending the conversation');
    }
    const current = this.meta(id);
    await Promise.all(current.invites.map((i) => api.deleteInvite(i.inviteId, fromB64(i.writeKey)!).catch(() => undefined)));
    this.detach(current);
    await this.serial(async () => {
      const m = this.meta(id);
      const next: ConversationMeta = { ...m, status: 'removed', endedBy: 'You', invites: [], lastActivity: Date.now() };
      const note = this.systemMessage(next, ENDED_BY_YOU);
      await this.apply({ metas: [next], groups: [{ id, state: null }], pending: [{ id, value: null }], messages: [note] });
    });
  }
}

function senderIndex(sender: { senderType: number; leafIndex?: number }): number {
  return sender.leafIndex ?? -1;
}

/**
 * A member's profile: remember the name under the sender's member id and say
 * what changed. Silent when the name is the one we show already, and the
 * first time we learn the name of someone who was here before us.
 */
function learnName(meta: ConversationMeta, state: GroupState, memberId: string, name: string, selfName: string): string | undefined {
  if (memberId === '') return undefined;
  const before = memberLabels(state, meta.names, selfName).get(memberId);
  if (before === undefined) return undefined;
  const known = meta.names?.[memberId] !== undefined;
  const wasUnnamed = meta.unnamed?.includes(memberId) === true;
  meta.names = { ...meta.names, [memberId]: name };
  if (wasUnnamed) meta.unnamed = meta.unnamed!.filter((m) => m !== memberId);
  if (before.displayName === name) return undefined;
  const leaf = members(state).find((m) => memberIdOf(m.leaf.signatureKey) === memberId)!.leaf;
  const placeholder = !known && leaf.credential.credentialType === 1 && isPseudonym(leaf.credential.identity);
  if (placeholder && !wasUnnamed) return undefined;
  const after = memberLabels(state, meta.names, selfName).get(memberId);
  return placeholder ? `${labelText(before)} is ${labelText(after)}.` : `${labelText(before)} is now called ${labelText(after)}.`;
}
