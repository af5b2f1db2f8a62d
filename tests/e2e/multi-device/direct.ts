/**
 * f. Bob starts a direct conversation with Alice without a link: the
 * "Message" button on her entry in the members list of a conversation they
 * share. It claims a KeyPackage of each of her devices and sends each a
 * Welcome, so it reaches both of Alice's devices, Chromium and Firefox.
 */
import { describe, expect, it } from 'vitest';
import { openConversation, send, showList, waitForMessage, STEP_TIMEOUT } from '../../support/chat-driver.ts';
import { openMembersUntil, shownPeople } from './people.ts';
import { aliceFx, shot, text, world } from './world.ts';

describe('f. Bob starts a direct conversation with Alice without a link; it reaches both her devices', () => {
  it('Bob: Members → Alice → Message opens a new conversation with Alice’s two devices in it', async () => {
    const { bob } = world;
    aliceFx();
    await openConversation(bob, world.shared);
    await openMembersUntil(bob, 'Alice', 2);
    const button = '[data-testid="members-dialog"] [data-testid="message-person"][data-name="Alice"]';
    await bob.page.waitForSelector(`${button}:not([disabled])`, { timeout: STEP_TIMEOUT });
    await shot(bob, 'f1-message-button');
    await bob.page.click(button);
    const view = await bob.page.waitForFunction(
      (shared: string) =>
        [...document.querySelectorAll('[data-testid="conversation"][data-status="active"]')]
          .map((c) => c.getAttribute('data-conversation-id') ?? '')
          .find((id) => id !== '' && id !== shared),
      { timeout: 2 * STEP_TIMEOUT, polling: 200 },
      world.shared,
    );
    world.direct = String(await view.jsonValue());
    expect(world.direct).not.toBe('');
    if ((await bob.page.$('[data-testid="members-dialog"]')) !== null) {
      await bob.page.click('[data-testid="members-dialog"] button.close');
      await bob.page.waitForSelector('[data-testid="members-dialog"]', { hidden: true });
    }
    // Named after Alice on Bob's side; Alice and her two devices are in it, no one else but Bob.
    await openMembersUntil(bob, 'Alice', 2);
    const people = await shownPeople(bob);
    expect(people.map((p) => p.name).sort()).toEqual(['Alice', 'Bob']);
    expect(people.find((p) => p.name === 'Alice')!.devices.map((d) => d.name).sort()).toEqual(['Chrome on Linux', 'Firefox on Linux']);
    await shot(bob, 'f2-direct-members');
    await bob.page.click('[data-testid="members-dialog"] button.close');
    await bob.page.waitForSelector('[data-testid="members-dialog"]', { hidden: true });
  });

  it('the conversation arrives on Alice’s Chromium and on her Firefox, and Bob’s first message reaches both', async () => {
    const { bob, alice } = world;
    const fx = aliceFx();
    for (const u of [alice, fx]) {
      await showList(u);
      await u.page.waitForSelector(`[data-testid="conversation-item"][data-conversation-id="${world.direct}"][data-status="active"]`, {
        timeout: 2 * STEP_TIMEOUT,
      });
    }
    await shot(alice, 'f3-list-with-direct');
    await shot(fx, 'f3-list-with-direct');
    const hello = text('Hi Alice, no link needed');
    await send(bob, hello);
    for (const u of [alice, fx]) {
      await openConversation(u, world.direct);
      await waitForMessage(u, hello, { sender: 'Bob' });
    }
    await shot(alice, 'f4-direct-message');
    await shot(fx, 'f4-direct-message');
    await shot(bob, 'f4-direct-message');
  });
});
