/**
 * Conversations over MLS and the relay: the one object the background app
 * talks to. It wires the modules below and keeps no logic of its own beyond
 * receiving (load the state, interpret, apply, run the effects).
 *
 * A conversation is an MLS group (id = base64url of its group_id) plus a
 * relay queue whose id the members share; every member's device mailbox is
 * registered to the queue. Everything a member sends (application messages,
 * proposals, Commits) is posted to the queue with a sealed-sender token and
 * comes back, in one total per-queue order, to every mailbox, ours included.
 *
 *   conversations.ts   metadata, group states, one transaction per change (`apply`)
 *   outbox.ts          sending application messages: encrypt, persist, flush, retry
 *   epoch-sync.ts      our Commits, confirmed by the relay's order
 *   inbox.ts           what a delivery means: a pure function of (delivery, state)
 *   invites.ts, join.ts             invites, and joining by one
 *   device-adds.ts, join-by-welcome.ts   adding devices by KeyPackage, and joining by their Welcome
 *   membership.ts                   create, rename, remove, roles, leave, delete, end
 *   receipt-sender.ts, announcements.ts   receipts; name, mailbox and token key told to the group
 *   chat-effects.ts    what handling a delivery asks for next (publish, announce, settle, tell the view)
 *   text.ts            every sentence shown to the person
 *
 * Receiving: duplicates (and our own echoes) are dropped by a hash of the
 * relay payload recorded in the same transaction that applied it; the relay
 * is acknowledged only after that transaction commits.
 */
import { getCipherSuite } from '../crypto/suites.ts';
import { ChannelError, ErrorCode, type ConversationDetail, type ConversationSummary, type InviteMode, type InvitePolicyView, type InviteView, type MessagePage, type MessageView } from '../protocol/channel.ts';
import type { AppMessage } from './app-messages.ts';
import type { PendingCommit } from './chat-store.ts';
import { Announcements } from './announcements.ts';
import { Conversations, hashOf, type ChatDeps } from './conversations.ts';
import { EpochSync } from './epoch-sync.ts';
import type { DeviceAddress } from './device-address.ts';
import { checkDevices, DeviceAdds } from './device-adds.ts';
import { WelcomeNotDelivered } from './directory-errors.ts';
import { classify } from './failure.ts';
import { frame, interpret, ownCommitReturned, type Framed, type Outcome } from './inbox.ts';
import { Invites } from './invites.ts';
import { Join } from './join.ts';
import { WelcomeJoin } from './join-by-welcome.ts';
import { DeviceSync } from './device-sync.ts';
import type { Placement } from './list-placement.ts';
import { Membership } from './membership.ts';
import { Outbox, type Recorder } from './outbox.ts';
import { ReceiptSender } from './receipt-sender.ts';
import { RichMessages } from './rich-messages.ts';
import { ConversationAttachments } from './conversation-attachments.ts';
import { Expiry } from './expiry.ts';
import { ChatEffects } from './chat-effects.ts';
import { SearchIndex } from './search-index.ts';
import type { SearchResult } from '../protocol/search.ts';
import type { MentionSpan } from '../protocol/mentions.ts';
import type { TimerSeconds } from './disappearing.ts';
import { isDueEmpty } from './receipts.ts';
import type { DeliveredMessage, MailboxCredentials } from './relay-api.ts';
import * as text from './text.ts';
import { setVerified } from './identity/verify-person.ts';
import { rosterHas } from './identity/roster.ts';
import { Healing } from './healing/healing.ts';
import { RestoredConversations } from './backup/restored-history.ts';

export type { ChatDeps, ChatIdentity } from './conversations.ts';

export const DEFAULT_SUITE = 1;

export class ChatService {
  private readonly c: Conversations;
  // The store, the deps and the metadata are read by security tests that act as a member
  // controlling their own device (tests/security/invalid-proposal-in-queue-*, support/invite-attacker.ts).
  private readonly store: Conversations['store'];
  private readonly metas: Conversations['metas'];
  private readonly epochs: EpochSync;
  private readonly outbox: Outbox;
  private readonly invites: Invites;
  private readonly joining: Join;
  private readonly membership: Membership;
  private readonly receipts: ReceiptSender;
  private readonly announce: Announcements;
  private readonly adds: DeviceAdds;
  private readonly welcomes: WelcomeJoin;
  private readonly sync: DeviceSync;
  private readonly rich: RichMessages;
  private readonly expiry: Expiry;
  private readonly effects: ChatEffects;
  /** Rejoin slots, resync and the healer (healing/healing.ts): the backup's RejoinSource and Rejoiner. */
  readonly healing: Healing;
  private readonly searchIndex: SearchIndex;
  /** Files and images (conversation-attachments.ts): the channel's attachment.* requests call it directly. */
  readonly attachments: ConversationAttachments;

  private constructor(private readonly deps: ChatDeps) {
    this.c = new Conversations(deps);
    this.store = this.c.store;
    this.metas = this.c.metas;
    this.epochs = new EpochSync(this.c);
    this.outbox = new Outbox(this.c, this.epochs);
    this.invites = new Invites(this.c, this.outbox);
    this.joining = new Join(this.c, this.epochs, this.invites);
    this.healing = new Healing(this.c, this.epochs, this.invites);
    this.membership = new Membership(this.c, this.epochs, this.outbox, getCipherSuite(DEFAULT_SUITE));
    this.receipts = new ReceiptSender(this.c, this.outbox);
    this.rich = new RichMessages(this.c, this.outbox);
    this.c.quotes = (id, records, views) => this.rich.withQuotes(id, records, views);
    this.expiry = new Expiry(this.c, this.outbox);
    this.searchIndex = new SearchIndex({ conversations: () => [...this.metas.values()].filter((m) => m.selfSync !== true), history: (id) => this.store.history(id) });
    this.c.onApplied = (t) => this.searchIndex.observe(t);
    this.attachments = new ConversationAttachments(this.c, this.outbox, (e) => deps.onTransfer?.(e));
    this.announce = new Announcements(this.c, this.outbox);
    this.adds = new DeviceAdds(this.c, this.epochs);
    this.welcomes = new WelcomeJoin(this.c);
    const m = this.membership;
    this.sync = new DeviceSync(this.c, this.outbox, {
      create: (name) => m.create(name),
      leave: (id) => m.leave(id),
      delete: (id) => m.delete(id),
      addDevices: (id, devices) => this.adds.addDevices(id, devices),
    });
    const { c, epochs, invites, healing, announce, outbox, receipts, sync } = this;
    this.effects = new ChatEffects({ deps, c, epochs, invites, healing, announce, outbox, receipts, sync, reportBug: (err) => this.reportBug(err), touch: (id) => this.touch(id) });
  }

  /** Restore from IndexedDB: conversation metadata and pending commits only (group states load on demand). */
  static async open(deps: ChatDeps): Promise<ChatService> {
    const s = new ChatService(deps);
    await s.c.load();
    // Receipts that were due when the worker stopped go out now.
    for (const m of s.metas.values()) if (!isDueEmpty(m.receiptsDue)) s.receipts.soon(m.id);
    // Disappearing messages that fell due while the worker slept go now (expiry.ts); the timer is armed for the rest.
    void s.expiry.sweep().catch(() => undefined);
    return s;
  }

  /** Cancel the receipts due to go out a moment from now (they stay due in the store); see receipt-sender.ts. */
  cancelTimers(): void {
    this.receipts.cancelTimers();
    this.expiry.stop();
    this.searchIndex.clear();
  }

  /**
   * This worker stops and another may open the same store (BackgroundApp.stop): refuse every state change
   * from now on, the one under way included, so it neither writes nor acknowledges what the next one must see.
   */
  halt(): void {
    this.cancelTimers();
    this.healing.healer.stop();
    this.c.closed = true;
  }

  /** Signing out or deleting the account: let the state change under way finish, then refuse every other. */
  close(): Promise<void> {
    this.cancelTimers();
    this.healing.healer.stop();
    return this.c.serial(async () => {
      this.c.closed = true;
    });
  }

  // -- reading -------------------------------------------------------------------

  /** Every mailbox to listen to: one per live conversation. */
  mailboxes(): MailboxCredentials[] {
    return this.c.mailboxes();
  }

  summaries(): ConversationSummary[] {
    return this.c.summaries();
  }

  unreadTotal(): number {
    return this.c.unreadTotal();
  }

  /** The most recently active conversation we can post in. */
  mostRecentActive(): string | undefined {
    return this.summaries().find((s) => s.status === 'active')?.id;
  }

  detail(id: string): Promise<ConversationDetail> {
    return this.c.detail(id);
  }

  page(id: string, beforeSeq: number | null, limit: number): Promise<MessagePage> {
    return this.c.page(id, beforeSeq, limit);
  }

  /** Search the texts of one conversation or all (search-index.ts: in memory only, gone when locked). */
  search(query: string, id: string | null): Promise<SearchResult> {
    if (id !== null) this.c.meta(id);
    return this.searchIndex.search(query, id);
  }

  // -- this device's list ----------------------------------------------------------

  /** Pin or archive a conversation in this person's list (list-placement.ts). */
  place(id: string, change: Placement): Promise<void> {
    return this.c.place(id, change);
  }

  /** Mute notifications until then (undefined: unmute). Unread counts go on either way. */
  setMute(id: string, until: number | undefined): Promise<void> {
    return this.c.setMute(id, until);
  }

  /** The person read the conversation to its end: move the "read up to" marker, and owe read receipts. */
  async markRead(id: string): Promise<void> {
    const had = this.c.meta(id).unread > 0;
    await this.receipts.markRead(id);
    // Our other devices clear it too (device-sync.ts); best effort: the next read tells them again.
    if (had) void this.sync.read(id).catch(() => undefined);
  }

  /** The conversation of only our devices (device-sync.ts), made the first time: linking adds each new device to it. */
  selfConversation(): Promise<string> {
    return this.sync.selfConversation();
  }

  // -- sending -----------------------------------------------------------------------

  /** A text, as MIMI content (rich-messages.ts); `inReplyTo` makes it a reply quoting that message. */
  async sendText(id: string, body: string, inReplyTo?: string, mentions?: readonly MentionSpan[]): Promise<MessageView> {
    const view = await this.rich.sendText(id, body, inReplyTo, mentions);
    this.epochs.selfUpdateIfDue(id);
    this.expiry.arm();
    return view;
  }

  /** The conversation's disappearing-message timer, for everyone (expiry.ts); 0 turns it off. */
  setTimer(id: string, seconds: TimerSeconds): Promise<void> {
    return this.expiry.setTimer(id, seconds);
  }

  /** Delete the disappearing messages due by `now` from this device's store (the timer does it by itself). */
  expireDue(now?: number): Promise<number> {
    return this.expiry.sweep(now);
  }

  /** Reactions, edits and delete for everyone (rich-messages.ts, docs/rich-messages.md). */
  react(id: string, messageId: string, emoji: string): Promise<void> {
    return this.rich.react(id, messageId, emoji);
  }

  unreact(id: string, messageId: string, emoji: string): Promise<void> {
    return this.rich.unreact(id, messageId, emoji);
  }

  edit(id: string, messageId: string, body: string): Promise<void> {
    return this.rich.edit(id, messageId, body);
  }

  deleteForEveryone(id: string, messageId: string): Promise<void> {
    return this.rich.deleteForEveryone(id, messageId);
  }

  /** Encrypt one application message and queue it (outbox.ts); also how tests act as a member sending anything. */
  private sendApp(id: string, app: AppMessage, record?: Recorder): Promise<void> {
    return this.outbox.sendApp(id, app, record);
  }

  /** Post everything waiting in the outbox, oldest first; stops at the first network failure. */
  async flush(): Promise<void> {
    // Our Commits left pending by a worker that stopped, first: until they settle nothing else can change those groups.
    await this.epochs.repostRestored().catch((err: unknown) => {
      if (classify(err).kind === 'bug' && !(err instanceof ChannelError)) this.reportBug(err);
    });
    await this.outbox.flush();
    // Welcomes of confirmed Adds that could not go out before (device-adds.ts); a failure waits for the next flush.
    await this.adds.postWelcomes().catch((err: unknown) => {
      if (classify(err).kind === 'bug' && !(err instanceof ChannelError)) this.reportBug(err);
    });
  }

  retry(id: string, messageId: string): Promise<MessageView> {
    return this.outbox.retry(id, messageId);
  }

  // -- changing the group ----------------------------------------------------------------

  async create(name: string): Promise<string> {
    const id = await this.membership.create(name);
    void this.healing.slots.membershipChanged(id, true);
    return id;
  }

  rename(id: string, name: string): Promise<void> {
    return this.membership.rename(id, name);
  }

  /** An empty Commit with a fresh path: new leaf and path keys for us, a new epoch for all. */
  selfUpdate(id: string): Promise<void> {
    return this.epochs.selfUpdate(id);
  }

  removeMember(id: string, memberId: string): Promise<void> {
    return this.membership.removeMember(id, memberId);
  }

  /** One device's leaves in one Commit (device-removal.ts). */
  removeMembers(id: string, memberIds: readonly string[]): Promise<void> {
    return this.membership.removeMembers(id, memberIds);
  }

  /**
   * The members of a conversation whose checked `person` proof (roster and
   * leaf binding signed) names this identity key and device key: where one
   * of our devices has its leaves (device-removal.ts).
   */
  leavesOfDevice(id: string, identityKey: string, deviceKey: string): string[] {
    const proofs = this.metas.get(id)?.proofs ?? {};
    return Object.entries(proofs)
      .filter(([, p]) => p.signed && p.identityKey === identityKey && p.deviceKey === deviceKey)
      .map(([memberId]) => memberId);
  }

  setAdmin(id: string, memberId: string, admin: boolean): Promise<void> {
    return this.membership.setAdmin(id, memberId, admin);
  }

  setInvitePolicy(id: string, policy: InvitePolicyView): Promise<void> {
    return this.membership.setInvitePolicy(id, policy);
  }

  /** Leave; our other devices leave too (device-sync.ts, best effort). */
  async leave(id: string): Promise<void> {
    await this.membership.leave(id);
    void this.sync.did('leave', id).catch(() => undefined);
  }

  /** Delete for me (membership.ts); on our other devices too (device-sync.ts, best effort). */
  async delete(id: string): Promise<void> {
    await this.membership.delete(id);
    void this.sync.did('delete', id).catch(() => undefined);
  }

  /** End for everyone (membership.ts). */
  end(id: string): Promise<void> {
    return this.membership.end(id);
  }

  // -- invites -------------------------------------------------------------------------

  createInvite(id: string, mode: InviteMode, expiresInHours: number): Promise<{ link: string; expiresAt: number; inviteId: string }> {
    return this.invites.create(id, mode, expiresInHours);
  }

  listInvites(id: string): { invites: InviteView[]; revoked: boolean } {
    return this.invites.list(id);
  }

  inviteLink(id: string, inviteId: string): Promise<{ link: string }> {
    return this.invites.link(id, inviteId);
  }

  revokeInvite(id: string, inviteId: string): Promise<void> {
    return this.invites.revoke(id, inviteId);
  }

  join(link: string): Promise<string> {
    return this.joining.join(link);
  }

  // -- the directory -------------------------------------------------------------------

  /** This device's address (device-address.ts), for others to add it without a link. */
  deviceAddress(): Promise<DeviceAddress> {
    const directory = this.deps.directory;
    if (directory === undefined) return Promise.reject(new ChannelError(ErrorCode.Unavailable, text.NO_DIRECTORY));
    return directory.address();
  }

  /** Add devices by their addresses: KeyPackages from the directory, one Add Commit, a Welcome each (device-adds.ts). */
  async addDevices(id: string, devices: readonly DeviceAddress[], welcomeName?: string): Promise<void> {
    // A device of ours (linking adds it everywhere) joins the conversation of our devices first (device-sync.ts);
    // best effort: the next conversation it is added to tries again.
    if (!this.sync.isSelf(id)) await this.sync.includeOwn(devices).catch(() => undefined);
    return this.adds.addDevices(id, devices, welcomeName);
  }

  /** A new conversation with these devices in it; if they cannot be added, it is deleted again. */
  async startDirect(devices: readonly DeviceAddress[], name: string): Promise<string> {
    checkDevices(devices);
    const id = await this.create(name);
    try {
      // Named after the person here; on their devices, after us (the name the Welcome carries).
      await this.addDevices(id, devices, this.deps.identity().displayName);
    } catch (err) {
      // A Welcome that did not go out still leaves its device a member: keep the conversation then.
      if (!(err instanceof WelcomeNotDelivered)) await this.delete(id).catch(() => undefined);
      throw err;
    }
    return id;
  }

  // -- telling the group ---------------------------------------------------------------

  /** Our token key changed (a new period): tell every conversation. */
  /** A restored conversation's names and history (backup/restored-history.ts). */
  get restored(): RestoredConversations {
    return new RestoredConversations(this.c);
  }
  announceTokenKeyEverywhere(): void {
    this.announce.tokenKeyEverywhere();
  }

  /** A visible system message in every live conversation. */
  warnEverywhere(body: string): Promise<void> {
    return this.announce.warnEverywhere(body);
  }

  /** Our display name changed: tell every conversation, and note it in each. */
  announceName(): Promise<void> {
    return this.announce.name();
  }

  /** Our identity and the people we verified; undefined without them (tests that build a bare chat). */
  get people(): ChatDeps['people'] {
    return this.deps.people;
  }

  /** Mark a person of this conversation verified, or not (identity/verify-person.ts). */
  setVerified(id: string, personKey: string, verified: boolean): Promise<void> {
    return setVerified(this.c, id, personKey, verified);
  }

  /** Our roster changed (a device linked or removed): tell every conversation (identity/own-identity.ts). */
  announcePersonEverywhere(): void {
    this.announce.personEverywhere();
  }

  // -- receiving -----------------------------------------------------------------------

  /** Handle one delivery from our mailbox (push or fetch); acknowledges it once applied. */
  async receive(mailboxId: string, m: DeliveredMessage): Promise<void> {
    await this.c.serial(() => this.handle(mailboxId, m)).catch((err: unknown) => {
      // Not acknowledged, so the relay delivers it again later; one delivery that fails never stops the next.
      // A ChannelError is the service saying no (signed out, the group state gone), not a fault to report.
      if (classify(err).kind === 'bug' && !(err instanceof ChannelError)) this.reportBug(err);
      else console.error('MicroChat: a delivery could not be handled', err instanceof Error ? err.name : typeof err);
    });
  }

  private async handle(mailboxId: string, m: DeliveredMessage): Promise<void> {
    const c = this.c;
    const hash = hashOf(m.payload);
    const ack = (): void => this.deps.ack(mailboxId, [m.id]);
    for (const [id, p] of c.pending) {
      if (p.hash === hash) {
        await this.adopt(id, p);
        ack();
        return;
      }
    }
    if (await this.store.isSeen(hash)) return ack();
    if (m.kind === 'welcome') {
      const joined = await this.welcomes.receive(hash, m.payload);
      ack();
      // Our own mailbox first, so the group is told the one we keep.
      if (joined !== undefined) void this.welcomes.moveToOwnMailbox(joined.id).finally(() => joined.effects.forEach((e) => this.effects.run(joined.id, e)));
      return;
    }
    const framed = m.kind === 'group' ? this.frame(hash, m.payload) : null;
    const meta = framed === null ? undefined : this.metas.get(framed.groupId);
    if (framed === null || meta === undefined) {
      await c.apply({ seen: [hash] });
      return ack();
    }
    const group = meta.status === 'active' ? await this.group(meta.id).catch((err: unknown) => this.broken(meta.id, err)) : undefined;
    const outcome = await interpret(framed, {
      meta,
      group,
      pending: c.pending.get(meta.id),
      selfName: this.deps.identity().displayName,
      readReceipts: this.receipts.readReceipts(),
      now: Date.now(),
      ...(this.deps.people === undefined
        ? {}
        : { verified: this.deps.people.verified.all(), own: this.deps.people.own, ownIdentityKey: this.deps.people.own.identityKey }),
    });
    // A later epoch than ours (missed Commits), or our epoch as others do not hold it (a fork): healing/healer.ts.
    if (group !== undefined) this.healing.delivered(meta.id, framed.message, group, outcome.transition.metas !== undefined);
    await this.adoptOwnRoster(outcome);
    if (outcome.receipt !== undefined) {
      const counted = await this.receipts.count(meta.id, outcome.receipt);
      if (counted.length > 0) outcome.transition.messages = [...(outcome.transition.messages ?? []), ...counted];
    }
    // A reaction, edit or delete: applied to the record it names, if the rules let it (rich-record.ts).
    if (outcome.rich !== undefined) {
      const changed = await this.rich.resolve(meta.id, outcome.rich);
      if (changed.length > 0) outcome.transition.messages = [...(outcome.transition.messages ?? []), ...changed];
    }
    // A message id already taken (the same content sent twice) would fail the whole transaction: the first stays.
    if (outcome.transition.messages !== undefined) outcome.transition.messages = await this.rich.withoutTaken(meta.id, outcome.transition.messages);
    await this.conclude(meta.id, outcome, ack);
    this.attachments.received(meta.id, outcome.transition.messages);
  }

  /** The stored group state does not open or decode: the healer rejoins; the delivery stays unacknowledged and comes again. */
  private broken(id: string, err: unknown): never {
    if (!(err instanceof ChannelError)) this.healing.healer.report(id, 'state');
    throw err;
  }

  /** One of our other devices announced a newer roster of ours: build on it (own-identity.ts `adoptRoster`). */
  private async adoptOwnRoster(outcome: Outcome): Promise<void> {
    const own = this.deps.people?.own;
    const seen = own === undefined ? undefined : outcome.transition.metas?.[0]?.rosters?.[own.identityKey];
    // Best effort: the roster comes again with that device's next announcement.
    if (seen !== undefined && seen.version >= own!.roster.version) await own!.adoptRoster(seen).catch(() => false);
    // A roster of ours without this device: one of our devices removed it (device-removal.ts).
    if (seen !== undefined && !rosterHas(own!.roster, own!.deviceKey)) this.deps.onRemovedFromAccount?.();
  }

  /** The clear header of a group message; null (drop it) when the bytes are not one. */
  private frame(hash: string, payload: Uint8Array): Framed | null {
    try {
      return frame(hash, payload);
    } catch (err) {
      // Malformed bytes are hostile and dropped silently; a fault of ours in decoding is reported, then dropped too.
      if (classify(err).kind !== 'hostile') this.reportBug(err);
      return null;
    }
  }

  /** Our own Commit came back in queue order: its state is now the group's. */
  private async adopt(id: string, p: PendingCommit): Promise<void> {
    const meta = this.metas.get(id);
    if (meta === undefined) return;
    // No group state to compare with (it went meanwhile): the Commit is described as if we were joining.
    const before = meta.status === 'joining' ? undefined : await this.group(id).catch(() => undefined);
    const outcome = ownCommitReturned(p, { meta, group: before, selfName: this.deps.identity().displayName, now: Date.now(), ...(this.deps.people === undefined ? {} : { own: this.deps.people.own }) });
    await this.conclude(id, outcome);
  }

  private group(id: string): ReturnType<Conversations['group']> {
    return this.c.group(id);
  }

  /** Apply an outcome in one transaction, acknowledge the delivery, then run its effects in order. */
  private async conclude(id: string, outcome: Outcome, ack?: () => void): Promise<void> {
    await this.c.apply(outcome.transition);
    ack?.();
    if (outcome.transition.metas?.some((m) => m.expiring !== undefined) === true) this.expiry.arm();
    for (const e of outcome.effects) this.effects.run(id, e);
  }

  /** Something the members list shows changed outside the conversation's record: a newer summary makes an open list reload. */
  private touch(id: string): Promise<void> {
    return this.c.serial(async () => {
      const meta = this.metas.get(id);
      if (meta !== undefined) await this.c.apply({ metas: [{ ...meta, lastActivity: Math.max(Date.now(), meta.lastActivity + 1) }] });
    });
  }

  private reportBug(err: unknown): void {
    if (this.deps.onBug !== undefined) this.deps.onBug(err);
    else console.error('MicroChat: a fault of ours while handling a delivery', err);
  }
}
