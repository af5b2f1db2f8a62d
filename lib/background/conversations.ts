/**
 * The conversations this device knows, in memory and in the chat store.
 *
 * Metadata of every conversation is held here; group states load on demand;
 * our Commits not yet confirmed by the relay are held as pending
 * (epoch-sync.ts). Every change goes through `apply(Transition)`: ONE
 * IndexedDB transaction (chat-store.ts), then the memory copy, then the view.
 * `serial` runs the changes one at a time, so receiving, sending and
 * committing never interleave.
 */
import { mentionView } from './mentions.ts';
import type { TransferEvent } from '../protocol/attachments.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { epochAuthenticator, members, type GroupState } from '../mls/group.ts';
import { fromB64, randomId, toB64 } from '../bytes.ts';
import { ChannelError, ErrorCode, type ConversationDetail, type ConversationSummary, type MessagePage, type MessageView } from '../protocol/channel.ts';
import { ChatStore, type ConversationMeta, type MessageRecord, type PendingCommit, type StoredChat, type Transition } from './chat-store.ts';
import type { ChatDirectory } from './chat-directory.ts';
import type { Database } from './db.ts';
import { place, placementOf, type Placement } from './list-placement.ts';
import { isMuted } from './mute.ts';
import { deliveryOf, type Delivery } from './receipts.ts';
import type { MailboxCredentials, RelayApi } from './relay-api.ts';
import type { TokenWallet } from './tokens.ts';
import type { TokenKeyWatch } from './token-key-watch.ts';
import type { Vault } from './vault.ts';
import type { OwnIdentity } from './identity/own-identity.ts';
import type { VerifiedPeople } from './identity/verified-people.ts';
import { isAdminAt, rolesView } from './conversation-roles.ts';
import { memberLabels, ownMemberId } from './group-members.ts';
import { labelText } from './member-names.ts';
import { groupPeople } from './identity/people.ts';
import { ownDeviceIds } from './identity/own-devices.ts';
import { keyFingerprint, memberIdOf, safetyCode } from './safety-code.ts';
import * as text from './text.ts';
import { richView } from './rich-record.ts';

const JOIN_GIVE_UP_MS = 10 * 60_000;
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
  /** Messages deleted by their expiry (expiry.ts), seqs ascending: the views drop them. */
  onExpired?: (conversationId: string, seqs: number[]) => void;
  /** A file's download progress or end (conversation-attachments.ts). */
  onTransfer?: (event: TransferEvent) => void;
  /** A text from someone else arrived. */
  onIncoming?: (conversation: ConversationSummary, message: MessageView) => void;
  /** Acknowledge relay deliveries (after their transaction committed). */
  ack: (mailboxId: string, ids: string[]) => void;
  /** A conversation's mailbox starts or stops being listened to. */
  onMailbox?: (change: { added: MailboxCredentials } | { removed: string }) => void;
  /** A fault of ours (failure.ts 'bug') met while handling a delivery: never dropped silently. */
  onBug?: (err: unknown) => void;
  confirmTimeoutMs?: number;
  /** Members compare their token keys (token-key-watch.ts). */
  tokenKeys?: TokenKeyWatch;
  /** Whether read receipts are on (sent and counted); default on. Delivery receipts always go. */
  readReceipts?: () => boolean;
  /** This device in the KeyPackage directory (chat-directory.ts); without it, no adding or joining by Welcome. */
  directory?: ChatDirectory;
  /** Our identity and the people we verified (docs/identity.md); without them no `person` claims go out. */
  people?: { own: OwnIdentity; verified: VerifiedPeople };
  /** The chat store's metadata, when the caller started reading it early (waking reads it alongside the account's other records). */
  stored?: Promise<StoredChat>;
  /** One of our own person's devices removed this device (a Remove by it, or our roster without us): device-removal.ts. */
  onRemovedFromAccount?: () => void;
}

export const hashOf = (payload: Uint8Array): string => toB64(sha256(payload));

export const capOf = (meta: ConversationMeta): Uint8Array | undefined => (meta.cap === undefined ? undefined : (fromB64(meta.cap) ?? undefined));

export function systemMessage(meta: ConversationMeta, body: string, at = Date.now()): MessageRecord {
  return systemRecord(meta.id, { id: randomId(), seq: meta.nextSeq++, at }, body);
}

/** A system message at a given place in the history: a new one, or one rewritten in place (same id and seq). */
export function systemRecord(conversationId: string, place: { id: string; seq: number; at: number }, body: string): MessageRecord {
  return {
    id: place.id,
    conversationId,
    seq: place.seq,
    kind: 'system',
    text: body,
    sender: { memberId: '', displayName: '', self: false },
    sentAt: place.at,
    status: 'received',
  };
}

export function toView(m: MessageRecord): MessageView {
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
    ...richView(m),
    ...mentionView(m),
  };
}

function delivery(m: MessageRecord): { delivery?: Delivery } {
  const d = m.status === 'failed' ? undefined : deliveryOf(m.receipts);
  return d === undefined ? {} : { delivery: d };
}

export function preview(body: string): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? one.slice(0, 79) + '…' : one;
}

export function summaryOf(m: ConversationMeta): ConversationSummary {
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
    ...(m.disappearAfter === undefined ? {} : { disappearAfter: m.disappearAfter }),
  };
}

export class Conversations {
  readonly store: ChatStore;
  readonly metas = new Map<string, ConversationMeta>();
  readonly groups = new Map<string, GroupState>();
  readonly pending = new Map<string, PendingCommit>();
  /** Conversations whose pending Commit was found in the store at start: posted again once online (epoch-sync.ts `repostRestored`). */
  readonly restored = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();
  /** Views of records with the quotes of replies (rich-messages.ts `withQuotes`); set by the chat service. */
  quotes?: (id: string, records: readonly MessageRecord[], views?: MessageView[]) => Promise<MessageView[]>;
  /** Told of every transition once it is written (the search index keeps up with it, search-index.ts). */
  onApplied?: (t: Transition) => void;
  closed = false;

  constructor(readonly deps: ChatDeps) {
    this.store = new ChatStore(deps.db, deps.vault);
  }

  /** Restore from IndexedDB: conversation metadata and pending commits only (group states load on demand). */
  async load(): Promise<void> {
    const stale: string[] = [];
    const { metas, pendingIds } = await (this.deps.stored ?? this.store.loadAtOpen());
    for (const m of metas) {
      // A join whose Commit never came back (the worker died before posting it) is given up after a while.
      if (m.status === 'joining' && Date.now() - m.lastActivity > JOIN_GIVE_UP_MS) stale.push(m.id);
      else this.metas.set(m.id, m);
    }
    for (const id of stale) await this.store.apply({ deleteConversation: id });
    // Pruning is housekeeping: a failure leaves a few more hashes for next time.
    void this.store.pruneSeen(Date.now() - SEEN_RETENTION_MS).catch(() => undefined);
    const live = [...this.metas.values()].filter((m) => (m.status === 'active' || m.status === 'joining') && pendingIds.has(m.id)).map((m) => m.id);
    // Unreadable pendings are as good as none: their Commit, if it comes back, is then processed like anyone's.
    const pendings = live.length === 0 ? new Map<string, PendingCommit>() : await this.store.loadPendings(live).catch(() => new Map<string, PendingCommit>());
    for (const [id, p] of pendings) {
      this.pending.set(id, p);
      this.restored.add(id);
    }
  }

  /** Run state transitions one at a time (receive, send, commit never interleave); none after close(). */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => (this.closed ? Promise.reject(new ChannelError(ErrorCode.Forbidden, text.SIGNED_OUT)) : fn());
    const run = this.chain.then(guarded, guarded);
    // The chain only orders the transitions; each caller gets its own outcome from `run`.
    this.chain = run.catch(() => undefined);
    return run;
  }

  async apply(t: Transition): Promise<void> {
    // Closed (signed out, or this worker stopped for another to open the store): write nothing more.
    if (this.closed) throw new ChannelError(ErrorCode.Forbidden, text.SIGNED_OUT);
    await this.store.apply(t);
    this.onApplied?.(t);
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
    const byConv = new Map<string, MessageRecord[]>();
    for (const m of t.messages ?? []) {
      const list = byConv.get(m.conversationId) ?? [];
      list.push(m);
      byConv.set(m.conversationId, list);
    }
    for (const [id, list] of byConv) this.deps.onMessages(id, this.quotes === undefined ? list.map(toView) : await this.quotes(id, list));
  }

  /** Forget a pending Commit of ours, unless another has taken its place meanwhile. */
  async dropPending(id: string, hash: string): Promise<void> {
    await this.serial(async () => {
      if (this.pending.get(id)?.hash === hash) await this.apply({ pending: [{ id, value: null }] });
    });
  }

  // -- lookups ---------------------------------------------------------------

  meta(id: string): ConversationMeta {
    const m = this.metas.get(id);
    if (m === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_CONVERSATION);
    return m;
  }

  activeMeta(id: string): ConversationMeta {
    const m = this.meta(id);
    if (m.status !== 'active') throw new ChannelError(ErrorCode.Forbidden, text.NOT_A_MEMBER);
    return m;
  }

  isActive(id: string): boolean {
    return this.metas.get(id)?.status === 'active';
  }

  activeIds(): string[] {
    return [...this.metas.values()].filter((m) => m.status === 'active').map((m) => m.id);
  }

  async group(id: string): Promise<GroupState> {
    const cached = this.groups.get(id);
    if (cached !== undefined) return cached;
    const loaded = await this.store.loadGroup(id);
    if (loaded === undefined) throw new ChannelError(ErrorCode.Forbidden, text.NOT_A_MEMBER);
    this.groups.set(id, loaded);
    return loaded;
  }

  // -- mailboxes ---------------------------------------------------------------

  /** Every mailbox to listen to: one per live conversation. */
  mailboxes(): MailboxCredentials[] {
    const out: MailboxCredentials[] = [];
    for (const m of this.metas.values()) if (m.mailbox !== undefined && (m.status === 'active' || m.status === 'joining')) out.push(m.mailbox);
    return out;
  }

  mailboxOf(meta: ConversationMeta): MailboxCredentials | undefined {
    return meta.mailbox ?? this.deps.identity().mailbox;
  }

  /** A fresh anonymous mailbox (paid with a token) for one conversation. */
  newMailbox(): Promise<MailboxCredentials> {
    return this.deps.wallet().spend((token) => this.deps.api().createMailbox(token));
  }

  /** Stop listening for a conversation: detach its mailbox from the queue, delete it if it is its own. Best effort. */
  detach(meta: ConversationMeta): void {
    const api = this.deps.api();
    const mb = this.mailboxOf(meta);
    const cap = capOf(meta);
    // Best effort: a registration or mailbox left behind expires at the relay; nothing here depends on it.
    if (mb !== undefined && cap !== undefined) void api.unregisterQueue(fromB64(meta.queue)!, cap, mb.mailboxId).catch(() => undefined);
    if (meta.mailbox !== undefined) {
      const own = meta.mailbox;
      this.deps.onMailbox?.({ removed: own.mailboxId });
      void api.deleteMailbox(own).catch(() => undefined);
    }
  }

  // -- what the views read -----------------------------------------------------

  summaries(): ConversationSummary[] {
    return [...this.metas.values()].filter((m) => m.selfSync !== true).map(summaryOf).sort((a, b) => b.lastActivity - a.lastActivity);
  }

  unreadTotal(): number {
    let n = 0;
    for (const m of this.metas.values()) n += m.unread;
    return n;
  }

  async page(id: string, beforeSeq: number | null, limit: number): Promise<MessagePage> {
    const meta = this.meta(id);
    const { messages, more } = await this.store.page(id, beforeSeq, limit);
    const first = messages[0];
    // A text that came before its device's proof: it shows as ours once the proof holds (identity/own-devices.ts).
    const own = this.deps.people?.own;
    const mine = ownDeviceIds(meta, new Set(messages.map((m) => m.sender.memberId)), own);
    const view = (m: MessageRecord): MessageView => (mine.has(m.sender.memberId) && !m.sender.self ? { ...toView(m), sender: { ...m.sender, self: true } } : toView(m));
    const views = messages.map(view);
    return { messages: this.quotes === undefined ? views : await this.quotes(id, messages, views), ...(more && first !== undefined ? { nextBeforeSeq: first.seq } : {}) };
  }

  async detail(id: string): Promise<ConversationDetail> {
    const meta = this.meta(id);
    const summary = summaryOf(meta);
    if (meta.status !== 'active') return { summary, members: [], people: [], safetyCode: '', epoch: meta.epoch };
    const state = await this.group(id);
    const self = ownMemberId(state);
    const list = members(state);
    const labels = memberLabels(state, meta.names, this.deps.identity().displayName);
    const people = this.deps.people;
    return {
      summary,
      people: groupPeople({
        members: list.map((m) => {
          const memberId = memberIdOf(m.leaf.signatureKey);
          // The name without the tag: a tag tells leaves apart, a person is told apart by their identity key.
          return { memberId, displayName: labels.get(memberId)?.displayName ?? labelText(undefined), self: memberId === self };
        }),
        proofs: meta,
        own: people?.own,
        verified: people?.verified.all() ?? new Map(),
      }),
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

  // -- changes of this device only ------------------------------------------------

  /** Pin or archive a conversation in this person's list (list-placement.ts). */
  async place(id: string, change: Placement): Promise<void> {
    await this.serial(async () => {
      const meta = this.meta(id);
      const next = place(meta, change, Date.now());
      if (next !== meta) await this.apply({ metas: [next] });
    });
  }

  /** Mute notifications until then (undefined: unmute). Unread counts go on either way. */
  async setMute(id: string, until: number | undefined): Promise<void> {
    await this.serial(async () => {
      const { mutedUntil: _, ...meta } = this.meta(id);
      await this.apply({ metas: [until === undefined ? meta : { ...meta, mutedUntil: until }] });
    });
  }

  /** A visible system message in a live conversation. */
  async note(id: string, body: string): Promise<void> {
    await this.serial(async () => {
      const meta = this.metas.get(id);
      if (meta === undefined || meta.status !== 'active') return;
      const next: ConversationMeta = { ...meta, lastActivity: Date.now() };
      await this.apply({ metas: [next], messages: [systemMessage(next, body)] });
    });
  }

  /** We are out of the conversation (left, or ended it): its group state and open invites go, its history stays. */
  async close(id: string, change: { status: ConversationMeta['status']; endedBy?: string }, note: string): Promise<void> {
    await this.serial(async () => {
      const m = this.meta(id);
      const next: ConversationMeta = { ...m, ...change, invites: [], lastActivity: Date.now() };
      const msg = systemMessage(next, note);
      await this.apply({ metas: [next], groups: [{ id, state: null }], pending: [{ id, value: null }], messages: [msg] });
    });
  }

  /** Remove the conversation and everything under it from this device. */
  async forget(id: string): Promise<void> {
    await this.serial(() => this.apply({ deleteConversation: id }));
  }
}
