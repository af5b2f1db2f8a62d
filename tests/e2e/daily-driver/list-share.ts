/**
 * The conversation list and "Share this page" (issue 17, items 13 and 15):
 * search narrows as you type, a pin moves a conversation to the top, archive
 * hides it behind "Archived (n)", and a shared page goes nowhere until the
 * person confirms a conversation in the picker (the most recent one
 * preselected, the URL shown); cancel sends nothing, and a peer's message
 * while the picker is open does not move the choice.
 *
 * The context-menu click is dispatched to the background's own listener in
 * the service worker (puppeteer cannot click a native context menu); from
 * there on everything is the real code path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import {
  createConversation,
  createInvite,
  joinByLink,
  openConversation,
  send,
  showList,
  shownMessages,
  STEP_TIMEOUT,
  waitForMessage,
  type ChatUser,
} from '../../support/chat-driver.ts';
import { screenshot } from '../../support/extension.ts';
import { openPeople, type People } from './people.ts';

const SECRET_URL = 'https://docs.example.org/private/plan?key=s3cret-42';
const CANCELLED_URL = 'https://docs.example.org/private/never-sent';

/** The same view in light and in dark. */
async function shots(page: Page, name: string): Promise<void> {
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
  await screenshot(page, `daily-list-${name}-light`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await screenshot(page, `daily-list-${name}-dark`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
}

async function rowNames(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid="conversation-item"]', (els) => els.map((e) => e.getAttribute('data-name') ?? ''));
}

/** Wait until the list shows exactly these rows, in this order. */
async function expectRows(page: Page, names: string[]): Promise<void> {
  await page
    .waitForFunction(
      (want: string) => JSON.stringify([...document.querySelectorAll('[data-testid="conversation-item"]')].map((e) => e.getAttribute('data-name'))) === want,
      { timeout: STEP_TIMEOUT, polling: 100 },
      JSON.stringify(names),
    )
    .catch(() => undefined);
  expect(await rowNames(page)).toEqual(names);
}

async function openRowMenu(page: Page, name: string): Promise<void> {
  const row = await page.waitForSelector(`[data-testid="conversation-item"][data-name="${name}"]`, { timeout: STEP_TIMEOUT });
  const menu = await row!.evaluateHandle((el) => el.closest('li')!.querySelector('[data-testid="conversation-menu"]')!);
  await (menu as unknown as { click(): Promise<void> }).click();
  await page.waitForSelector('[role="menu"]', { timeout: STEP_TIMEOUT });
}

/** What the context-menu click hands the background: the page's URL, its tab's title. */
async function shareFromContextMenu(user: ChatUser, url: string, title: string): Promise<void> {
  const worker = await user.ext.worker();
  await worker.evaluate(
    (pageUrl: string, tabTitle: string) => {
      const c = (globalThis as unknown as { chrome: { contextMenus: { onClicked: { dispatch(info: unknown, tab: unknown): void } } } }).chrome;
      c.contextMenus.onClicked.dispatch({ menuItemId: 'microchat-share-page', pageUrl, editable: false }, { id: 1, index: 0, windowId: 1, url: pageUrl, title: tabTitle });
    },
    url,
    title,
  );
}

async function texts(user: ChatUser, conversationId: string): Promise<string[]> {
  await openConversation(user, conversationId);
  await user.page.waitForSelector('[data-testid="message-list"]', { timeout: STEP_TIMEOUT });
  return (await shownMessages(user)).map((m) => m.text);
}

describe('list: search, pin, archive; share this page', () => {
  let people: People<[ChatUser, ChatUser]>;
  let alice: ChatUser;
  let bob: ChatUser;
  const id: Record<string, string> = {};

  beforeAll(async () => {
    people = await openPeople(['Alice', 'Bob']);
    [alice, bob] = people.users;
    for (const name of ['Taxes', 'Family', 'Book club', 'Team']) id[name] = await createConversation(alice, name);
    for (const name of ['Book club', 'Team']) {
      await openConversation(alice, id[name]!);
      expect(await joinByLink(bob, await createInvite(alice, 'one-time'))).toBe(id[name]);
    }
    // Book club is Alice's most recent conversation.
    await openConversation(alice, id['Book club']!);
    await send(alice, 'next book?');
    await showList(alice);
  });

  afterAll(async () => {
    await people?.close();
  });

  it('search narrows as you type, says when nothing matches, and clears', async () => {
    const { page } = alice;
    await expectRows(page, ['Book club', 'Team', 'Family', 'Taxes']);
    await page.type('[data-testid="conversation-search"]', 'ta');
    await expectRows(page, ['Taxes']);
    await page.type('[data-testid="conversation-search"]', 'x');
    await expectRows(page, ['Taxes']);
    await shots(page, 'search');
    await page.type('[data-testid="conversation-search"]', 'z');
    const empty = await page.waitForSelector('[data-testid="search-empty"]', { timeout: STEP_TIMEOUT });
    expect((await empty!.evaluate((e) => e.textContent))!.trim()).toBe('No conversations match “taxz”.');
    await shots(page, 'search-empty');
    await page.click('[data-testid="search-clear"]');
    await expectRows(page, ['Book club', 'Team', 'Family', 'Taxes']);
  });

  it('the "+" menu holds create and join', async () => {
    const { page } = alice;
    expect(await page.$('[data-testid="new-conversation-name"]')).toBeNull();
    await page.click('[data-testid="new-menu"]');
    await page.waitForSelector('[data-testid="new-menu-join"]', { timeout: STEP_TIMEOUT });
    await shots(page, 'new-menu');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[role="menu"]', { hidden: true, timeout: STEP_TIMEOUT });
  });

  it('pin moves a conversation to the top, from the row menu, with the keyboard', async () => {
    const { page } = alice;
    await openRowMenu(page, 'Taxes');
    await shots(page, 'row-menu');
    // The menu opened on its first item, "Pin to the top": Enter picks it.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('menu-pin');
    await page.keyboard.press('Enter');
    await expectRows(page, ['Taxes', 'Book club', 'Team', 'Family']);
    await page.waitForSelector('[data-testid="conversation-item"][data-name="Taxes"][data-pinned="true"]', { timeout: STEP_TIMEOUT });
  });

  it('archive hides a conversation; "Archived (1)" shows it', async () => {
    const { page } = alice;
    await openRowMenu(page, 'Family');
    await page.click('[data-testid="menu-archive"]');
    await expectRows(page, ['Taxes', 'Book club', 'Team']);
    const entry = await page.waitForSelector('[data-testid="archived-open"]', { timeout: STEP_TIMEOUT });
    expect(await entry!.evaluate((e) => e.textContent)).toBe('Archived (1)');
    await shots(page, 'archived-entry');
    await entry!.click();
    await expectRows(page, ['Family']);
    await shots(page, 'archived');
    await page.click('[data-testid="archived-back"]');
    await expectRows(page, ['Taxes', 'Book club', 'Team']);
  });

  it('share: nothing is sent before a confirm, and cancel sends nothing', async () => {
    const { page } = alice;
    await shareFromContextMenu(alice, CANCELLED_URL, 'Never sent');
    await page.waitForSelector('[data-testid="share-picker"]', { timeout: STEP_TIMEOUT });
    expect(await page.$eval('[data-testid="share-url"]', (e) => e.textContent)).toBe(CANCELLED_URL);
    await page.click('[data-testid="share-cancel"]');
    await page.waitForSelector('[data-testid="share-picker"]', { hidden: true, timeout: STEP_TIMEOUT });

    // A message after the cancel shows that the line is live; the cancelled URL never reached anyone.
    await openConversation(alice, id['Team']!);
    await send(alice, 'after the cancel');
    await openConversation(bob, id['Team']!);
    await waitForMessage(bob, 'after the cancel');
    for (const name of ['Team', 'Book club']) {
      expect((await texts(alice, id[name]!)).some((t) => t.includes(CANCELLED_URL))).toBe(false);
      expect((await texts(bob, id[name]!)).some((t) => t.includes(CANCELLED_URL))).toBe(false);
    }
    await showList(alice);
  });

  it('share: the most recent conversation is preselected and the URL shown; a peer’s message does not move it; confirm sends there only', async () => {
    const { page } = alice;
    // Make Book club the most recent again (the cancel test wrote in Team).
    await openConversation(alice, id['Book club']!);
    await send(alice, 'anyone?');
    await showList(alice);

    await shareFromContextMenu(alice, SECRET_URL, 'The plan');
    await page.waitForSelector('[data-testid="share-picker"]', { timeout: STEP_TIMEOUT });
    expect(await page.$eval('[data-testid="share-url"]', (e) => e.textContent)).toBe(SECRET_URL);
    expect(await page.$eval('[data-testid="share-title"]', (e) => e.textContent)).toBe('The plan');
    const checked = (): Promise<string | null> =>
      page.$eval('[data-testid="share-choice"]:checked', (e) => e.getAttribute('data-name')).catch(() => null);
    expect(await checked()).toBe('Book club');
    await shots(page, 'share-picker');

    // Bob writes in Team: it becomes Alice's most recent conversation while the picker is open.
    await openConversation(bob, id['Team']!);
    await send(bob, 'look at this instead');
    await page.waitForSelector(`[data-testid="conversation-item"][data-name="Team"][data-unread="1"]`, { timeout: STEP_TIMEOUT });
    expect(await checked()).toBe('Book club');
    expect(await page.$eval('[data-testid="share-send"]', (e) => e.textContent?.trim())).toBe('Send to Book club');

    await page.click('[data-testid="share-send"]');
    await page.waitForSelector('[data-testid="share-picker"]', { hidden: true, timeout: STEP_TIMEOUT });
    // The side panel opens the conversation it went to.
    await page.waitForSelector(`[data-testid="conversation"][data-conversation-id="${id['Book club']}"]`, { timeout: STEP_TIMEOUT });

    await openConversation(bob, id['Book club']!);
    await bob.page.waitForFunction(
      (url: string) => [...document.querySelectorAll('[data-testid="message-text"]')].some((m) => (m.textContent ?? '').includes(url)),
      { timeout: STEP_TIMEOUT, polling: 200 },
      SECRET_URL,
    );
    // Team, where Bob's message was the most recent, never got it.
    await openConversation(alice, id['Team']!);
    await send(alice, 'marker');
    await openConversation(bob, id['Team']!);
    await waitForMessage(bob, 'marker');
    expect((await texts(bob, id['Team']!)).some((t) => t.includes(SECRET_URL))).toBe(false);
    expect((await texts(alice, id['Team']!)).some((t) => t.includes(SECRET_URL))).toBe(false);
  });
});
