/**
 * Joining by external Commit, from an invite link.
 *
 * Our mailbox is registered to the queue BEFORE we read the GroupInfo we
 * commit against (for a reusable invite we read it a second time), so any
 * Commit that beats ours reaches us and voids the join (inbox.ts) instead of
 * leaving us on a fork nobody else follows. A one-time invite can be read
 * only once; there a small window remains. The join is then confirmed by the
 * relay's order like any Commit of ours (external-commit.ts, epoch-sync.ts).
 */
import { getCipherSuite } from '../crypto/suites.ts';
import { encodeMessage, generateIdentity, joinByExternalCommit, members } from '../mls/group.ts';
import { toB64 } from '../bytes.ts';
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import type { ConversationMeta, PendingCommit } from './chat-store.ts';
import { relayProblem } from './chat-errors.ts';
import { roleCapabilities } from './conversation-roles.ts';
import { hashOf, type Conversations } from './conversations.ts';
import type { EpochSync } from './epoch-sync.ts';
import { joinProblem, postExternalCommit } from './external-commit.ts';
import { parseInviteLink } from './invite.ts';
import { retryOnConflict } from './join-retry.ts';
import type { Invites } from './invites.ts';
import { newPseudonym } from './member-names.ts';
import type { MailboxCredentials } from './relay-api.ts';
import * as text from './text.ts';

export class Join {
  constructor(
    private readonly c: Conversations,
    private readonly epochs: EpochSync,
    private readonly invites: Invites,
  ) {}

  async join(link: string): Promise<string> {
    // A reusable invite holds the newer GroupInfo once the members have seen the Commit that beat ours.
    return retryOnConflict(() => this.joinOnce(link), {
      laterFailure: (again, conflict) => (again instanceof ChannelError && again.code === ErrorCode.NotFound ? conflict : again),
    });
  }

  private async joinOnce(link: string): Promise<string> {
    const c = this.c;
    const l = parseInviteLink(link);
    const me = c.deps.identity();
    if (l.relayUrl !== me.relayUrl) throw new ChannelError(ErrorCode.InvalidInput, text.otherRelay(l.relayUrl, me.relayUrl));
    const api = c.deps.api();
    // The mailbox first: the fewer round trips between reading the GroupInfo and
    // registering to the queue, the smaller the window in which a Commit could slip by.
    let mailbox: MailboxCredentials;
    try {
      mailbox = await c.newMailbox();
    } catch (err) {
      throw relayProblem(err, text.Activity.join);
    }
    let listening = false;
    const abandon = (queue?: Uint8Array, cap?: Uint8Array): void => {
      // Best effort: an abandoned registration or mailbox expires at the relay, and the join has failed anyway.
      if (queue !== undefined && cap !== undefined) void api.unregisterQueue(queue, cap, mailbox.mailboxId).catch(() => undefined);
      if (listening) c.deps.onMailbox?.({ removed: mailbox.mailboxId });
      void api.deleteMailbox(mailbox).catch(() => undefined);
    };
    let { content, gi } = await this.invites.fetch(l.inviteId, l.key, l.verifyKey).catch((err: unknown) => {
      abandon();
      throw err;
    });
    const id = toB64(gi.groupInfo.groupContext.groupId);
    const existing = c.metas.get(id);
    if (existing?.status === 'active' || (existing?.status === 'joining' && c.pending.has(id))) {
      abandon();
      if (existing.status === 'active') return id;
      throw new ChannelError(ErrorCode.Unavailable, text.ALREADY_JOINING);
    }
    const registeredWith = content.capability;
    try {
      await api.registerQueue(content.queue, registeredWith, mailbox);
    } catch (err) {
      abandon();
      // Stale: the invite's GroupInfo is older than the queue's epoch; members republish it soon.
      throw joinProblem(err);
    }
    // The second read only freshens the GroupInfo; without it the first one is still good to try.
    const fresher = await this.invites.fetch(l.inviteId, l.key, l.verifyKey).catch(() => undefined);
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
      throw new ChannelError(ErrorCode.InvalidInput, text.INVITE_INVALID, { cause });
    }
    const payload = encodeMessage(joined.commit);
    const p: PendingCommit = { hash: hashOf(payload), baseEpoch: Number(gi.groupInfo.groupContext.epoch), state: joined.state };
    await c.serial(async () => {
      const meta: ConversationMeta = {
        v: 1,
        id,
        name: content.name.trim() || text.UNNAMED_CONVERSATION,
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
      await c.apply({ metas: [meta], pending: [{ id, value: p }] });
    });
    // Listen only now that the conversation is known as joining: whatever the queue
    // delivered since we registered (a Commit that beat ours) is judged against it.
    c.deps.onMailbox?.({ added: mailbox });
    listening = true;
    await postExternalCommit(c, this.epochs, { queue: content.queue, cap: content.capability, payload, hash: p.hash, state: joined.state }, async () => {
      await c.forget(id);
      abandon(content.queue, registeredWith);
    });
    return id;
  }
}
