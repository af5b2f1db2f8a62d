/**
 * f. Bob starts a direct conversation with Alice without a link, while she
 * still has two devices: "Message" on Alice in his members list claims one
 * KeyPackage of each of her devices from the relay's directory (by the
 * addresses her roster carries), adds both with one Commit and posts each
 * its Welcome. The conversation then shows on her Chromium and her Firefox,
 * Bob sees her there as one person with both devices, and what each side
 * writes reaches the others (Firefox's text is Alice's own on Chromium).
 */
import { describe, expect, it } from 'vitest';
import { openConversation, send, shownMessages, showList, waitForMessage, STEP_TIMEOUT, type ChatUser, type UserBrowser } from '../../support/chat-driver.ts';
import { closeMembers, openMembersUntil, shownPeople } from './people.ts';
import { aliceFx, shot, text, world } from './world.ts';

/** Wait until `user`'s list has the conversation, active (it came by Welcome, not by a link). */
async function waitListed(user: ChatUser<UserBrowser>, conversationId: string): Promise<void> {
  await showList(user);
  await user.page.waitForSelector(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"][data-status="active"]`, {
    timeout: 3 * STEP_TIMEOUT,
  });
}

describe('f. Bob starts a direct conversation with Alice without a link; it reaches both of her devices', () => {
  let direct = '';

  it('Bob: "Message" on Alice in the members list opens a new conversation, with no link made or pasted', async () => {
    const { bob } = world;
    aliceFx();
    await openConversation(bob, world.shared);
    await openMembersUntil(bob, 'Alice', 2);
    await bob.page.waitForSelector('[data-testid="person"][data-name="Alice"] [data-testid="message-person"]:not([disabled])', { timeout: STEP_TIMEOUT });
    await shot(bob, 'f1-members-message-alice');
    await bob.page.click('[data-testid="person"][data-name="Alice"] [data-testid="message-person"]');
    const view = await bob.page.waitForSelector(`[data-testid="conversation"][data-status="active"]:not([data-conversation-id="${world.shared}"])`, {
      timeout: 3 * STEP_TIMEOUT,
    });
    direct = (await view!.evaluate((el) => el.getAttribute('data-conversation-id'))) ?? '';
    expect(direct).not.toBe('');
    expect(direct).not.toBe(world.shared);
    await shot(bob, 'f1-direct-opened');
  });

  it('it reaches both of Alice’s devices, and Bob sees her there as one person with her two devices', async () => {
    const { alice, bob } = world;
    expect(direct, 'the direct conversation was not started').not.toBe('');
    const fx = aliceFx();
    await waitListed(alice, direct);
    await waitListed(fx, direct);
    // Named after Bob on her devices (the name his Welcome carries), after Alice on his.
    for (const u of [alice, fx]) {
      expect(await u.page.$eval(`[data-testid="conversation-item"][data-conversation-id="${direct}"]`, (el) => el.getAttribute('data-name'))).toBe('Bob');
    }
    await shot(alice, 'f2-listed');
    await shot(fx, 'f2-listed');

    await openMembersUntil(bob, 'Alice', 2);
    const people = await shownPeople(bob);
    expect(people.map((p) => p.name).sort()).toEqual(['Alice', 'Bob']);
    const her = people.find((p) => p.name === 'Alice')!;
    expect(her.personKey.startsWith('leaf:')).toBe(false);
    expect(her.devices.map((d) => d.name).sort()).toEqual(['Chrome on Linux', 'Firefox on Linux']);
    // The mark Bob gave Alice in step b is hers, so it holds here too.
    expect(her.verification).toBe('verified');
    await shot(bob, 'f2-members-of-direct');
    await closeMembers(bob);
  });

  it('Bob writes: both of Alice’s devices show it; Alice answers from Firefox: Bob sees Alice, Chromium sees her own', async () => {
    const { alice, bob } = world;
    expect(direct, 'the direct conversation was not started').not.toBe('');
    const fx = aliceFx();
    for (const u of [alice, fx, bob]) await openConversation(u, direct);
    const hello = text('Hi Alice, just us here');
    await send(bob, hello);
    await waitForMessage(alice, hello, { sender: 'Bob' });
    await waitForMessage(fx, hello, { sender: 'Bob' });

    const answer = text('Hi Bob, from my Firefox');
    await send(fx, answer);
    await waitForMessage(bob, answer, { sender: 'Alice' });
    await waitForMessage(alice, answer);
    expect((await shownMessages(alice)).find((m) => m.text === answer)).toMatchObject({ self: true });
    expect((await shownMessages(bob)).find((m) => m.text === answer)).toMatchObject({ self: false });
    await shot(bob, 'f3-direct');
    await shot(alice, 'f3-direct');
    await shot(fx, 'f3-direct');
  });
});
