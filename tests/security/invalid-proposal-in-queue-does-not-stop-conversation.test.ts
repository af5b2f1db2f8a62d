/**
 * Attack, end to end: invalid proposals posted to a conversation's queue at a
 * real relay, read by real background workers. A hostile member (Bob) posts
 * an Add whose KeyPackage reuses its init key as encryption key; an outsider
 * (Mallory, who learnt the queue id, the group id and the epoch, and, worst
 * case, this epoch's queue capability, without which the relay would refuse
 * her post outright) posts a `new_member_proposal` Add of the same kind. Were either cached, every
 * member's next send would first try to commit it and fail (V-APP-1 then
 * V-KP-4): the conversation would stop.
 *
 * Defence: the engine validates proposals on receipt (V-KP-4) and refuses
 * proposals from new members (V-SND-4); nothing is cached, and everyone
 * goes on writing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatService } from '../../lib/background/chat-service.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromB64, toB64 } from '../../lib/bytes.ts';
import { SenderType, WireFormat } from '../../lib/mls/framing/framing.ts';
import { encodeMessage, proposeAdd, type GroupState } from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import { queueCapability } from '../../lib/background/queue-capability.ts';
import { keyPackageWithInitKeyReused, outsiderProposal } from '../mls/group-fixture.ts';
import { startDevice, waitUntil, withInviteStandIn, type Device } from '../integration/support/device.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

/** The parts of a device's chat service this test reaches into (the attacker controls their own device). */
interface ChatInternals {
  metas: Map<string, { queue: string }>;
  store: { isSeen(hash: string): Promise<boolean> };
  group(id: string): Promise<GroupState>;
  deps: {
    wallet: () => { spend(f: (token: never) => Promise<string>): Promise<string> };
    api: () => { send(queue: Uint8Array, cap: Uint8Array, token: never, payload: Uint8Array): Promise<string> };
  };
}
const internals = (d: Device): ChatInternals => (d.app as unknown as { chat: ChatInternals }).chat;

/** Post raw bytes to the conversation's queue with `from`'s own send tokens. */
async function post(from: Device, queue: Uint8Array, cap: Uint8Array, payload: Uint8Array): Promise<void> {
  const deps = internals(from).deps;
  await deps.wallet().spend((token) => deps.api().send(queue, cap, token, payload));
}

describe('invalid proposals in the queue do not stop the conversation (real relay)', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let m: Device;
  let conv = '';

  beforeAll(async () => {
    relay = await startRelay();
    const { fetch } = await withInviteStandIn(relay.url);
    [a, b, m] = await Promise.all([startDevice(relay.url, 'Alice', { fetch }), startDevice(relay.url, 'Bob', { fetch }), startDevice(relay.url, 'Mallory', { fetch })]);
    await waitUntil(() => [a, b, m].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'all online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Plans' }));
    const invite = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: invite.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.length === 2, 15_000, 'A sees B');
  });

  afterAll(async () => {
    for (const d of [a, b, m]) d?.app.stop();
    await relay?.stop();
  });

  it('a member\'s invalid Add and an outsider\'s new_member_proposal are dropped; both members still write and read', async () => {
    const alice = internals(a);
    const queue = fromB64(alice.metas.get(conv)!.queue)!;
    const state = await internals(b).group(conv);
    await waitUntil(async () => (await alice.group(conv)).context.epoch === state.context.epoch, 10_000, 'same epoch');

    const bad = await keyPackageWithInitKeyReused(state.suite.id, 'ghost');
    const fromMember = await proposeAdd(state, bad.keyPackage, { wireFormat: WireFormat.publicMessage });
    const outsider = await keyPackageWithInitKeyReused(state.suite.id, 'outsider');
    const fromOutsider = await outsiderProposal(
      state,
      { proposalType: ProposalType.add, add: { keyPackage: outsider.keyPackage } },
      { senderType: SenderType.newMemberProposal },
      outsider.signaturePrivateKey,
    );
    const payloads = [encodeMessage(fromMember.message), encodeMessage(fromOutsider)];
    const cap = queueCapability(state);
    await post(b, queue, cap, payloads[0]!);
    await post(m, queue, cap, payloads[1]!);
    // Both proposals reach both members and are handled (the chat marks a delivery seen either way).
    const hashes = payloads.map((p) => toB64(sha256(p)));
    const handled = async (d: Device): Promise<boolean> => (await Promise.all(hashes.map((h) => internals(d).store.isSeen(h)))).every(Boolean);
    await waitUntil(async () => (await handled(a)) && (await handled(b)), 15_000, 'proposals delivered');

    // They were dropped: nothing pending, nothing to commit before writing.
    await a.app.handlers['message.send']({ conversationId: conv, text: 'still here?' });
    await b.app.handlers['message.send']({ conversationId: conv, text: 'yes' });
    await waitUntil(() => b.received(conv).includes('still here?') && a.received(conv).includes('yes'), 15_000, 'both read each other');
    expect((await alice.group(conv)).pendingProposals).toHaveLength(0);
    expect((await internals(b).group(conv)).pendingProposals).toHaveLength(0);
    // And either can still change the group: a self-update moves both to the next epoch.
    const before = (await a.app.handlers['conversation.get']({ conversationId: conv })).epoch;
    await (a.app as unknown as { chat: ChatService }).chat.selfUpdate(conv);
    await waitUntil(async () => (await b.app.handlers['conversation.get']({ conversationId: conv })).epoch === before + 1, 10_000, 'next epoch at B');
    await b.app.handlers['message.send']({ conversationId: conv, text: 'after the update' });
    await waitUntil(() => a.received(conv).includes('after the update'), 10_000, 'A reads B');
    expect((await a.app.handlers['conversation.get']({ conversationId: conv })).members).toHaveLength(2);
  });
});
