/**
 * People over a real relay: Alice has two devices that share her identity
 * key; Bob sees her as one person with two devices, compares the safety
 * number and marks her verified. Then a device Alice's identity does not
 * vouch for joins claiming to be hers: Bob's conversation gets the warning
 * and her mark turns to "changed"; the impostor is listed apart, never as
 * one of her devices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PersonView } from '../../lib/protocol/channel.ts';
import * as text from '../../lib/background/text.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';
import { announceAgain, injectUnvouchedDevice, linkIdentity, ownIdentityOf, personSeenBy } from './support/identity.ts';

describe('identity over a real relay', () => {
  let relay: RelayProcess;
  let alice1: Device;
  let alice2: Device;
  let bob: Device;
  let conv = '';
  const people = async (d: Device): Promise<PersonView[]> => (await d.app.handlers['conversation.get']({ conversationId: conv })).people;
  const aliceIn = async (d: Device): Promise<PersonView | undefined> => (await people(d)).find((p) => p.personKey === ownIdentityOf(alice1).identityKey);
  const systemTexts = async (d: Device): Promise<string[]> =>
    (await d.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages.filter((m) => m.kind === 'system').map((m) => m.text);

  beforeAll(async () => {
    relay = await startRelay();
    [alice1, alice2, bob] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [alice1, alice2, bob].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'all online');
    await linkIdentity(alice1, alice2, 'Firefox on Linux');
    ({ conversationId: conv } = await bob.app.handlers['conversation.create']({ name: 'Trip' }));
    const inv = await bob.app.handlers['invite.create']({ conversationId: conv, mode: 'expiring', expiresInHours: 1 });
    await alice1.app.handlers['invite.join']({ link: inv.link });
    await alice2.app.handlers['invite.join']({ link: inv.link });
  });

  afterAll(async () => {
    for (const d of [alice1, alice2, bob]) d?.app.stop();
    await relay?.stop();
  });

  it('Bob sees Alice as one person with two devices; Alice sees her other device as her own', async () => {
    await waitUntil(async () => (await aliceIn(bob))?.devices.length === 2, 20_000, 'Bob sees both of Alice’s devices');
    const bobsView = await people(bob);
    expect(bobsView).toHaveLength(2);
    const alice = (await aliceIn(bob))!;
    expect(alice).toMatchObject({ displayName: 'Alice', self: false, verification: 'unverified' });
    expect(alice.devices.map((d) => d.name).sort()).toEqual([ownIdentityOf(alice1).roster.devices[0]!.name, 'Firefox on Linux'].sort());
    expect(alice.devices.every((d) => typeof d.addedAt === 'number')).toBe(true);

    await waitUntil(async () => (await people(alice1)).find((p) => p.self)?.devices.length === 2, 20_000, 'Alice sees her two devices as hers');
    const mine = (await people(alice1)).find((p) => p.self)!;
    expect(mine.personKey).toBe(ownIdentityOf(alice1).identityKey);
    // The same safety number on both sides.
    const bobOnAlice1 = (await people(alice1)).find((p) => !p.self)!;
    expect(bobOnAlice1.safetyNumber).toBe(alice.safetyNumber);
    expect(alice.safetyNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
  });

  it('Bob marks Alice verified', async () => {
    const alice = (await aliceIn(bob))!;
    await bob.app.handlers['person.verify']({ conversationId: conv, personKey: alice.personKey });
    expect((await aliceIn(bob))!.verification).toBe('verified');
    // A person key nobody here proved is refused.
    await expect(bob.app.handlers['person.verify']({ conversationId: conv, personKey: 'leaf:nobody' })).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('a device Alice’s identity does not vouch for puts Bob’s conversation in the warning state and her mark to changed', async () => {
    const mallory = await startDevice(relay.url, 'Alice');
    try {
      await waitUntil(() => mallory.app.snapshot.connection === 'online', 15_000, 'Mallory online');
      injectUnvouchedDevice(mallory, ownIdentityOf(alice1), 'not-in-roster');
      const inv = await bob.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
      await mallory.app.handlers['invite.join']({ link: inv.link });
      await waitUntil(async () => (await systemTexts(bob)).includes(text.unvouchedDevice('Alice')), 20_000, 'the warning in Bob’s conversation');
      await waitUntil(async () => (await aliceIn(bob))?.verification === 'changed', 10_000, 'Alice’s mark changed');
      const view = await people(bob);
      // Mallory is listed on her own, not as one of Alice's devices.
      expect((await aliceIn(bob))!.devices).toHaveLength(2);
      expect(view.filter((p) => p.personKey.startsWith('leaf:'))).toHaveLength(1);
      // Verifying Alice again (after comparing the number) clears the mark; Mallory stays apart.
      await bob.app.handlers['person.verify']({ conversationId: conv, personKey: ownIdentityOf(alice1).identityKey });
      expect((await aliceIn(bob))!.verification).toBe('verified');
    } finally {
      mallory.app.stop();
    }
  });

  it('so does a member who learns Alice’s identity in the conversation and then claims it with another identity’s roster', async () => {
    // What an e2e test does, where Alice's keys live in a browser: the impostor joins as itself, reads her claim, then forges.
    const mallory = await startDevice(relay.url, 'Alice');
    try {
      await waitUntil(() => mallory.app.snapshot.connection === 'online', 15_000, 'Mallory online');
      const warnings = async (): Promise<number> => (await systemTexts(bob)).filter((t) => t === text.unvouchedDevice('Alice')).length;
      const before = await warnings();
      const inv = await bob.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
      await mallory.app.handlers['invite.join']({ link: inv.link });
      const alice1Id = (await people(bob)).find((p) => p.personKey === ownIdentityOf(alice1).identityKey)!.devices[0]!.memberId;
      await waitUntil(() => {
        try {
          return personSeenBy(mallory, conv, alice1Id).identityKey === ownIdentityOf(alice1).identityKey;
        } catch {
          return false;
        }
      }, 20_000, 'Mallory has seen Alice’s claim');
      expect(await warnings()).toBe(before); // as herself, Mallory is just another member
      injectUnvouchedDevice(mallory, personSeenBy(mallory, conv, alice1Id), 'other-identity');
      announceAgain(mallory);
      await waitUntil(async () => (await warnings()) === before + 1, 20_000, 'a second warning');
      await waitUntil(async () => (await aliceIn(bob))?.verification === 'changed', 10_000, 'Alice’s mark changed again');
      expect((await aliceIn(bob))!.devices).toHaveLength(2);
    } finally {
      mallory.app.stop();
    }
  });
});
