// The inbox without a relay: `interpret(framed, state)` and `ownCommitReturned` are pure, so a
// delivery's meaning (the transaction and the effects) is checked on real MLS groups in memory.
import { beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import {
  createCommit,
  createGroup,
  encodeMessage,
  exportGroupInfo,
  generateIdentity,
  generateKeyPackage,
  joinFromWelcome,
  leaveGroup,
  processMessage,
  removeProposal,
  sendApplicationMessage,
  type GroupState,
  type MLSMessage,
} from '../../lib/mls/group.ts';
import { randomId, toB64 } from '../../lib/bytes.ts';
import { encodeAppMessage, type AppMessage } from '../../lib/background/app-messages.ts';
import type { ConversationMeta, PendingCommit } from '../../lib/background/chat-store.ts';
import { JoinConflict, LostRace } from '../../lib/background/chat-errors.ts';
import { creatorRoles, roleCapabilities } from '../../lib/background/conversation-roles.ts';
import { hashOf } from '../../lib/background/conversations.ts';
import { ownMemberId } from '../../lib/background/group-members.ts';
import { frame, interpret, ownCommitReturned, type Framed, type InboxState } from '../../lib/background/inbox.ts';
import { newPseudonym } from '../../lib/background/member-names.ts';
import * as text from '../../lib/background/text.ts';

const suite = getCipherSuite(1);

/** A group the way the chat makes one: pseudonymous leaves, the creator admin. */
async function member(): Promise<{ id: Awaited<ReturnType<typeof generateIdentity>>; pseudonym: Uint8Array }> {
  const pseudonym = newPseudonym();
  return { id: await generateIdentity(suite, pseudonym), pseudonym };
}

async function twoMembers(): Promise<{ alice: GroupState; bob: GroupState }> {
  const a = await member();
  const creator = await createGroup(suite, a.id, { capabilities: roleCapabilities(suite), groupExtensions: creatorRoles(a.pseudonym) });
  const b = await member();
  const kp = await generateKeyPackage(suite, b.id, { capabilities: roleCapabilities(suite) });
  const add = await createCommit(creator, { proposals: [{ proposalType: 1, add: { keyPackage: kp.keyPackage } }] });
  const bob = await joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys);
  return { alice: add.state, bob };
}

function metaFor(state: GroupState, over: Partial<ConversationMeta> = {}): ConversationMeta {
  return {
    v: 1,
    id: toB64(state.context.groupId),
    name: 'Plans',
    status: 'active',
    queue: toB64(new Uint8Array(32)),
    unread: 0,
    lastActivity: 1,
    nextSeq: 3,
    memberCount: 2,
    epoch: Number(state.context.epoch),
    invites: [],
    ...over,
  };
}

const framed = (msg: MLSMessage): Framed => frame(hashOf(encodeMessage(msg)), encodeMessage(msg))!;

const stateOf = (meta: ConversationMeta, group: GroupState | undefined, over: Partial<InboxState> = {}): InboxState => ({
  meta,
  group,
  pending: undefined,
  selfName: 'Alice',
  readReceipts: true,
  now: 1000,
  ...over,
});

async function appFrom(sender: GroupState, app: AppMessage): Promise<{ msg: MLSMessage; sender: GroupState }> {
  const sent = await sendApplicationMessage(sender, encodeAppMessage(app));
  return { msg: sent.message, sender: sent.state };
}

describe('inbox: interpret (pure, no relay)', () => {
  let alice: GroupState;
  let bob: GroupState;
  let meta: ConversationMeta;

  beforeAll(async () => {
    ({ alice, bob } = await twoMembers());
    meta = metaFor(alice, { names: { [ownMemberId(bob)]: 'Bob' } });
  });

  it('reads the clear header of a group message, and refuses bytes that are not one', async () => {
    const { msg } = await appFrom(bob, { v: 1, t: 'text', id: randomId(), text: 'hi', at: 5 });
    const f = framed(msg);
    expect(f.groupId).toBe(meta.id);
    expect(f.epoch).toBe(alice.context.epoch);
    expect(f.isCommit).toBe(false);
    expect(() => frame('h', new Uint8Array([1, 2, 3]))).toThrow();
    expect(frame('h', encodeMessage(await exportGroupInfo(alice)))).toBeNull();
  });

  it('a text from another member: one transaction with the record, the new ratchet and the unread count; receipts and a notification follow', async () => {
    const id = randomId();
    const { msg } = await appFrom(bob, { v: 1, t: 'text', id, text: 'see you  at\nnoon', at: 5 });
    const f = framed(msg);
    const out = await interpret(f, stateOf(meta, alice));
    expect(out.transition.seen).toEqual([f.hash]);
    expect(out.transition.groups?.[0]?.id).toBe(meta.id);
    expect(out.transition.groups?.[0]?.state).not.toBe(alice);
    const [next] = out.transition.metas!;
    expect(next).toMatchObject({ unread: 1, nextSeq: 4, lastActivity: 1000, lastMessage: { preview: 'see you at noon', senderName: 'Bob', fromSelf: false } });
    expect(next!.receiptsDue?.delivered).toEqual([id]);
    expect(out.transition.messages).toEqual([
      expect.objectContaining({ id, seq: 3, kind: 'text', text: 'see you  at\nnoon', status: 'received', sender: expect.objectContaining({ memberId: ownMemberId(bob), displayName: 'Bob', self: false }) }),
    ]);
    expect(out.effects.map((e) => e.do)).toEqual(['sendReceipts', 'incoming']);
    // Nothing given in was changed.
    expect(meta.unread).toBe(0);
    expect(meta.nextSeq).toBe(3);
  });

  it('a rename writes a system message naming the sender', async () => {
    const { msg } = await appFrom(bob, { v: 1, t: 'rename', id: randomId(), name: 'Trip', at: 5 });
    const out = await interpret(framed(msg), stateOf(meta, alice));
    expect(out.transition.metas![0]!.name).toBe('Trip');
    expect(out.transition.messages!.map((m) => m.text)).toEqual([text.renamed('Bob', 'Trip')]);
    expect(out.effects).toEqual([]);
  });

  it('a receipt becomes claims to count against our own texts, with the current members', async () => {
    const { msg } = await appFrom(bob, { v: 1, t: 'receipt', id: randomId(), at: 5, delivered: ['a'.repeat(22)], read: ['b'.repeat(22)] });
    const out = await interpret(framed(msg), stateOf(meta, alice, { readReceipts: false }));
    expect(out.receipt?.from).toBe(ownMemberId(bob));
    // Read receipts off: a read counts as delivered.
    expect(out.receipt?.claims).toEqual([
      ['a'.repeat(22), 'delivered'],
      ['b'.repeat(22), 'delivered'],
    ]);
    expect([...out.receipt!.members].sort()).toEqual([ownMemberId(alice), ownMemberId(bob)].sort());
    expect(out.transition.messages).toBeUndefined();
  });

  it('a forged or stale message is dropped: only its seen mark, no effect, no report', async () => {
    const { msg } = await appFrom(bob, { v: 1, t: 'text', id: randomId(), text: 'hi', at: 5 });
    const f = framed(msg);
    const forged: Framed = { ...f, message: tamper(f.message) };
    for (const out of [await interpret(forged, stateOf(meta, alice)), await interpret(f, stateOf({ ...meta, status: 'left' }, undefined))]) {
      expect(out).toEqual({ transition: { seen: [f.hash] }, effects: [] });
    }
  });

  it('a fault of ours is not dropped silently: a notice in the conversation and a report', async () => {
    // A GroupInfo is not a framed message: processing one is a misuse of the engine (a bug of ours), not hostile input.
    const gi = await exportGroupInfo(bob);
    const f: Framed = { hash: 'h', message: gi, groupId: meta.id, epoch: 1n, isCommit: false };
    const out = await interpret(f, stateOf(meta, alice));
    expect(out.transition.seen).toEqual(['h']);
    expect(out.transition.messages!.map((m) => m.text)).toEqual([text.SKIPPED_BY_FAULT]);
    expect(out.effects).toEqual([{ do: 'reportBug', error: expect.any(Error) }]);
  });

  it("another member's Commit: the new epoch, what it changed, and our own pending Commit void (LostRace)", async () => {
    const c = await member();
    const kp = await generateKeyPackage(suite, c.id, { capabilities: roleCapabilities(suite) });
    const add = await createCommit(bob, { proposals: [{ proposalType: 1, add: { keyPackage: kp.keyPackage } }] });
    const pending: PendingCommit = { hash: 'ours', baseEpoch: Number(alice.context.epoch), state: alice };
    const out = await interpret(framed(add.commit), stateOf(meta, alice, { pending }));
    const [next] = out.transition.metas!;
    expect(next).toMatchObject({ epoch: Number(alice.context.epoch) + 1, memberCount: 3 });
    expect(out.transition.pending).toEqual([{ id: meta.id, value: null }]);
    expect(out.transition.messages).toHaveLength(1);
    expect(out.transition.messages![0]!.text).toMatch(/ joined\.$/);
    expect(out.effects[0]).toEqual({ do: 'settle', hash: 'ours', error: expect.any(LostRace) });
    // Someone joined: this epoch's rejoin slot is recorded (healing/rejoin-slots.ts); the committer stores it.
    expect(out.effects.map((e) => e.do)).toEqual(['settle', 'publishInvites', 'announceMailbox', 'announceProfile', 'rejoinSlot', 'refreshOutbox']);
    expect(out.effects).toContainEqual({ do: 'rejoinSlot', store: false });
  });

  it('a Commit that removes us: the group state goes (forward secrecy) and the mailbox is detached', async () => {
    // Alice (the admin) removes Bob; Bob's device reads it.
    const removal = await createCommit(alice, { proposals: [removeProposal(bob.ownLeaf)] });
    const atBob = metaFor(bob, { names: { [ownMemberId(alice)]: 'Alice' } });
    const out = await interpret(framed(removal.commit), stateOf(atBob, bob, { selfName: 'Bob' }));
    expect(out.transition.metas![0]!.status).toBe('removed');
    expect(out.transition.groups).toEqual([{ id: atBob.id, state: null }]);
    expect(out.transition.messages).toHaveLength(1);
    expect(out.effects).toEqual([{ do: 'detach', meta: atBob }]);
  });

  it('a proposal (a member leaving) is committed soon by whoever is first', async () => {
    const leaving = await leaveGroup(bob);
    const out = await interpret(framed(leaving.message), stateOf(meta, alice));
    expect(out.transition.groups![0]!.state?.pendingProposals).toHaveLength(1);
    expect(out.effects).toEqual([{ do: 'commitSoon' }]);
  });

  it('while joining, a Commit at our base epoch means our join lost: forget the conversation (JoinConflict)', async () => {
    const commit = await createCommit(bob, { pending: 'all' });
    const joining = metaFor(alice, { status: 'joining' });
    const pending: PendingCommit = { hash: 'join', baseEpoch: Number(bob.context.epoch), state: alice };
    const f = framed(commit.commit);
    const out = await interpret(f, stateOf(joining, undefined, { pending }));
    expect(out.transition).toEqual({ deleteConversation: joining.id, seen: [f.hash] });
    expect(out.effects).toEqual([
      { do: 'settle', hash: 'join', error: expect.any(JoinConflict) },
      { do: 'detach', meta: joining },
    ]);
    // Anything else while joining waits for our own Commit: dropped.
    const { msg } = await appFrom(bob, { v: 1, t: 'text', id: randomId(), text: 'hi', at: 5 });
    expect((await interpret(framed(msg), stateOf(joining, undefined, { pending }))).effects).toEqual([]);
  });
});

describe('inbox: our own Commit comes back', () => {
  it('confirms a join: active, the joiner notes, and the announcements a newcomer makes', async () => {
    const { alice } = await twoMembers();
    const joining = metaFor(alice, { status: 'joining' });
    const p: PendingCommit = { hash: 'join', baseEpoch: 0, state: alice };
    const out = ownCommitReturned(p, { meta: joining, group: undefined, selfName: 'Alice', now: 1000 });
    expect(out.transition.metas![0]).toMatchObject({ status: 'active', lastUpdate: 1000 });
    expect(out.transition.pending).toEqual([{ id: joining.id, value: null }]);
    expect(out.transition.seen).toEqual(['join']);
    expect(out.transition.messages!.at(-1)!.text).toBe(text.YOU_JOINED);
    expect(out.effects.map((e) => e.do)).toEqual(['settle', 'announceMailbox', 'rejoinSlot', 'refreshOutbox', 'publishInvites', 'announceTokenKey', 'announceProfile']);
    // Our own Commit (a join is one) changed the membership: we store the epoch's rejoin slot.
    expect(out.effects).toContainEqual({ do: 'rejoinSlot', store: true });
  });

  it('confirms a removal we made: open invites revoked, the removed member is named', async () => {
    const { alice, bob } = await twoMembers();
    const meta = metaFor(alice, { names: { [ownMemberId(bob)]: 'Bob' }, invites: [{ inviteId: 'i', key: 'k', writeKey: 'w', expiresAt: 9, oneTime: false }] });
    const r = await createCommit(alice, { proposals: [removeProposal(bob.ownLeaf)] });
    const out = ownCommitReturned({ hash: 'rm', baseEpoch: 1, state: r.state }, { meta, group: alice, selfName: 'Alice', now: 1000 });
    const [next] = out.transition.metas!;
    expect(next).toMatchObject({ invites: [], invitesRevoked: true, memberCount: 1 });
    expect(out.transition.messages!.map((m) => m.text).join(' ')).toContain('Bob');
    expect(out.effects).toContainEqual({ do: 'revokeInvites', invites: meta.invites });
    // Processing is still the engine's: our own Commit is never processed again.
    await expect(processMessage(alice, r.commit)).rejects.toThrow();
  });
});

/** The same message with one ciphertext byte flipped. */
function tamper(msg: MLSMessage): MLSMessage {
  if (msg.wireFormat !== 2) throw new Error('expected a PrivateMessage');
  const ct = msg.privateMessage.ciphertext.slice();
  ct[ct.length - 1]! ^= 1;
  return { ...msg, privateMessage: { ...msg.privateMessage, ciphertext: ct } };
}
