/**
 * g. A device that Alice's identity does not vouch for puts Bob's
 * conversation in the warning state. The impostor is a Node device (the real
 * BackgroundApp, tests/integration/support/device.ts) on the same relay: it
 * joins Bob's conversation with Alice by Bob's invite, reads Alice's identity
 * claim there like any member can, and from then on claims to be Alice with
 * her personId and identity key but a roster its own identity signed
 * (tests/integration/support/identity.ts). Bob, who verified Alice, gets the
 * warning in the conversation and her mark turns to "changed"; the impostor
 * is listed apart, never as one of her devices. Comparing the number again
 * and verifying clears the mark.
 */
import { describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  openConversation,
  shownMessages,
  STEP_TIMEOUT,
} from '../../support/chat-driver.ts';
import { startDevice, waitUntil, type Device } from '../../integration/support/device.ts';
import { announceAgain, injectUnvouchedDevice, personSeenBy } from '../../integration/support/identity.ts';
import * as sentences from '../../../lib/background/text.ts';
import { closeMembers, openMembersUntil, shownPeople, showSafetyNumber } from './people.ts';
import { shot, world } from './world.ts';

describe('g. a device Alice’s identity does not vouch for puts Bob’s conversation in the warning state', () => {
  it('an impostor claims Alice’s identity in Bob’s book club: warning, Alice’s mark changed, the impostor listed apart', async () => {
    const { bob, alice } = world;
    const club = await createConversation(bob, 'Book club');
    expect(await joinByLink(alice, await createInvite(bob, 'expiring'))).toBe(club);
    // Alice's claim has reached Bob here: her mark (kept per person, not per conversation) shows.
    await openMembersUntil(bob, 'Alice', 1);
    // Her claim (a `person` message) may come a moment after her join: wait until she is shown as a person, not a leaf.
    await bob.page.waitForSelector('[data-testid="person"][data-name="Alice"]:not([data-person-key^="leaf:"])', { timeout: STEP_TIMEOUT });
    const before = (await shownPeople(bob)).find((p) => p.name === 'Alice')!;
    expect(before.verification).toBe('verified');
    const aliceMember = before.devices[0]!.memberId;
    await closeMembers(bob);

    let impostor: Device | undefined;
    try {
      impostor = await startDevice(world.relay.url, 'Alice');
      const mallory = impostor;
      await waitUntil(() => mallory.app.snapshot.connection === 'online', STEP_TIMEOUT, 'the impostor online');
      const link = await createInvite(bob, 'one-time');
      await mallory.app.handlers['invite.join']({ link });
      // As itself the impostor is just another member, listed apart; it learns what every member learns of Alice.
      await waitUntil(
        () => {
          try {
            return personSeenBy(mallory, club, aliceMember).identityKey === before.personKey;
          } catch {
            return false;
          }
        },
        STEP_TIMEOUT,
        'the impostor has seen Alice’s claim',
      );
      const warning = sentences.unvouchedDevice('Alice');
      expect((await shownMessages(bob)).filter((m) => m.kind === 'system' && m.text.includes(warning))).toHaveLength(0);

      injectUnvouchedDevice(mallory, personSeenBy(mallory, club, aliceMember), 'other-identity');
      announceAgain(mallory);

      await bob.page.waitForFunction(
        (w: string) => [...document.querySelectorAll('[data-testid="message"][data-kind="system"]')].some((m) => (m.textContent ?? '').includes(w)),
        { timeout: STEP_TIMEOUT, polling: 200 },
        warning,
      );
      await shot(bob, 'g1-warning-in-conversation');
      await openMembersUntil(bob, 'Alice', 1);
      await bob.page.waitForSelector('[data-testid="person"][data-name="Alice"][data-verification="changed"] [data-testid="changed-warning"]', {
        timeout: STEP_TIMEOUT,
      });
      const after = await shownPeople(bob);
      const real = after.find((p) => p.personKey === before.personKey)!;
      expect(real.devices.map((d) => d.memberId)).toEqual([aliceMember]);
      const apart = after.filter((p) => p.name === 'Alice' && p.personKey !== before.personKey);
      expect(apart).toHaveLength(1);
      expect(apart[0]!.personKey.startsWith('leaf:')).toBe(true);
      await shot(bob, 'g2-members-changed');

      // The mark is Alice's, not this conversation's: the weekend conversation says "changed" too.
      await closeMembers(bob);
      await openConversation(bob, world.shared);
      await openMembersUntil(bob, 'Alice', 2);
      await bob.page.waitForSelector('[data-testid="person"][data-name="Alice"][data-verification="changed"] [data-testid="changed-mark"]', {
        timeout: STEP_TIMEOUT,
      });
      // Bob compares the number with Alice again (it did not change: her identity key is the same) and verifies her again.
      await showSafetyNumber(bob, 'Alice');
      await bob.page.click('[data-testid="person"][data-name="Alice"] [data-testid="verify-person"]');
      await bob.page.waitForSelector('[data-testid="person"][data-name="Alice"][data-verification="verified"]', { timeout: STEP_TIMEOUT });
      await shot(bob, 'g3-verified-again');
      await closeMembers(bob);
    } finally {
      impostor?.app.stop();
    }
  });
});
