/**
 * c. Alice writes from Firefox: her Chromium shows the message as her own
 * (on the right, no name, not unread), Bob's shows it as Alice's.
 * d. Bob writes while both of Alice's devices show the list: both count it
 * unread; Alice reads it on Chromium, and Firefox's unread count clears
 * (an encrypted read message between her devices).
 */
import { describe, expect, it } from 'vitest';
import { openConversation, send, shownMessages, showList, waitForMessage, STEP_TIMEOUT, type ChatUser, type UserBrowser } from '../../support/chat-driver.ts';
import { aliceFx, shot, text, world } from './world.ts';

/** The unread count the list shows for a conversation. */
async function unreadOf(user: ChatUser<UserBrowser>, conversationId: string): Promise<number> {
  const v = await user.page.$eval(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`, (el) => el.getAttribute('data-unread'));
  return Number(v);
}

async function waitUnread(user: ChatUser<UserBrowser>, conversationId: string, test: 'zero' | 'some'): Promise<void> {
  await user.page.waitForFunction(
    (id: string, t: string) => {
      const n = Number(document.querySelector(`[data-testid="conversation-item"][data-conversation-id="${id}"]`)?.getAttribute('data-unread') ?? 'NaN');
      return t === 'zero' ? n === 0 : n > 0;
    },
    { timeout: STEP_TIMEOUT, polling: 200 },
    conversationId,
    test,
  );
}

describe('c. Alice writes from Firefox: hers on her Chromium, Alice’s on Bob’s', () => {
  it('the message shows on Alice’s Chromium as her own and on Bob’s as from Alice', async () => {
    const { alice, bob } = world;
    const fx = aliceFx();
    for (const u of [alice, fx, bob]) await openConversation(u, world.shared);
    const t = text('Writing from Firefox now');
    await send(fx, t);
    await waitForMessage(bob, t, { sender: 'Alice' });
    await waitForMessage(alice, t);
    const onChromium = (await shownMessages(alice)).filter((m) => m.text === t);
    expect(onChromium).toHaveLength(1);
    expect(onChromium[0]).toMatchObject({ self: true, kind: 'text' });
    // Nothing in the bubble names another Alice: no sender line on her own message.
    const nameShown = await alice.page.$$eval('[data-testid="message"][data-self="true"] [data-testid="sender-name"]', (els) => els.length);
    expect(nameShown).toBe(0);
    const onBob = (await shownMessages(bob)).filter((m) => m.text === t);
    expect(onBob).toHaveLength(1);
    expect(onBob[0]).toMatchObject({ self: false, sender: 'Alice' });
    const onFirefox = (await shownMessages(fx)).filter((m) => m.text === t);
    expect(onFirefox[0]).toMatchObject({ self: true });
    await shot(fx, 'c1-sent-from-firefox');
    await shot(alice, 'c1-own-on-chromium');
    await shot(bob, 'c1-from-alice-on-bob');
  });
});

describe('d. Alice reads on Chromium, and Firefox’s unread count clears', () => {
  it('both of Alice’s devices count Bob’s new message unread; reading it on Chromium clears it on Firefox', async () => {
    const { alice, bob } = world;
    const fx = aliceFx();
    await showList(alice);
    await showList(fx);
    await openConversation(bob, world.shared);
    const t = text('Did you see the forecast?');
    await send(bob, t);
    await waitUnread(alice, world.shared, 'some');
    await waitUnread(fx, world.shared, 'some');
    expect(await unreadOf(fx, world.shared)).toBe(1);
    await shot(fx, 'd1-unread-on-firefox');

    await openConversation(alice, world.shared);
    await waitForMessage(alice, t, { sender: 'Bob' });
    await shot(alice, 'd2-read-on-chromium');
    await waitUnread(fx, world.shared, 'zero');
    expect(await fx.page.$(`[data-testid="conversation-item"][data-conversation-id="${world.shared}"] [data-testid="unread-badge"]`)).toBeNull();
    await shot(fx, 'd3-cleared-on-firefox');
  });
});
