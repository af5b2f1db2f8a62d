/**
 * A conversation's invites (invite.ts has the format). Every member
 * re-publishes the encrypted, signed GroupInfo of each new epoch under every
 * live invite it knows of; a Commit that removes someone revokes them all
 * (invite-revocation.ts). The link's keys stay with the conversation, so an
 * open invite can be copied again.
 */
import { decodeMessage, encodeMessage, exportGroupInfo, WireFormat, type MLSMessage } from '../mls/group.ts';
import { fromB64, randomBytes, randomId, toB64 } from '../bytes.ts';
import { ChannelError, ErrorCode, type InviteMode, type InviteView } from '../protocol/channel.ts';
import { relayProblem } from './chat-errors.ts';
import { requireRole, rolesView } from './conversation-roles.ts';
import type { Conversations } from './conversations.ts';
import { isGone } from './failure.ts';
import { formatInviteLink, inviteLinkOf, newInviteSigningKey, openInvite, sealInvite, type InviteContent } from './invite.ts';
import type { Outbox } from './outbox.ts';
import { queueCapability } from './queue-capability.ts';
import * as text from './text.ts';
import { isSlot } from './healing/rejoin-slot.ts';

const nowS = (): number => Math.floor(Date.now() / 1000);

export type GroupInfoMessage = MLSMessage & { wireFormat: typeof WireFormat.groupInfo };

export class Invites {
  constructor(
    private readonly c: Conversations,
    private readonly outbox: Outbox,
  ) {}

  async create(id: string, mode: InviteMode, expiresInHours: number): Promise<{ link: string; expiresAt: number; inviteId: string }> {
    const c = this.c;
    const meta = c.activeMeta(id);
    const state = await c.group(id);
    requireRole(rolesView(state).canInvite, text.ONLY_ADMINS_INVITE);
    const inviteId = randomId();
    const key = randomBytes(32);
    const writeKey = randomBytes(32);
    const { signingKey, verifyKey } = newInviteSigningKey();
    // A minute short of the longest the relay allows (30 days), so clock skew cannot push it over.
    const expiresAt = nowS() + Math.min(expiresInHours * 3600, 30 * 86_400 - 60);
    const groupInfo = encodeMessage(await exportGroupInfo(state));
    const ciphertext = await sealInvite(key, inviteId, { groupInfo, queue: fromB64(meta.queue)!, capability: queueCapability(state), name: meta.name }, signingKey);
    try {
      // Storing an invite costs a sealed-sender token, like a message: bounded per account, unlinkable to it.
      const oneTime = mode === 'one-time';
      await c.deps.wallet().spend((token) => c.deps.api().createInvite({ inviteId, writeKey, ciphertext, expiresAt, oneTime, token }));
    } catch (err) {
      throw relayProblem(err, text.Activity.createInvite);
    }
    const invite = { inviteId, key: toB64(key), writeKey: toB64(writeKey), signingKey: toB64(signingKey), expiresAt, oneTime: mode === 'one-time' };
    const republish = await c.serial(async () => {
      const m = c.metas.get(id);
      if (m !== undefined) await c.apply({ metas: [{ ...m, invites: [...m.invites, invite], invitesRevoked: false }] });
      // The epoch moved on while the relay was storing the blob: publish the current GroupInfo.
      return c.groups.get(id)?.context.epoch !== state.context.epoch;
    });
    if (republish) await this.publish(id);
    // Let the other members keep the invite's GroupInfo current too. Best effort: ours stays current either way.
    void this.outbox.sendApp(id, { v: 1, t: 'invite', id: randomId(), at: Date.now(), ...invite }).catch(() => undefined);
    return { link: formatInviteLink({ relayUrl: c.deps.identity().relayUrl, inviteId, key, verifyKey }), expiresAt: expiresAt * 1000, inviteId };
  }

  /**
   * The conversation's invites that have not expired, newest first (the links' keys stay here),
   * and whether the earlier ones were revoked because the membership changed.
   */
  list(id: string): { invites: InviteView[]; revoked: boolean } {
    const meta = this.c.activeMeta(id);
    const now = nowS();
    const invites = meta.invites
      .filter((i) => i.expiresAt > now && i.signingKey !== undefined && !isSlot(i))
      .map((i) => ({ inviteId: i.inviteId, mode: i.oneTime ? ('one-time' as const) : ('expiring' as const), expiresAt: i.expiresAt * 1000 }))
      .reverse();
    return { invites, revoked: meta.invitesRevoked === true };
  }

  /** The code of an open invite, rebuilt from the keys kept with the conversation, to copy it again. */
  async link(id: string, inviteId: string): Promise<{ link: string }> {
    this.c.activeMeta(id);
    // Ask the relay first (republishing answers 404 for an invite it no longer has, which is then
    // forgotten): a one-time invite read by someone who never joined leaves no Commit to tell us.
    // Offline, the code is given as it is known.
    await this.publish(id);
    const meta = this.c.activeMeta(id);
    const invite = meta.invites.find((i) => i.inviteId === inviteId && i.expiresAt > nowS() && !isSlot(i));
    const link = invite === undefined ? null : inviteLinkOf(this.c.deps.identity().relayUrl, invite);
    if (link === null) throw new ChannelError(ErrorCode.NotFound, text.INVITE_CLOSED);
    return { link };
  }

  /**
   * Revoke an invite: the relay deletes its blob, so the link stops working
   * for everyone. Other members who hold it (they keep invites current) get a
   * 404 at their next update and forget it too.
   */
  async revoke(id: string, inviteId: string): Promise<void> {
    const c = this.c;
    const meta = c.activeMeta(id);
    const invite = meta.invites.find((i) => i.inviteId === inviteId);
    if (invite === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_INVITE);
    try {
      await c.deps.api().deleteInvite(inviteId, fromB64(invite.writeKey)!);
    } catch (err) {
      // Gone already (used, expired, or revoked by another member): the link is dead either way.
      if (!isGone(err)) throw relayProblem(err, text.Activity.revokeInvite);
    }
    await c.serial(async () => {
      const m = c.metas.get(id);
      if (m !== undefined) await c.apply({ metas: [{ ...m, invites: m.invites.filter((i) => i.inviteId !== inviteId) }] });
    });
  }

  /** Replace every live invite's blob with this epoch's GroupInfo; forget invites the relay no longer has. */
  async publish(id: string): Promise<void> {
    const c = this.c;
    const meta = c.metas.get(id);
    if (meta === undefined || meta.status !== 'active' || meta.invites.length === 0) return;
    // No group state (it went meanwhile): nothing to publish.
    const state = await c.group(id).catch(() => undefined);
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
        const ct = await sealInvite(fromB64(inv.key)!, inv.inviteId, content, fromB64(inv.signingKey)!);
        try {
          await c.deps.api().updateInvite(inv.inviteId, fromB64(inv.writeKey)!, ct);
        } catch (err) {
          // Anything but "gone" (offline, refused): the blob stays as it was, and the next epoch publishes again.
          if (isGone(err)) gone.push(inv.inviteId);
        }
      }),
    );
    if (gone.length > 0) {
      await c.serial(async () => {
        const m = c.metas.get(id);
        if (m !== undefined) await c.apply({ metas: [{ ...m, invites: m.invites.filter((i) => !gone.includes(i.inviteId)) }] });
      });
    }
  }

  /** Fetch and open an invite blob; a 404 means expired, used, or never existed. */
  async fetch(inviteId: string, key: Uint8Array, verifyKey: Uint8Array): Promise<{ content: InviteContent; gi: GroupInfoMessage }> {
    let blob: Uint8Array;
    try {
      blob = await this.c.deps.api().getInvite(inviteId);
    } catch (err) {
      if (isGone(err)) throw new ChannelError(ErrorCode.NotFound, text.INVITE_EXPIRED);
      throw relayProblem(err, text.Activity.join);
    }
    const content = await openInvite(key, inviteId, blob, verifyKey);
    let gi: MLSMessage;
    try {
      gi = decodeMessage(content.groupInfo);
    } catch (cause) {
      throw new ChannelError(ErrorCode.InvalidInput, text.INVITE_DAMAGED, { cause });
    }
    if (gi.wireFormat !== WireFormat.groupInfo) throw new ChannelError(ErrorCode.InvalidInput, text.INVITE_DAMAGED);
    return { content, gi };
  }
}
