/**
 * Keeping a conversation's rejoin slots (rejoin-slot.ts) and our ticket for
 * the newest one (rejoin-ticket.ts).
 *
 *  - After an epoch that changed the membership (and at creation), every
 *    member records that epoch's slot among the conversation's invites; the
 *    member whose Commit it was also stores it at the relay (one token per
 *    change, not one per member). Members then keep its GroupInfo current
 *    like any invite's, and a removal revokes it.
 *  - After any epoch, a member that knows no live slot, or whose newest slot
 *    is due for renewal, stores this epoch's slot itself. So a committer that
 *    could not reach the relay, or a lapse of 30 days, costs one more token
 *    from whoever notices first (a 409 from another member doing the same is
 *    success: the blob is there).
 *  - Only the newest MAX_LIVE_SLOTS stay: older ones are deleted at the relay.
 */
import { encodeMessage, exportGroupInfo, type GroupState } from '../../mls/group.ts';
import { fromB64, toB64 } from '../../bytes.ts';
import { credentialIdentity } from '../../mls/tree/leaf-node-validation.ts';
import type { InviteRecord } from '../chat-store.ts';
import type { Conversations } from '../conversations.ts';
import { classify, isGone, reportIfBug } from '../failure.ts';
import { sealInvite } from '../invite.ts';
import { queueCapability } from '../queue-capability.ts';
import { deriveSlot, isSlot, MAX_LIVE_SLOTS, SLOT_LIFETIME_S, SLOT_RENEW_BEFORE_S, slotRecord, type SlotKeys } from './rejoin-slot.ts';
import { decodeRejoinTicket, encodeRejoinTicket } from './rejoin-ticket.ts';

const nowS = (): number => Math.floor(Date.now() / 1000);

export class RejoinSlots {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly c: Conversations,
    /** Republish every live invite's blob with the current epoch (invites.ts `publish`). */
    private readonly publish: (id: string) => Promise<void>,
  ) {}

  /** Our ticket for the newest slot of this conversation; undefined when we know none yet. */
  ticketFor(id: string): Uint8Array | undefined {
    const t = this.c.metas.get(id)?.rejoinTicket;
    return t === undefined ? undefined : (fromB64(t) ?? undefined);
  }

  /** The epoch changed the membership (or the conversation was just made): record its slot; `store` it at the relay too. */
  membershipChanged(id: string, store: boolean): Promise<void> {
    // One at a time per conversation, in the order asked: two at once would both store the same slot.
    const run = (this.chains.get(id) ?? Promise.resolve()).then(() => this.keep(id, store)).catch((err: unknown) => reportIfBug('rejoin slot', err));
    this.chains.set(id, run);
    void run.finally(() => {
      if (this.chains.get(id) === run) this.chains.delete(id);
    });
    return run;
  }

  /** Any new epoch: store a slot when none is live or the newest is due for renewal. */
  async epochChanged(id: string): Promise<void> {
    const meta = this.c.metas.get(id);
    if (meta === undefined || meta.status !== 'active') return;
    const newest = Math.max(0, ...meta.invites.filter(isSlot).map((i) => i.expiresAt));
    if (newest - nowS() > SLOT_RENEW_BEFORE_S && meta.rejoinTicket !== undefined) return;
    // A slot asked for at this epoch already (a membership change) is recorded first; then this one finds it.
    await this.chains.get(id);
    const again = this.c.metas.get(id);
    const renewed = Math.max(0, ...(again?.invites ?? []).filter(isSlot).map((i) => i.expiresAt));
    if (renewed - nowS() > SLOT_RENEW_BEFORE_S && again?.rejoinTicket !== undefined) return;
    await this.membershipChanged(id, true);
  }

  private async keep(id: string, store: boolean): Promise<void> {
    const c = this.c;
    const meta = c.metas.get(id);
    if (meta === undefined || meta.status !== 'active') return;
    const state = await c.group(id);
    const keys = deriveSlot(state);
    const slotId = toB64(keys.slotId);
    const known = meta.invites.find((i) => i.inviteId === slotId);
    if (known !== undefined && meta.rejoinTicket !== undefined && sameSlot(meta.rejoinTicket, keys)) return;
    const expiresAt = nowS() + SLOT_LIFETIME_S;
    // Stored before it is recorded: the ticket a backup takes must already lead somewhere (a restore right
    // after a membership change found no blob when the store came a few seconds later).
    if (store && known === undefined && !(await this.storeAtRelay(id, state, keys, expiresAt))) return;
    const record = known ?? slotRecord(keys, expiresAt, Number(state.context.epoch));
    const ticket = encodeRejoinTicket(ticketOf(c.deps.identity().relayUrl, state, keys, fromB64(meta.queue)!));
    const { dropped, moved } = await c.serial(async () => {
      const m = c.metas.get(id);
      if (m === undefined || m.status !== 'active') return { dropped: [] as InviteRecord[], moved: false };
      const invites = m.invites.some((i) => i.inviteId === slotId) ? m.invites : [...m.invites, record];
      const slots = invites.filter(isSlot).sort((a, b) => a.slot! - b.slot!);
      const old = slots.slice(0, Math.max(0, slots.length - MAX_LIVE_SLOTS));
      await c.apply({ metas: [{ ...m, invites: invites.filter((i) => !old.includes(i)), rejoinTicket: toB64(ticket) }] });
      return { dropped: old, moved: c.groups.get(id)?.context.epoch !== state.context.epoch };
    });
    // Older slots than the newest few: deleted at the relay (best effort; another member may have done it: a 404 is fine).
    for (const o of dropped) void c.deps.api().deleteInvite(o.inviteId, fromB64(o.writeKey)!).catch(() => undefined);
    // The epoch moved on while the relay stored the blob: publish the current GroupInfo.
    if (moved) await this.publish(id);
  }

  /** POST the slot's blob; true when it is there (ours, or another member's: 409). */
  private async storeAtRelay(id: string, state: GroupState, keys: SlotKeys, expiresAt: number): Promise<boolean> {
    const c = this.c;
    const meta = c.activeMeta(id);
    const inviteId = toB64(keys.slotId);
    const groupInfo = encodeMessage(await exportGroupInfo(state));
    const content = { groupInfo, queue: fromB64(meta.queue)!, capability: queueCapability(state), name: meta.name };
    const ciphertext = await sealInvite(keys.readKey, inviteId, content, keys.signingKey);
    try {
      await c.deps.wallet().spend((token) => c.deps.api().createInvite({ inviteId, writeKey: keys.writeKey, ciphertext, expiresAt, oneTime: false, token }));
      return true;
    } catch (err) {
      // Another member stored the same slot first; a tombstone (a slot revoked at this epoch) answers 409 too,
      // and is forgotten at the next publish (its update answers 404).
      if (classify(err).relayCode === 'conflict') return true;
      if (!isGone(err)) reportIfBug('rejoin slot', err);
      return false;
    }
  }
}

function ticketOf(relayUrl: string, state: GroupState, keys: SlotKeys, queue: Uint8Array): Parameters<typeof encodeRejoinTicket>[0] {
  const leaf = state.tree.leaf(state.ownLeaf)!;
  return {
    relayUrl,
    groupId: state.context.groupId,
    slotId: keys.slotId,
    slotKey: keys.readKey,
    slotVerifyKey: keys.verifyKey,
    queue,
    capability: queueCapability(state),
    leafIndex: state.ownLeaf,
    signaturePublicKey: leaf.signatureKey,
    signaturePrivateKey: state.signaturePrivateKey,
    credentialIdentity: credentialIdentity(leaf.credential),
  };
}

function sameSlot(ticket: string, keys: SlotKeys): boolean {
  const bytes = fromB64(ticket);
  if (bytes === null) return false;
  try {
    return toB64(decodeRejoinTicket(bytes).slotId) === toB64(keys.slotId);
  } catch {
    return false; // a damaged ticket: write it again
  }
}
