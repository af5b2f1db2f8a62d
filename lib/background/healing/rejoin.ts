/**
 * Rejoining a conversation by resync (RFC 9420 §12.4.3.2): read the current
 * GroupInfo from the ticket's rejoin slot, and send an external Commit that
 * removes our own stale leaf, signed with that leaf's key so the members'
 * engines accept the Remove (V-EC-6: only the joiner's own earlier leaf, same
 * credential and signature key). Confirmed by the relay's order like any
 * join (join.ts, epoch-sync.ts).
 *
 *  - heal: the conversation is here but its state cannot go on (healer.ts).
 *    Its record, history and mailbox stay; if our Commit loses the race it
 *    goes back to how it was, and the healer tries again later.
 *  - restore: the conversation is not here at all (a device restored from a
 *    backup). It is made from the slot: name, queue, a mailbox of its own.
 *
 * Our leaf comes back with the same credential and signature key, so members
 * keep knowing it as the same member (its member id is a hash of that key),
 * with its name and `person` proof; they read "Alice's device rejoined".
 */
import { getCipherSuite } from '../../crypto/suites.ts';
import { encodeMessage, joinByExternalCommit, members, type MLSMessage } from '../../mls/group.ts';
import { treeFromGroupInfo } from '../../mls/join/group-join.ts';
import { CredentialType } from '../../mls/tree/credential.ts';
import type { LeafIndex } from '../../mls/tree/tree-math.ts';
import { bytesEqual, toB64 } from '../../bytes.ts';
import { ChannelError, ErrorCode } from '../../protocol/channel.ts';
import type { ConversationMeta, PendingCommit } from '../chat-store.ts';
import { roleCapabilities } from '../conversation-roles.ts';
import { hashOf, type Conversations } from '../conversations.ts';
import type { EpochSync } from '../epoch-sync.ts';
import { joinProblem, postExternalCommit } from '../external-commit.ts';
import { isGone } from '../failure.ts';
import type { Invites } from '../invites.ts';
import { retryOnConflict } from '../join-retry.ts';
import type { MailboxCredentials } from '../relay-api.ts';
import * as text from '../text.ts';
import * as heal from './heal-text.ts';
import { decodeRejoinTicket, RejoinTicketError, ticketConversationId, type RejoinTicket } from './rejoin-ticket.ts';
import { resyncMarker, type ResyncKind } from './resync-marker.ts';

type GroupInfoMessage = Awaited<ReturnType<Invites['fetch']>>['gi'];

/** RJ-CUR-1: the conversation is as the group's current GroupInfo says: there was nothing to heal (a false signal). */
export class NothingToHeal extends ChannelError {
  constructor() {
    super(ErrorCode.InvalidInput, heal.NOT_NEEDED);
  }
}

export class Rejoin {
  constructor(
    private readonly c: Conversations,
    private readonly epochs: EpochSync,
    private readonly invites: Invites,
  ) {}

  /**
   * Rejoin `id` from `ticket` (rejoin-ticket.ts bytes). `kind` is what the
   * members are told; `name` names a conversation made here (restore) when
   * the slot's name is empty.
   */
  async rejoin(id: string, ticket: Uint8Array, kind: ResyncKind, name?: string): Promise<void> {
    const t = parse(id, ticket);
    // Someone else's Commit came first: the slot holds the newer GroupInfo once the members have seen it.
    // Once more only: each try spends a token, and a heal is retried later with its own backoff anyway.
    await retryOnConflict(() => this.once(id, t, kind, name), { pausesMs: [1_000] });
  }

  private async once(id: string, t: RejoinTicket, kind: ResyncKind, name: string | undefined): Promise<void> {
    const c = this.c;
    const me = c.deps.identity();
    if (t.relayUrl !== undefined && t.relayUrl !== me.relayUrl) throw new ChannelError(ErrorCode.InvalidInput, text.otherRelay(t.relayUrl, me.relayUrl));
    const existing = c.metas.get(id);
    if (existing?.status === 'joining') throw new ChannelError(ErrorCode.Unavailable, text.ALREADY_JOINING);
    if (existing !== undefined && existing.status !== 'active') throw new ChannelError(ErrorCode.Forbidden, heal.REMOVED);
    const api = c.deps.api();
    const slotId = toB64(t.slotId);
    const read = async (): Promise<{ content: Awaited<ReturnType<Invites['fetch']>>['content']; gi: GroupInfoMessage }> => {
      const got = await this.invites.fetch(slotId, t.slotKey, t.slotVerifyKey).catch((err: unknown) => {
        throw err instanceof ChannelError && err.code === ErrorCode.NotFound ? new ChannelError(ErrorCode.NotFound, heal.SLOT_GONE, { cause: err }) : err;
      });
      // A slot is signed with a key derived from the group's own secrets; a blob for another group is damage or forgery.
      if (toB64(got.gi.groupInfo.groupContext.groupId) !== id) throw new ChannelError(ErrorCode.InvalidInput, heal.TICKET_BAD);
      return got;
    };
    let { content, gi } = await read();
    // Our mailbox: the conversation's own while it still exists at the relay (it expires with the messages
    // it held), else a new one. Registered before we read the GroupInfo we commit against, as join.ts does.
    let mailbox = existing?.mailbox;
    let fresh = false;
    try {
      if (mailbox !== undefined) await api.registerQueue(content.queue, content.capability, mailbox).catch((err: unknown) => {
        // The relay no longer knows the mailbox (its idle time ran out with the messages it held).
        if (!isGone(err)) throw err;
        mailbox = undefined;
      });
      if (mailbox === undefined) {
        mailbox = await c.newMailbox();
        fresh = true;
        await api.registerQueue(content.queue, content.capability, mailbox);
      }
    } catch (err) {
      if (fresh && mailbox !== undefined) void api.deleteMailbox(mailbox).catch(() => undefined);
      throw joinProblem(err);
    }
    const box: MailboxCredentials = mailbox;
    const abandon = (): void => {
      if (!fresh) return;
      void api.unregisterQueue(content.queue, content.capability, box.mailboxId).catch(() => undefined);
      void api.deleteMailbox(box).catch(() => undefined);
    };
    // The second read only freshens the GroupInfo; without it the first one is still good to try.
    const fresher = await read().catch(() => undefined);
    if (fresher !== undefined) ({ content, gi } = fresher);

    // RJ-CUR-1/2: a heal is for a state that cannot go on. The signals that start one can be forged by the relay
    // (a later epoch number, changed fork tags, "mailbox unknown"), the GroupInfo cannot (the slot key is the
    // members'): when it is the state we hold, nothing is committed and no token spent, only a mailbox the relay
    // no longer knew is replaced; an older one than ours (a replayed slot blob) is never committed against.
    if (existing !== undefined) {
      const ours = await c.group(id).catch(() => undefined);
      const theirs = gi.groupInfo.groupContext;
      if (ours !== undefined && theirs.epoch < ours.context.epoch) {
        abandon();
        throw new ChannelError(ErrorCode.InvalidInput, heal.OLDER_STATE);
      }
      if (ours !== undefined && theirs.epoch === ours.context.epoch && bytesEqual(theirs.confirmedTranscriptHash, ours.context.confirmedTranscriptHash)) {
        if (fresh) {
          await c.serial(() => c.apply({ metas: [{ ...existing, mailbox: box }] }));
          if (existing.mailbox !== undefined) c.deps.onMailbox?.({ removed: existing.mailbox.mailboxId });
          c.deps.onMailbox?.({ added: box });
        }
        throw new NothingToHeal();
      }
    }
    const suite = getCipherSuite(gi.groupInfo.groupContext.cipherSuite);
    const oldLeaf = ownLeafIn(gi, t);
    if (oldLeaf === undefined) {
      abandon();
      // Our leaf is not in the group any more: we were removed (or left). Nobody's secrets let us back in.
      throw new ChannelError(ErrorCode.Forbidden, heal.REMOVED);
    }
    const identity = {
      credential: { credentialType: CredentialType.basic, identity: t.credentialIdentity },
      signaturePublicKey: t.signaturePublicKey,
      signaturePrivateKey: t.signaturePrivateKey,
    };
    let joined: Awaited<ReturnType<typeof joinByExternalCommit>>;
    try {
      joined = await joinByExternalCommit(gi, identity, { capabilities: roleCapabilities(suite), removeLeaf: oldLeaf, authenticatedData: resyncMarker(kind) });
    } catch (cause) {
      abandon();
      throw new ChannelError(ErrorCode.InvalidInput, heal.TICKET_BAD, { cause });
    }
    const payload = encodeMessage(joined.commit);
    const p: PendingCommit = { hash: hashOf(payload), baseEpoch: Number(gi.groupInfo.groupContext.epoch), state: joined.state };
    const meta: ConversationMeta =
      existing !== undefined
        ? { ...existing, status: 'joining', rejoining: 'heal', mailbox: box, cap: toB64(content.capability), queue: toB64(content.queue) }
        : {
            v: 1,
            id,
            name: content.name.trim() || name?.trim() || text.UNNAMED_CONVERSATION,
            status: 'joining',
            rejoining: 'restore',
            queue: toB64(content.queue),
            mailbox: box,
            unread: 0,
            lastActivity: Date.now(),
            nextSeq: 0,
            memberCount: members(joined.state).length,
            epoch: Number(joined.state.context.epoch),
            invites: [],
            pseudonym: toB64(t.credentialIdentity),
            cap: toB64(content.capability),
          };
    await c.serial(() => c.apply({ metas: [meta], pending: [{ id, value: p }] }));
    if (fresh) {
      // A mailbox that replaces the conversation's old one (gone at the relay): stop listening to the old one.
      if (existing?.mailbox !== undefined) c.deps.onMailbox?.({ removed: existing.mailbox.mailboxId });
      c.deps.onMailbox?.({ added: box });
    }
    await postExternalCommit(c, this.epochs, { queue: content.queue, cap: content.capability, payload, hash: p.hash, state: joined.state }, async () => {
      await this.undo(id, existing);
      abandon();
    });
  }

  /** The Commit did not go out: the conversation is as it was before (or not here, for a restore). */
  private async undo(id: string, before: ConversationMeta | undefined): Promise<void> {
    const c = this.c;
    if (before === undefined) return c.forget(id);
    await c.serial(() => c.apply({ metas: [before], pending: [{ id, value: null }] }));
  }
}

function parse(id: string, ticket: Uint8Array): RejoinTicket {
  let t: RejoinTicket;
  try {
    t = decodeRejoinTicket(ticket);
  } catch (cause) {
    if (cause instanceof RejoinTicketError) throw new ChannelError(ErrorCode.InvalidInput, heal.TICKET_BAD, { cause });
    throw cause;
  }
  if (ticketConversationId(t) !== id) throw new ChannelError(ErrorCode.InvalidInput, heal.TICKET_BAD);
  return t;
}

/** Our old leaf in the GroupInfo's tree: the one with our signature key and credential; undefined if we are not in it. */
function ownLeafIn(gi: MLSMessage & GroupInfoMessage, t: RejoinTicket): LeafIndex | undefined {
  const suite = getCipherSuite(gi.groupInfo.groupContext.cipherSuite);
  const tree = treeFromGroupInfo(suite, gi.groupInfo, undefined);
  const at = (i: number): boolean => {
    const leaf = tree.leaf(i as LeafIndex);
    return (
      leaf !== undefined &&
      bytesEqual(leaf.signatureKey, t.signaturePublicKey) &&
      leaf.credential.credentialType === CredentialType.basic &&
      bytesEqual(leaf.credential.identity, t.credentialIdentity)
    );
  };
  if (t.leafIndex < tree.leafCount && at(t.leafIndex)) return t.leafIndex as LeafIndex;
  for (let i = 0; i < tree.leafCount; i++) if (at(i)) return i as LeafIndex;
  return undefined;
}
