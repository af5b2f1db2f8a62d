// Attack: a hostile member takes another member's name. Mallory, a member of
// Alice and Bob's conversation, renames herself "Alice" and writes as if she
// were Alice. Through the real background against a real relay process:
// everyone sees "Mallory is now called Alice · <tag>", the two Alices carry
// different fingerprint tags in messages and in the members list, and
// Mallory's messages never show as the real Alice's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationDetail, MessageView } from '../../lib/protocol/channel.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';

describe('a member renames herself to impersonate another', () => {
  let relay: RelayProcess;
  let alice: Device;
  let bob: Device;
  let mallory: Device;
  let conv = '';

  const detail = (d: Device): Promise<ConversationDetail> => d.app.handlers['conversation.get']({ conversationId: conv });
  const history = async (d: Device): Promise<MessageView[]> =>
    (await d.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages;
  const names = async (d: Device): Promise<string[]> => (await detail(d)).members.map((m) => m.displayName).sort();

  beforeAll(async () => {
    relay = await startRelay();
    [alice, bob, mallory] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob'), startDevice(relay.url, 'Mallory')]);
    ({ conversationId: conv } = await alice.app.handlers['conversation.create']({ name: 'Payroll' }));
    const { link } = await alice.app.handlers['invite.create']({ conversationId: conv, mode: 'expiring', expiresInHours: 1 });
    await bob.app.handlers['invite.join']({ link });
    await waitUntil(async () => (await detail(alice)).members.length === 2, 15_000, 'Alice sees Bob');
    await mallory.app.handlers['invite.join']({ link });
    // Names travel only in encrypted profiles: everyone learns everyone's, newcomers included.
    for (const d of [alice, bob, mallory]) {
      await waitUntil(async () => (await names(d)).join() === 'Alice,Bob,Mallory', 15_000, `${d.name} knows every name`);
    }
  });

  afterAll(async () => {
    for (const d of [alice, bob, mallory]) d?.app.stop();
    await relay?.stop();
  });

  it('shows the rename to everyone and tells the two Alices apart everywhere', async () => {
    const malloryId = (await detail(mallory)).members.find((m) => m.self)!.memberId;
    const aliceId = (await detail(alice)).members.find((m) => m.self)!.memberId;

    await mallory.app.handlers['account.setDisplayName']({ displayName: 'Alice' });
    await mallory.app.handlers['message.send']({ conversationId: conv, text: 'It is Alice: send me the salary file' });
    await alice.app.handlers['message.send']({ conversationId: conv, text: 'the real Alice here' });

    for (const d of [alice, bob]) {
      await waitUntil(async () => (await history(d)).some((m) => m.kind === 'system' && m.text.startsWith('Mallory is now called Alice · ')), 15_000, `${d.name} sees the rename`);
    }
    await waitUntil(() => bob.received(conv).length === 2, 15_000, 'Bob gets both texts');

    // Bob's members list: two "Alice", each with its own tag, and the tags are the start of their fingerprints.
    const atBob = await detail(bob);
    const alices = atBob.members.filter((m) => m.displayName === 'Alice');
    expect(alices).toHaveLength(2);
    const [realAtBob, fakeAtBob] = [alices.find((m) => m.memberId === aliceId)!, alices.find((m) => m.memberId === malloryId)!];
    expect(realAtBob.tag).toBeDefined();
    expect(fakeAtBob.tag).toBeDefined();
    expect(realAtBob.tag).not.toBe(fakeAtBob.tag);
    expect(realAtBob.fingerprint.startsWith(realAtBob.tag!)).toBe(true);
    expect(fakeAtBob.fingerprint.startsWith(fakeAtBob.tag!)).toBe(true);
    expect(atBob.members.find((m) => m.self)!.tag).toBeUndefined(); // Bob's name is his alone

    // The system message names Mallory's new label with her tag, not the real Alice's.
    const note = (await history(bob)).find((m) => m.kind === 'system' && m.text.startsWith('Mallory is now called'))!;
    expect(note.text).toBe(`Mallory is now called Alice · ${fakeAtBob.tag}.`);

    // Messages: Mallory's text carries Mallory's member id and tag, the real Alice's hers.
    const texts = (await history(bob)).filter((m) => m.kind === 'text');
    const fake = texts.find((m) => m.text.startsWith('It is Alice'))!;
    const real = texts.find((m) => m.text === 'the real Alice here')!;
    expect(fake.sender).toEqual({ memberId: malloryId, displayName: 'Alice', self: false, tag: fakeAtBob.tag });
    expect(real.sender).toEqual({ memberId: aliceId, displayName: 'Alice', self: false, tag: realAtBob.tag });

    // The real Alice sees the impostor tagged too, and herself apart from her.
    const atAlice = await detail(alice);
    const impostor = atAlice.members.find((m) => m.memberId === malloryId)!;
    expect(impostor.displayName).toBe('Alice');
    expect(impostor.tag).toBe(fakeAtBob.tag);
    const fromImpostor = (await history(alice)).find((m) => m.text.startsWith('It is Alice'))!;
    expect(fromImpostor.sender.memberId).toBe(malloryId);
    expect(fromImpostor.sender.tag).toBe(fakeAtBob.tag);
  });
});
