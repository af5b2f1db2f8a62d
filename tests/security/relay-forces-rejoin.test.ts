// Attacker: the relay, which frames every delivery and answers every read, tries to make a device rejoin
// a conversation it is fine in, over and over, or to fork it (docs/self-healing.md, "What an attacker can
// do"). The signals that start a heal are all its to forge:
//  - 'gap':     a PrivateMessage whose clear header names a later epoch than ours;
//  - 'fork':    two at our epoch whose authenticated_data carries another epoch's fork tag;
//  - 'mailbox': "mailbox unknown" for a mailbox it still holds;
// and, when the device asks for the group's GroupInfo, an older copy of the slot blob (a rollback).
// Defence (healing/rejoin.ts RJ-CUR-1/2, healer.ts): a heal first reads the slot's GroupInfo, which only
// members can sign; when it is the state the device holds, nothing is committed and no token spent, and
// the attempt counts as a failure, so the healer's doubling backoff spaces the next one; a GroupInfo older
// than the device's state is never committed against. Counted over a simulated day of forged signals:
// at most the backoff's bound of attempts, not one Commit, no message history lost, the conversation goes on.
import { describe, expect, it } from 'vitest';
import { fromB64, randomBytes, toB64 } from '../../lib/bytes.ts';
import { decodeRejoinTicket } from '../../lib/background/healing/rejoin-ticket.ts';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS } from '../../lib/background/healing/backoff.ts';
import type { Healer } from '../../lib/background/healing/healer.ts';
import type { Conversations } from '../../lib/background/conversations.ts';
import { decodeMessage, encodeMessage, framedHeader, WireFormat, type MLSMessage } from '../../lib/mls/group.ts';
import { ContentType, ProtocolVersion } from '../../lib/mls/framing/framing.ts';
import { relaySuite } from '../support/relay-suite.ts';
import { waitUntil, type Device } from '../integration/support/device.ts';
import { chatOf, exchange, keptPair, notes } from '../integration/support/heal-pair.ts';

const convs = (d: Device): Conversations => (chatOf(d) as unknown as { c: Conversations }).c;
const running = (h: Healer): Set<string> => (h as unknown as { running: Set<string> }).running;

/** A PrivateMessage of the conversation as the relay can make one: a clear header of its choosing, random ciphertext. */
function forged(groupId: Uint8Array, epoch: bigint, authenticatedData: Uint8Array): Uint8Array {
  const message = {
    version: ProtocolVersion.mls10,
    wireFormat: WireFormat.privateMessage,
    privateMessage: { groupId, epoch, contentType: ContentType.application, authenticatedData, encryptedSenderData: randomBytes(48), ciphertext: randomBytes(120) },
  } as unknown as MLSMessage;
  return encodeMessage(message);
}

/** A send to the relay that posts a Commit (what a rejoin posts; texts and receipts are not counted). */
function isCommitSend(input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): boolean {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!url.endsWith('/v1/queues/send') || typeof init?.body !== 'string') return false;
  const payload = fromB64((JSON.parse(init.body) as { payload: string }).payload);
  return payload !== null && framedHeader(decodeMessage(payload))?.isCommit === true;
}

const FORK_TAG_PREFIX = new TextEncoder().encode('mcfk1');
const foreignTag = (): Uint8Array => Uint8Array.from([...FORK_TAG_PREFIX, ...randomBytes(8)]);

describe('a hostile relay tries to make a device rejoin needlessly', () => {
  const suite = relaySuite();

  it('forged later epochs, fork tags and "mailbox unknown" over a simulated day: attempts bounded by the backoff, no Commit, nothing lost', async () => {
    // Bob's Commits to the relay are counted: a needless rejoin would post an external Commit.
    let sends = 0;
    const counting: typeof fetch = (input, init) => {
      if (isCommitSend(input, init)) sends++;
      return fetch(input, init);
    };
    const { alice, bob, id } = await keptPair(suite, { fetch: counting });
    await exchange(alice, bob, id, 'before the attack');
    const historyBefore = (await bob.app.handlers['messages.page']({ conversationId: id, beforeSeq: null, limit: 200 })).messages.map((m) => m.id);
    const epochBefore = (await alice.app.handlers['conversation.get']({ conversationId: id })).epoch;
    const group = await convs(bob).group(id);
    const groupId = group.context.groupId;
    const mailboxId = convs(bob).metas.get(id)!.mailbox!.mailboxId;

    const healer = chatOf(bob).healing.healer;
    let now = Date.now();
    (healer as unknown as { timing: { baseMs: number; maxMs: number; now: () => number } }).timing = { baseMs: BACKOFF_BASE_MS, maxMs: BACKOFF_MAX_MS, now: () => now };
    const sendsBefore = sends;
    const DAY = 24 * 3600_000;
    const STEP = 5 * 60_000;
    // The bound the backoff sets: doubling from base up to the cap, then one per cap, over the day (and the first).
    const bound = Math.ceil(Math.log2(BACKOFF_MAX_MS / BACKOFF_BASE_MS)) + 1 + Math.ceil(DAY / BACKOFF_MAX_MS) + 1;
    let relayId = 0;
    const push = (payload: Uint8Array): Promise<void> => chatOf(bob).receive(mailboxId, { id: `forged${String(relayId++).padStart(14, '0')}`, kind: 'group', payload });
    for (let t = 0; t < DAY; t += STEP) {
      now += STEP;
      switch ((t / STEP) % 3) {
        case 0:
          await push(forged(groupId, group.context.epoch + 7n, foreignTag()));
          break;
        case 1:
          await push(forged(groupId, group.context.epoch, foreignTag()));
          await push(forged(groupId, group.context.epoch, foreignTag()));
          break;
        default:
          healer.mailboxGone(mailboxId);
      }
      await waitUntil(() => running(healer).size === 0, 30_000, 'the attempt to end');
      // Without the defence every signal is a rejoin: stop early rather than post hundreds of Commits.
      if (healer.attempts.length > bound) break;
    }
    const attempts = healer.attempts.filter((a) => a.id === id);
    console.log(`forged signals over a simulated day: ${Math.floor(DAY / STEP)} steps, ${attempts.length} heal attempts (bound ${bound}), reasons ${[...new Set(attempts.map((a) => a.reason))].join(', ')}`);
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.length).toBeLessThanOrEqual(bound);
    expect(new Set(attempts.map((a) => a.reason))).toEqual(new Set(['gap', 'fork', 'mailbox']));
    // Each later attempt waited out the doubling backoff after the one before.
    for (let i = 1; i < attempts.length; i++) {
      expect(attempts[i]!.at - attempts[i - 1]!.at).toBeGreaterThanOrEqual(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (i - 1)));
    }
    // Not one Commit posted (so no token spent on one); the group's epoch is where it was, nobody was told of a rejoin.
    expect(sends - sendsBefore).toBe(0);
    expect((await alice.app.handlers['conversation.get']({ conversationId: id })).epoch).toBe(epochBefore);
    expect((await notes(alice, id)).some((n) => /rejoined/.test(n))).toBe(false);
    expect((await notes(bob, id)).some((n) => /may be missing/.test(n))).toBe(false);

    // Nothing of the history is lost, and the conversation goes on both ways.
    const historyAfter = (await bob.app.handlers['messages.page']({ conversationId: id, beforeSeq: null, limit: 200 })).messages.map((m) => m.id);
    expect(historyAfter).toEqual(historyBefore);
    await exchange(alice, bob, id, 'after the attack');
  }, 300_000);

  it('an older GroupInfo served for the slot (a rollback) is never committed against', async () => {
    // The relay keeps the slot blob of an earlier epoch and serves it once the group has moved on.
    let replay: { slot: string; body: string } | undefined;
    let sends = 0;
    const hostile: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (isCommitSend(input, init)) sends++;
      // It also says yes to registering the mailbox with that epoch's (stale) capability.
      if (replay !== undefined && url.endsWith('/v1/queues/register')) return new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } });
      const res = await fetch(input, init);
      if (replay !== undefined && url.includes(replay.slot) && (init?.method ?? 'GET') === 'GET') return new Response(replay.body, { status: 200, headers: { 'content-type': 'application/json' } });
      return res;
    };
    const { alice, bob, id } = await keptPair(suite, { fetch: hostile });
    const ticket = (await chatOf(bob).healing.ticketFor(id))!;
    const slot = toB64(decodeRejoinTicket(ticket).slotId);
    const oldBlob = await (await fetch(`${suite.relay.url}/v1/invites/${slot}`)).text();
    expect(oldBlob.length).toBeGreaterThan(0);
    // The group moves on (a Commit of Alice's); both are at the new epoch and the slot holds its GroupInfo.
    await chatOf(alice).selfUpdate(id);
    await exchange(alice, bob, id, 'at the new epoch');
    const epoch = (await bob.app.handlers['conversation.get']({ conversationId: id })).epoch;
    replay = { slot, body: oldBlob };

    const sendsBefore = sends;
    await expect(chatOf(bob).healing.heal(id, ticket)).rejects.toMatchObject({ code: 'invalid-input' });
    expect(sends - sendsBefore).toBe(0);
    expect((await bob.app.handlers['conversation.get']({ conversationId: id })).epoch).toBe(epoch);
    expect((await alice.app.handlers['conversation.get']({ conversationId: id })).epoch).toBe(epoch);
    replay = undefined;
    await exchange(alice, bob, id, 'after the replay');
  }, 180_000);
});
