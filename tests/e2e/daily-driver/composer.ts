/**
 * The composer never loses or merges text (issue 17, item 3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  STEP_TIMEOUT,
  type ChatUser,
  type ShownMessage,
} from '../../support/chat-driver.ts';
import { screenshot } from '../../support/extension.ts';
import { everyMessage, openPeople, type People } from './people.ts';

const BURST = 50;

describe('composer: fast typing', () => {
  let people: People<[ChatUser, ChatUser]>;
  let alice: ChatUser;
  let bob: ChatUser;

  beforeAll(async () => {
    people = await openPeople(['Alice', 'Bob']);
    [alice, bob] = people.users;
    const id = await createConversation(alice, 'Burst');
    expect(await joinByLink(bob, await createInvite(alice, 'one-time'))).toBe(id);
    // Alice sees Bob as a member before she starts, so the burst goes to him.
    await alice.page.click('[data-testid="members-button"]');
    await alice.page.waitForSelector('[data-testid="member"][data-name="Bob"]', { timeout: STEP_TIMEOUT });
    await alice.page.click('[data-testid="members-dialog"] button.close');
  });

  afterAll(async () => {
    await people?.close();
  });

  it('50 messages typed as fast as puppeteer can go arrive as 50 separate messages, in order (issue 17, item 3)', async () => {
    const texts = Array.from({ length: BURST }, (_, i) => `burst ${i + 1}`);
    const composer = '[data-testid="composer"]';
    await alice.page.waitForSelector(`${composer}:not([disabled])`, { timeout: STEP_TIMEOUT });
    await alice.page.focus(composer);
    // No waits between messages: each Enter must take exactly what was typed since the last one.
    for (const t of texts) {
      await alice.page.keyboard.type(t);
      await alice.page.keyboard.press('Enter');
    }
    expect(await alice.page.$eval(composer, (el) => (el as HTMLTextAreaElement).value)).toBe('');

    const untilAll = async (user: ChatUser, done: (ms: ShownMessage[]) => boolean): Promise<ShownMessage[]> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const ms = (await everyMessage(user)).filter((m) => m.kind === 'text' && m.text.startsWith('burst'));
        if (done(ms) || Date.now() > deadline) return ms;
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    let atBob: ShownMessage[] = [];
    let atAlice: ShownMessage[] = [];
    try {
      atBob = await untilAll(bob, (ms) => ms.length >= BURST);
      atAlice = await untilAll(alice, (ms) => ms.filter((m) => m.status === 'sent').length >= BURST);
    } finally {
      // Seen whatever happens: the screenshots are how a person checks this test.
      await screenshot(alice.page, 'daily-burst-alice');
      await screenshot(bob.page, 'daily-burst-bob');
    }

    expect(atAlice.map((m) => m.text)).toEqual(texts);
    expect(atAlice.every((m) => m.self && m.status === 'sent')).toBe(true);
    expect(atBob.map((m) => m.text)).toEqual(texts);
    expect(atBob.every((m) => m.sender === 'Alice' && !m.self)).toBe(true);
  });
});
