/**
 * Delivery state and the "New messages" divider (issue 17, items 6 and 10):
 * three people; Alice's message goes Sent → Delivered once Bob's and Carol's
 * devices have it → Read once both have read it; with read receipts off at
 * Bob, Alice never sees Read from him and he sees no Read at all; and a
 * conversation with 28 unread opens at the divider, not at the bottom.
 */
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  openConversation,
  showList,
  STEP_TIMEOUT,
  waitForMessage,
  type ChatUser,
} from '../../support/chat-driver.ts';
import { screenshot } from '../../support/extension.ts';
import { openPeople, type People } from './people.ts';

const UNREAD = 28;
/** Longer than a receipt waits to be batched (1.5 s) plus a round trip through the relay. */
const RECEIPT_SETTLE_MS = 6_000;

/** data-delivery of one's own message with this text: sending, sent, delivered, read or failed. */
async function stateOf(user: ChatUser, text: string): Promise<string | null> {
  return user.page.evaluate((t: string) => {
    for (const m of document.querySelectorAll('[data-testid="message"][data-self="true"]')) {
      if (m.querySelector('[data-testid="message-text"]')?.textContent === t) return m.getAttribute('data-delivery');
    }
    return null;
  }, text);
}

async function waitState(user: ChatUser, text: string, state: string): Promise<void> {
  await user.page.waitForFunction(
    (t: string, s: string) =>
      [...document.querySelectorAll('[data-testid="message"][data-self="true"]')].some(
        (m) => m.querySelector('[data-testid="message-text"]')?.textContent === t && m.getAttribute('data-delivery') === s,
      ),
    { timeout: STEP_TIMEOUT, polling: 100 },
    text,
    state,
  );
}

/** Every state an own message with this text shows, in order, from now on (read with `states`). */
async function watchStates(page: Page, text: string): Promise<void> {
  await page.evaluate((t: string) => {
    const seen: string[] = [];
    (window as unknown as { __states: string[] }).__states = seen;
    setInterval(() => {
      for (const m of document.querySelectorAll('[data-testid="message"][data-self="true"]')) {
        if (m.querySelector('[data-testid="message-text"]')?.textContent !== t) continue;
        const s = m.getAttribute('data-delivery') ?? '';
        if (seen[seen.length - 1] !== s) seen.push(s);
      }
    }, 25);
  }, text);
}

const states = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { __states: string[] }).__states);

async function tooltipOf(user: ChatUser, text: string): Promise<{ title: string | null; label: string | null }> {
  return user.page.evaluate((t: string) => {
    for (const m of document.querySelectorAll('[data-testid="message"][data-self="true"]')) {
      if (m.querySelector('[data-testid="message-text"]')?.textContent !== t) continue;
      const s = m.querySelector('[data-testid="message-status"]');
      return { title: s?.getAttribute('title') ?? null, label: s?.getAttribute('aria-label') ?? null };
    }
    return { title: null, label: null };
  }, text);
}

async function shots(page: Page, name: string): Promise<void> {
  await screenshot(page, `daily-receipts-${name}-light`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await screenshot(page, `daily-receipts-${name}-dark`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
}

async function setReadReceipts(user: ChatUser, on: boolean, shotName?: string): Promise<void> {
  const { page } = user;
  await page.click('[data-testid="settings-button"]');
  const toggle = await page.waitForSelector('[data-testid="read-receipts-toggle"]', { timeout: STEP_TIMEOUT });
  if ((await toggle!.evaluate((el) => (el as HTMLInputElement).checked)) !== on) await toggle!.click();
  await page.waitForFunction((want: boolean) => (document.querySelector('[data-testid="read-receipts-toggle"]') as HTMLInputElement).checked === want, {}, on);
  if (shotName !== undefined) await shots(page, shotName);
  await page.click('[data-testid="settings-dialog"] button.close');
  await page.waitForSelector('[data-testid="settings-dialog"]', { hidden: true });
}

async function sendNow(user: ChatUser, text: string): Promise<void> {
  await user.page.waitForSelector('[data-testid="composer"]:not([disabled])', { timeout: STEP_TIMEOUT });
  await user.page.type('[data-testid="composer"]', text);
  await user.page.keyboard.press('Enter');
}

describe('receipts: delivered, read, and the New messages divider', () => {
  let people: People<[ChatUser, ChatUser, ChatUser]>;
  let alice: ChatUser;
  let bob: ChatUser;
  let carol: ChatUser;
  let conv = '';

  beforeAll(async () => {
    people = await openPeople(['Alice', 'Bob', 'Carol']);
    [alice, bob, carol] = people.users;
    conv = await createConversation(alice, 'Receipts');
    expect(await joinByLink(bob, await createInvite(alice, 'one-time'))).toBe(conv);
    expect(await joinByLink(carol, await createInvite(alice, 'one-time'))).toBe(conv);
    // Alice knows both by name before she writes, so her message is sent to both.
    await alice.page.click('[data-testid="members-button"]');
    await alice.page.waitForSelector('[data-testid="member"][data-name="Bob"]', { timeout: STEP_TIMEOUT });
    await alice.page.waitForSelector('[data-testid="member"][data-name="Carol"]', { timeout: STEP_TIMEOUT });
    await alice.page.click('[data-testid="members-dialog"] button.close');
    // Bob and Carol are on the list: their devices get messages, but nobody reads them yet.
    await showList(bob);
    await showList(carol);
  });

  afterAll(async () => {
    await people?.close();
  });

  it("Alice's message goes Sent → Delivered once Bob's and Carol's devices have it → Read when both have read it", async () => {
    const text = 'Did everyone get this?';
    await watchStates(alice.page, text);
    await sendNow(alice, text);
    await waitForMessage(alice, text, { status: 'sent' });
    if ((await stateOf(alice, text)) === 'sent') await shots(alice.page, 'sent');
    await waitState(alice, text, 'delivered');
    await shots(alice.page, 'delivered');
    expect(await tooltipOf(alice, text)).toEqual({
      title: "Delivered: every member's device has received this message.",
      label: "Delivered: every member's device has received this message.",
    });

    // Bob reads it; Carol has not yet: still Delivered.
    await openConversation(bob, conv);
    await waitForMessage(bob, text, { sender: 'Alice' });
    await new Promise((r) => setTimeout(r, RECEIPT_SETTLE_MS));
    expect(await stateOf(alice, text)).toBe('delivered');

    await openConversation(carol, conv);
    await waitForMessage(carol, text, { sender: 'Alice' });
    await waitState(alice, text, 'read');
    await shots(alice.page, 'read');
    expect((await tooltipOf(alice, text)).title).toBe('Read: every member has read this message.');
    // Sent came first, then Delivered, then Read; never backwards.
    const seen = (await states(alice.page)).filter((s) => s !== 'sending');
    expect(seen).toEqual(['sent', 'delivered', 'read']);
  });

  it('with read receipts off at Bob, Alice never sees Read from him, and Bob sees no Read at all', async () => {
    await setReadReceipts(bob, false, 'setting-off');
    // Both have the conversation open and at its end: each reads what arrives.
    const toBob = 'Bob has read receipts off now';
    await sendNow(alice, toBob);
    await waitForMessage(bob, toBob, { sender: 'Alice' });
    await waitForMessage(carol, toBob, { sender: 'Alice' });
    await waitState(alice, toBob, 'delivered');
    await new Promise((r) => setTimeout(r, RECEIPT_SETTLE_MS));
    expect(await stateOf(alice, toBob)).toBe('delivered');

    const fromBob = 'Bob writes with read receipts off';
    await sendNow(bob, fromBob);
    await waitForMessage(alice, fromBob, { sender: 'Bob' });
    await waitForMessage(carol, fromBob, { sender: 'Bob' });
    await waitState(bob, fromBob, 'delivered');
    await new Promise((r) => setTimeout(r, RECEIPT_SETTLE_MS));
    expect(await stateOf(bob, fromBob)).toBe('delivered');
    expect(await bob.page.$$('[data-testid="message"][data-delivery="read"]')).toHaveLength(0);
    await shots(bob.page, 'no-read-for-bob');
  });

  it('a conversation with 28 unread opens at the New messages divider, not at the bottom', async () => {
    await showList(carol);
    const texts = Array.from({ length: UNREAD }, (_, i) => `unread ${i + 1}`);
    await alice.page.focus('[data-testid="composer"]');
    for (const t of texts) {
      await alice.page.keyboard.type(t);
      await alice.page.keyboard.press('Enter');
    }
    await carol.page.waitForFunction(
      (id: string, n: string) =>
        document.querySelector(`[data-testid="conversation-item"][data-conversation-id="${id}"] [data-testid="unread-badge"] [aria-hidden="true"]`)
          ?.textContent === n,
      { timeout: STEP_TIMEOUT * 2, polling: 200 },
      conv,
      String(UNREAD),
    );
    await openConversation(carol, conv);
    await carol.page.waitForSelector('[data-testid="new-messages-divider"]', { timeout: STEP_TIMEOUT });
    // Give the list a few frames to measure its items: the divider must stay put while it does.
    await carol.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 300)))));
    const where = await carol.page.evaluate(() => {
      const list = document.querySelector('[data-testid="message-list"]')!.getBoundingClientRect();
      const divider = document.querySelector('[data-testid="new-messages-divider"]')!;
      const d = divider.getBoundingClientRect();
      const first = divider.closest('[role="listitem"]')!.querySelector('[data-testid="message-text"]')?.textContent ?? null;
      const last = [...document.querySelectorAll('[data-testid="message-text"]')].find((el) => el.textContent === 'unread 28');
      const l = last?.getBoundingClientRect();
      return {
        dividerInView: d.top >= list.top && d.bottom <= list.bottom,
        firstUnread: first,
        bottomInView: l !== undefined && l.top < list.bottom && l.bottom > list.top,
      };
    });
    await shots(carol.page, 'divider');
    expect(where).toEqual({ dividerInView: true, firstUnread: 'unread 1', bottomInView: false });
    // Not read until Carol reaches the end: the badge stays.
    expect(await carol.page.evaluate(() => document.querySelector('[data-testid="conversation"]') !== null)).toBe(true);
  });
});
