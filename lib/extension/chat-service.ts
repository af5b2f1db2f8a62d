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
import { ContentType, WireFormat, type MLSMessage } from '../mls/framing.ts';
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
import { ProposalType } from '../mls/proposals.ts';
import { encodeAppMessage, parseAppMessage, type AppMessage } from './app-messages.ts';
import { fromB64, randomBytes, randomId, toB64 } from './b64.ts';
import { ChatStore, type ConversationMeta, type MessageRecord, type OutboxEntry, type PendingCommit, type Transition } from './chat-store.ts';
import type { Database } from './db.ts';
import { formatInviteLink, newInviteSigningKey, openInvite, parseInviteLink, sealInvite, type InviteContent } from './invite.ts';
import { membershipShrank, revokeAtRelay } from './invite-revocation.ts';
import {
  ChannelError,
  ErrorCode,
  type ConversationDetail,
  type ConversationSummary,
  type InviteMode,
  type InviteView,
  type MessagePage,
  type MessageView,
} from './protocol.ts';
import { RelayApiError, type DeliveredMessage, type MailboxCredentials, type RelayApi } from './relay-api.ts';
import { keyFingerprint, memberIdOf, safetyCode } from './safety-code.ts';
import type { TokenWallet } from './tokens.ts';
import type { Vault } from './vault.ts';

export const DEFAULT_SUITE = 1;
const JOIN_GIVE_UP_MS = 10 * 60_000;
/**
 * Post-compromise security needs our leaf keys to change now and then: when
 * we send and our last Commit is older than this, we also commit an update
 * (an empty Commit with a fresh path).
 */
const SELF_UPDATE_MS = 7 * 86_400_000;
const JOIN_CONFLICT = 'The conversation changed while you were joining; open the link again.';
/** Longer than the relay keeps undelivered messages (30 days by default). */
const SEEN_RETENTION_MS = 45 * 86_400_000;

export interface ChatIdentity {
  displayName: string;
  mailbox: MailboxCredentials;
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
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const hashOf = (payload: Uint8Array): string => toB64(sha256(payload));
const nowS = (): number => Math.floor(Date.now() / 1000);

function nameOf(state: GroupState, leaf: number): string {
  const l = state.tree.leaf(leaf as never);
  if (l === undefined) return 'Someone';
  const c = l.credential;
  if (c.credentialType !== 1) return 'Someone';
  const name = dec.decode((c as { identity: Uint8Array }).identity).slice(0, 64).trim();
  return name === '' ? 'Someone' : name;
}

function memberMap(state: GroupState): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of members(state)) out.set(memberIdOf(m.leaf.signatureKey), nameOf(state, m.leafIndex));
  return out;
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
  };
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
    void s.store.pruneSeen(Date.now() - SEEN_RETENTION_MS).catch(() => undefined);
    await Promise.all(
      [...s.metas.values()]
        .filter((m) => m.status === 'active' || m.status === 'joining')
        .map(async (m) => {
          const p = await s.store.loadPending(m.id).catch(() => undefined);
          if (p !== undefined) s.pending.set(m.id, p);
        }),
    );
    return s;
  }

  /** Run state transitions one at a time (receive, send, commit never interleave). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
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

  private mailboxOf(meta: ConversationMeta): MailboxCredentials {
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
    void api.unregisterQueue(fromB64(meta.queue)!, mb.mailboxId).catch(() => undefined);
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
    };
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
    const me = this.deps.identity();
    const identity = await generateIdentity(this.suite, enc.encode(me.displayName));
    const state = await createGroup(this.suite, identity);
    const id = toB64(state.context.groupId);
    const queue = randomBytes(32);
    let mailbox: MailboxCredentials;
    try {
      mailbox = await this.newMailbox();
      await this.deps.api().registerQueue(queue, mailbox);
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
    return {
      summary,
      members: list.map((m) => ({
        memberId: memberIdOf(m.leaf.signatureKey),
        displayName: nameOf(state, m.leafIndex),
        self: memberIdOf(m.leaf.signatureKey) === self,
        fingerprint: keyFingerprint(m.leaf.signatureKey),
      })),
      safetyCode: safetyCode(
        epochAuthenticator(state),
        state.context.treeHash,
        list.map((m) => m.leaf.signatureKey),
      ),
      epoch: Number(state.context.epoch),
    };
  }

  async markRead(id: string): Promise<void> {
    await this.serial(async () => {
      const meta = this.meta(id);
      if (meta.unread === 0) return;
      await this.apply({ metas: [{ ...meta, unread: 0 }] });
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
    await this.sendApp(id, app, (meta, msgId, self) => {
      const rec: MessageRecord = {
        id: msgId,
        conversationId: id,
        seq: meta.nextSeq++,
        kind: 'text',
        text,
        sender: self,
        sentAt: app.at,
        status: 'sending',
      };
      meta.lastMessage = { preview: preview(text), senderName: self.displayName, fromSelf: true };
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
    record?: (meta: ConversationMeta, messageId: string, self: MessageRecord['sender']) => MessageRecord | undefined,
  ): Promise<void> {
    // §12.4 (V-APP-1): proposals we have seen must be committed before we send.
    if ((await this.group(id)).pendingProposals.length > 0) await this.commitPending(id);
    await this.serial(async () => {
      const meta = { ...this.activeMeta(id) };
      const state = await this.group(id);
      const sent = await sendApplicationMessage(state, encodeAppMessage(app));
      const payload = encodeMessage(sent.message);
      const self = { memberId: ownMemberId(state), displayName: this.deps.identity().displayName, self: true };
      const rec = record?.(meta, app.id, self);
      meta.lastActivity = Date.now();
      await this.apply({
        metas: [meta],
        groups: [{ id, state: sent.state }],
        ...(rec === undefined ? {} : { messages: [rec] }),
        outboxPut: [{ messageId: app.id, conversationId: id, createdAt: Date.now(), payload, queue: fromB64(meta.queue)! }],
        seen: [hashOf(payload)],
      });
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
      do {
        this.flushAgain = false;
        const entries = (await this.store.outbox()).filter((e) => e.failed !== true);
        for (const e of entries) {
          if (!(await this.post(e))) return;
        }
      } while (this.flushAgain);
    })()
      .catch(() => undefined)
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Send one outbox entry; false when the relay is unreachable (keep it queued). */
  private async post(e: OutboxEntry): Promise<boolean> {
    let error: string | undefined;
    try {
      await this.deps.wallet().spend((token) => this.deps.api().send(e.queue, token, e.payload));
    } catch (err) {
      if (err instanceof RelayApiError && err.unreachable) return false;
      if (err instanceof RelayApiError && err.code === 'not_found') error = 'This conversation no longer exists on the relay.';
      else if (err instanceof RelayApiError) error = `The relay refused the message (${err.code}).`;
      else if (err instanceof Error && err.name === 'TokenError') return false; // no session/tokens right now: keep it queued
      else error = 'The message could not be sent.';
    }
    await this.serial(async () => {
      const rec = await this.store.message(e.conversationId, e.messageId).catch(() => undefined);
      const updated: MessageRecord | undefined =
        rec === undefined ? undefined : error === undefined ? { ...rec, status: 'sent' } : { ...rec, status: 'failed', error };
      const t: Transition = { ...(updated === undefined ? {} : { messages: [updated] }) };
      if (error === undefined) t.outboxDelete = [e.messageId];
      else t.outboxPut = [{ ...e, failed: true }];
      await this.apply(t);
    });
    return true;
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
      const revoke = membershipShrank(state, r.state) ? meta.invites : [];
      return { payload, hash: p.hash, queue: fromB64(meta.queue)!, revoke };
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
      await this.deps.wallet().spend((token) => this.deps.api().send(prepared.queue, token, prepared.payload));
    } catch (err) {
      // Refused for sure: the Commit will never come back, forget it. Unreachable: it may
      // have been posted, so keep it pending (the relay's order decides when it shows up).
      if (!(err instanceof RelayApiError && err.unreachable)) {
        await this.serial(async () => {
          if (this.pending.get(id)?.hash === prepared.hash) await this.apply({ pending: [{ id, value: null }] });
        });
        this.settle(prepared.hash, relayProblem(err, 'changing the group'));
      }
      throw relayProblem(err, 'changing the group');
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
      const senderName = nameOf(state, processed.sender);
      const senderLeaf = state.tree.leaf(processed.sender);
      const sender = { memberId: senderLeaf === undefined ? '' : memberIdOf(senderLeaf.signatureKey), displayName: senderName, self: false };
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
        next.unread++;
        next.lastActivity = Date.now();
        next.lastMessage = { preview: preview(app.text), senderName, fromSelf: false };
      } else if (app?.t === 'rename') {
        next.name = app.name;
        records.push(this.systemMessage(next, `${senderName} renamed the conversation to “${app.name}”.`));
        next.lastActivity = Date.now();
      } else if (app?.t === 'invite') {
        if (!next.invites.some((i) => i.inviteId === app.inviteId)) {
          next.invites.push({
            inviteId: app.inviteId,
            key: app.key,
            writeKey: app.writeKey,
            signingKey: app.signingKey,
            expiresAt: app.expiresAt,
            oneTime: app.oneTime,
          });
        }
      } else if (app?.t === 'close') {
        next.status = 'removed';
        records.push(this.systemMessage(next, `${senderName} deleted this conversation.`));
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
      records.push(...this.describeEpochChange(next, state, processed.state, processed.removed, nameOf(state, senderIndex(processed.sender))));
      if (processed.removed) {
        next.status = 'removed';
        next.invites = [];
        t.groups = [{ id, state: null }]; // forward secrecy: nothing of the group stays on this device
        afterwards = () => this.detach(meta);
      } else {
        const revoked = this.dropInvitesIfShrank(next, state, processed.state);
        afterwards = () => {
          if (revoked.length > 0) void revokeAtRelay(this.deps.api(), revoked).catch(() => undefined);
          void this.publishInvites(id);
          if (processed.state.pendingProposals.length > 0) this.commitSoon(id);
        };
      }
    }
    if (records.length > 0) t.messages = records;
    await this.apply(t);
    ack();
    if (pending !== undefined && processed.kind === 'commit') {
      this.settle(pending.hash, new ChannelError(ErrorCode.Unavailable, 'Someone else changed the conversation at the same time; try again.'));
    }
    afterwards?.();
    if (incoming !== undefined) this.deps.onIncoming?.(this.summary(next), toView(incoming));
  }

  /** System messages for what a new epoch changed, and the metadata that follows from it. */
  private describeEpochChange(meta: ConversationMeta, before: GroupState | undefined, after: GroupState, removed: boolean, by: string): MessageRecord[] {
    const out: MessageRecord[] = [];
    meta.epoch = Number(after.context.epoch);
    meta.lastActivity = Date.now();
    if (removed) {
      out.push(this.systemMessage(meta, `${by} removed you from this conversation.`));
      return out;
    }
    const old = before === undefined ? new Map<string, string>() : memberMap(before);
    const now = memberMap(after);
    meta.memberCount = now.size;
    const self = ownMemberId(after);
    for (const [mid, name] of now) if (!old.has(mid) && mid !== self && before !== undefined) out.push(this.systemMessage(meta, `${name} joined.`));
    for (const [mid, name] of old) if (!now.has(mid)) out.push(this.systemMessage(meta, by === name ? `${name} left.` : `${by} removed ${name}.`));
    return out;
  }

  /** Our own Commit came back in queue order: its state is now the group's. */
  private async adopt(id: string, p: PendingCommit): Promise<void> {
    const meta = this.metas.get(id);
    if (meta === undefined) return;
    const next: ConversationMeta = { ...meta };
    const joining = meta.status === 'joining';
    const before = joining ? undefined : await this.group(id).catch(() => undefined);
    const me = this.deps.identity().displayName;
    const records = this.describeEpochChange(next, before, p.state, false, me);
    // Revoked at the relay before the Commit went out; again here for an invite made meanwhile (a 404 is fine).
    const revoked = before === undefined ? [] : this.dropInvitesIfShrank(next, before, p.state);
    next.lastUpdate = Date.now();
    if (joining) {
      next.status = 'active';
      records.push(this.systemMessage(next, 'You joined the conversation.'));
    }
    await this.apply({ metas: [next], groups: [{ id, state: p.state }], pending: [{ id, value: null }], seen: [p.hash], messages: records });
    this.settle(p.hash);
    if (revoked.length > 0) void revokeAtRelay(this.deps.api(), revoked).catch(() => undefined);
    void this.publishInvites(id);
    if (p.state.pendingProposals.length > 0) this.commitSoon(id);
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
    const inviteId = randomId();
    const key = randomBytes(32);
    const writeKey = randomBytes(32);
    const { signingKey, verifyKey } = newInviteSigningKey();
    // A minute short of the longest the relay allows (30 days), so clock skew cannot push it over.
    const expiresAt = nowS() + Math.min(expiresInHours * 3600, 30 * 86_400 - 60);
    const groupInfo = encodeMessage(await exportGroupInfo(state));
    const ciphertext = sealInvite(key, inviteId, { groupInfo, queue: fromB64(meta.queue)!, name: meta.name }, signingKey);
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
      .filter((i) => i.expiresAt > now)
      .map((i) => ({ inviteId: i.inviteId, mode: i.oneTime ? ('one-time' as const) : ('expiring' as const), expiresAt: i.expiresAt * 1000 }))
      .reverse();
    return { invites, revoked: meta.invitesRevoked === true };
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
    const gone: string[] = [];
    await Promise.all(
      meta.invites.map(async (inv) => {
        // Unsigned invites (made before blobs were signed) cannot be checked by a joiner: forget them.
        if (inv.expiresAt <= nowS() || inv.signingKey === undefined) {
          gone.push(inv.inviteId);
          return;
        }
        const content = { groupInfo, queue: fromB64(meta.queue)!, name: meta.name };
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
    const abandon = (queue?: Uint8Array): void => {
      if (queue !== undefined) void api.unregisterQueue(queue, mailbox.mailboxId).catch(() => undefined);
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
    try {
      await api.registerQueue(content.queue, mailbox);
    } catch (err) {
      abandon();
      throw relayProblem(err, 'joining');
    }
    const fresher = await this.fetchInvite(l.inviteId, l.key, l.verifyKey).catch(() => undefined);
    if (fresher !== undefined && toB64(fresher.gi.groupInfo.groupContext.groupId) === id) ({ content, gi } = fresher);

    const suite = getCipherSuite(gi.groupInfo.groupContext.cipherSuite);
    const identity = await generateIdentity(suite, enc.encode(me.displayName));
    let joined: Awaited<ReturnType<typeof joinByExternalCommit>>;
    try {
      joined = await joinByExternalCommit(gi, identity);
    } catch (cause) {
      abandon(content.queue);
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
      await this.deps.wallet().spend((token) => api.send(content.queue, token, payload));
    } catch (err) {
      await this.serial(() => this.apply({ deleteConversation: id }));
      abandon(content.queue);
      this.settle(p.hash, relayProblem(err, 'joining'));
      throw relayProblem(err, 'joining');
    }
    await confirmed;
    return id;
  }

  // -- leaving and deleting --------------------------------------------------

  async leave(id: string): Promise<void> {
    const meta = this.activeMeta(id);
    const queue = fromB64(meta.queue)!;
    const sent = await this.serial(async () => leaveGroup(await this.group(id)));
    const payload = encodeMessage(sent.message);
    // Leaving shrinks the membership: revoke the open invites first (whoever commits our leaving does it too).
    await revokeAtRelay(this.deps.api(), meta.invites).catch(() => undefined);
    try {
      await this.serial(() => this.apply({ seen: [hashOf(payload)] }));
      await this.deps.wallet().spend((token) => this.deps.api().send(queue, token, payload));
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

  async delete(id: string): Promise<void> {
    const meta = this.meta(id);
    if (meta.status === 'active') {
      const api = this.deps.api();
      const queue = fromB64(meta.queue)!;
      // Deleting needs the relay: check first, so an offline attempt changes nothing (a queued
      // "deleted" notice must not reach the others later while we still have the conversation).
      try {
        await api.limits();
      } catch (err) {
        throw relayProblem(err, 'deleting the conversation');
      }
      // Tell the others first (best effort), then remove the queue and its ciphertext.
      await this.sendApp(id, { v: 1, t: 'close', id: randomId(), at: Date.now() }).catch(() => undefined);
      await this.flush();
      try {
        await api.deleteQueue(queue);
      } catch (err) {
        if (!(err instanceof RelayApiError && err.status === 404)) throw relayProblem(err, 'deleting the conversation');
      }
      await Promise.all(meta.invites.map((i) => api.deleteInvite(i.inviteId, fromB64(i.writeKey)!).catch(() => undefined)));
      this.detach(meta);
    }
    await this.serial(() => this.apply({ deleteConversation: id }));
  }
}

function senderIndex(sender: { senderType: number; leafIndex?: number }): number {
  return sender.leafIndex ?? -1;
}
