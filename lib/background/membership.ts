/**
 * Who is in a conversation, and the conversation's life: creating it,
 * renaming it, removing a member, the roles (conversation-roles.ts; the engine
 * enforces them, V-ROLE-*), leaving, deleting it here, and ending it for
 * everyone. Group changes are Commits confirmed by the relay's order
 * (epoch-sync.ts); what needs the relay is checked or done before the state
 * here changes, so an offline attempt changes nothing.
 */
import type { CipherSuite } from '../crypto/provider.ts';
import { createGroup, encodeMessage, generateIdentity, leaveGroup, members, removeProposal } from '../mls/group.ts';
import { fromB64, randomBytes, randomId, toB64 } from '../bytes.ts';
import { ChannelError, ErrorCode, type InvitePolicyView } from '../protocol/channel.ts';
import type { ConversationMeta } from './chat-store.ts';
import { relayProblem } from './chat-errors.ts';
import { adminChange, creatorRoles, heirIfLastAdmin, invitePolicyChange, requireRole, roleCapabilities, rolesView } from './conversation-roles.ts';
import { capOf, hashOf, systemMessage, type Conversations } from './conversations.ts';
import type { EpochSync } from './epoch-sync.ts';
import { ENDED_BY_YOU } from './epoch-notes.ts';
import { isGone } from './failure.ts';
import { memberById } from './group-members.ts';
import { revokeAtRelay } from './invite-revocation.ts';
import { newPseudonym } from './member-names.ts';
import type { Outbox } from './outbox.ts';
import { queueCapability } from './queue-capability.ts';
import type { MailboxCredentials } from './relay-api.ts';
import * as text from './text.ts';

function cleanName(name: string): string {
  const clean = name.trim();
  if (clean === '') throw new ChannelError(ErrorCode.InvalidInput, text.NAME_NEEDED);
  return clean;
}

export class Membership {
  constructor(
    private readonly c: Conversations,
    private readonly epochs: EpochSync,
    private readonly outbox: Outbox,
    private readonly suite: CipherSuite,
  ) {}

  async create(name: string): Promise<string> {
    const c = this.c;
    const clean = cleanName(name);
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
      mailbox = await c.newMailbox();
      await c.deps.api().registerQueue(queue, cap, mailbox);
    } catch (err) {
      throw relayProblem(err, text.Activity.create);
    }
    c.deps.onMailbox?.({ added: mailbox });
    return c.serial(async () => {
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
      const msg = systemMessage(meta, text.created(clean));
      await c.apply({ metas: [meta], groups: [{ id, state }], messages: [msg] });
      return id;
    });
  }

  async rename(id: string, name: string): Promise<void> {
    const clean = cleanName(name);
    await this.outbox.sendApp(id, { v: 1, t: 'rename', id: randomId(), name: clean, at: Date.now() }, (meta, msgId) => {
      meta.name = clean;
      return { ...systemMessage(meta, text.youRenamed(clean)), id: msgId };
    });
  }

  async removeMember(id: string, memberId: string): Promise<void> {
    this.c.activeMeta(id);
    const state = await this.c.group(id);
    const target = memberById(state, memberId);
    if (target === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_PERSON);
    if (target.leafIndex === state.ownLeaf) throw new ChannelError(ErrorCode.InvalidInput, text.REMOVE_SELF);
    requireRole(rolesView(state).canRemove, text.ONLY_ADMINS_REMOVE);
    await this.epochs.commit(id, { proposals: [removeProposal(target.leafIndex)] });
  }

  /** Several leaves in one Remove Commit (one device's leaves, device-removal.ts); never our own. */
  async removeMembers(id: string, memberIds: readonly string[]): Promise<void> {
    this.c.activeMeta(id);
    const state = await this.c.group(id);
    const leaves = memberIds.map((m) => memberById(state, m)).filter((t) => t !== undefined);
    if (leaves.length === 0) return;
    if (leaves.some((t) => t.leafIndex === state.ownLeaf)) throw new ChannelError(ErrorCode.InvalidInput, text.REMOVE_SELF);
    requireRole(rolesView(state).canRemove, text.ONLY_ADMINS_REMOVE);
    await this.epochs.commit(id, { proposals: leaves.map((t) => removeProposal(t.leafIndex)) });
  }

  async setAdmin(id: string, memberId: string, admin: boolean): Promise<void> {
    this.c.activeMeta(id);
    const state = await this.c.group(id);
    requireRole(rolesView(state).canChangeRoles, text.ONLY_ADMINS_ROLES);
    const target = memberById(state, memberId);
    if (target === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_PERSON);
    await this.epochs.commit(id, { proposals: [adminChange(state, target.leafIndex, admin)] });
  }

  async setInvitePolicy(id: string, policy: InvitePolicyView): Promise<void> {
    this.c.activeMeta(id);
    const state = await this.c.group(id);
    requireRole(rolesView(state).canChangeRoles, text.ONLY_ADMINS_POLICY);
    await this.epochs.commit(id, { proposals: [invitePolicyChange(state, policy)] });
  }

  async leave(id: string): Promise<void> {
    const c = this.c;
    c.activeMeta(id);
    // Proposals seen first (someone else leaving): committed, so no heir is picked among those going.
    if ((await c.group(id)).pendingProposals.length > 0) await this.epochs.commitPending(id);
    // The last admin hands the role on first: a conversation keeps someone who can remove people.
    const heir = heirIfLastAdmin(await c.group(id));
    if (heir !== undefined) await this.epochs.commit(id, { proposals: [adminChange(await c.group(id), heir, true)] });
    const meta = c.activeMeta(id);
    const queue = fromB64(meta.queue)!;
    const { sent, cap } = await c.serial(async () => {
      const state = await c.group(id);
      return { sent: await leaveGroup(state), cap: queueCapability(state) };
    });
    const payload = encodeMessage(sent.message);
    // Leaving shrinks the membership: revoke the open invites first (whoever commits our leaving does it too,
    // so one we could not reach now goes then).
    await revokeAtRelay(c.deps.api(), meta.invites).catch(() => undefined);
    try {
      await c.serial(() => c.apply({ seen: [hashOf(payload)] }));
      await c.deps.wallet().spend((token) => c.deps.api().send(queue, cap, token, payload));
    } catch (err) {
      throw relayProblem(err, text.Activity.leave);
    }
    await c.close(id, { status: 'left' }, text.YOU_LEFT);
    c.detach(meta);
  }

  /**
   * Delete for me: leave (the others keep the conversation) and remove it from
   * this device. When we are the last member, nobody is left to use the queue:
   * it goes too. Ending it for everyone is `end`.
   */
  async delete(id: string): Promise<void> {
    const c = this.c;
    const meta = c.meta(id);
    const alone = meta.status === 'active' && members(await c.group(id)).length === 1;
    if (meta.status === 'active' && !alone) {
      await this.leave(id);
    } else if (meta.status === 'active') {
      const api = c.deps.api();
      const queue = fromB64(meta.queue)!;
      try {
        // Without a group state the last known capability still opens the queue.
        const state = await c.group(id).catch(() => undefined);
        const cap = state === undefined ? capOf(meta) : queueCapability(state);
        if (cap !== undefined) await api.deleteQueue(queue, cap);
      } catch (err) {
        if (!isGone(err)) throw relayProblem(err, text.Activity.delete);
      }
      await this.deleteInvites(meta);
      c.detach(meta);
    }
    await c.forget(id);
  }

  /**
   * End for everyone (admins; anyone in a conversation without roles): one
   * Commit removes every other member, then the queue and its ciphertext are
   * deleted at the relay. Our history stays until we delete it here too.
   */
  async end(id: string): Promise<void> {
    const c = this.c;
    const meta = c.activeMeta(id);
    const api = c.deps.api();
    // Needs the relay: check first, so an offline attempt changes nothing.
    try {
      await api.limits();
    } catch (err) {
      throw relayProblem(err, text.Activity.end);
    }
    const state = await c.group(id);
    requireRole(rolesView(state).canEnd, text.ONLY_ADMINS_END);
    const others = members(state).filter((m) => m.leafIndex !== state.ownLeaf);
    if (others.length > 0) await this.epochs.commit(id, { proposals: others.map((m) => removeProposal(m.leafIndex)) });
    try {
      await api.deleteQueue(fromB64(meta.queue)!, queueCapability(await c.group(id)));
    } catch (err) {
      if (!isGone(err)) throw relayProblem(err, text.Activity.end);
    }
    const current = c.meta(id);
    await this.deleteInvites(current);
    c.detach(current);
    await c.close(id, { status: 'removed', endedBy: text.YOU }, ENDED_BY_YOU);
  }

  /** Delete the conversation's invite blobs at the relay. */
  private async deleteInvites(meta: ConversationMeta): Promise<void> {
    const api = this.c.deps.api();
    // Best effort: an invite blob left behind expires at the relay, and its GroupInfo is of an epoch nobody follows.
    await Promise.all(meta.invites.map((i) => api.deleteInvite(i.inviteId, fromB64(i.writeKey)!).catch(() => undefined)));
  }
}
