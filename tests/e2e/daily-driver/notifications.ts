/**
 * Notifications that respect people (issue 17, item 5), checked through the
 * browser's notifications API in Bob's real background: one notification per
 * conversation however many messages come, none while that conversation is
 * open and visible, cleared once read, none for a muted conversation, and
 * nothing but "New message" under the privacy choice "Nothing".
 *
 * `chrome.notifications.getAll()` says which notifications exist, not what
 * they say; to read their text the test records what the background hands to
 * `chrome.notifications.create` / `update` (a pass-through recorder installed
 * in the worker before the first notification; the real API still runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, WebWorker } from 'puppeteer';
import {
  createConversation,
  createInvite,
  joinByLink,
  openConversation,
  send,
  showList,
  STEP_TIMEOUT,
  waitForMessage,
  type ChatUser,
} from '../../support/chat-driver.ts';
import { screenshot } from '../../support/extension.ts';
import { openPeople, type People } from './people.ts';

interface Shown {
  call: 'create' | 'update';
  id: string;
  title: string;
  message: string;
}

/** Install (once per worker) the recorder of what is shown; returns the worker. */
async function recorder(user: ChatUser): Promise<WebWorker> {
  const worker = await user.ext.worker();
  await worker.evaluate(() => {
    const g = globalThis as unknown as { __shown?: unknown[]; chrome: { notifications: Record<string, (...a: unknown[]) => unknown> } };
    if (g.__shown !== undefined) return;
    g.__shown = [];
    const n = g.chrome.notifications;
    for (const call of ['create', 'update'] as const) {
      const real = n[call]!.bind(n);
      n[call] = (id: unknown, o: unknown, ...rest: unknown[]) => {
        const { title, message } = o as { title: string; message: string };
        g.__shown!.push({ call, id, title, message });
        return real(id, o, ...rest);
      };
    }
  });
  return worker;
}

async function shown(user: ChatUser): Promise<Shown[]> {
  return (await recorder(user)).evaluate(() => (globalThis as unknown as { __shown: Shown[] }).__shown.slice());
}

async function forget(user: ChatUser): Promise<void> {
  await (await recorder(user)).evaluate(() => void ((globalThis as unknown as { __shown: Shown[] }).__shown.length = 0));
}

/** The ids of our notifications the browser shows now. */
async function live(user: ChatUser): Promise<string[]> {
  const worker = await user.ext.worker();
  const all = await worker.evaluate(() => (globalThis as unknown as { chrome: { notifications: { getAll(): Promise<Record<string, boolean>> } } }).chrome.notifications.getAll());
  return Object.keys(all).filter((id) => id.startsWith('microchat:')).sort();
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeout = STEP_TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function unread(user: ChatUser, id: string): Promise<number> {
  const attr = await user.page.$eval(`[data-testid="conversation-item"][data-conversation-id="${id}"]`, (el) => el.getAttribute('data-unread')).catch(() => null);
  return Number(attr ?? -1);
}

async function bothThemes(page: Page, name: string): Promise<void> {
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
  await screenshot(page, `daily-notifications-${name}-light`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await screenshot(page, `daily-notifications-${name}-dark`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
}

/** Alice waits until Bob is a member of the open conversation, so what she sends next reaches him. */
async function seesMember(user: ChatUser, name: string): Promise<void> {
  await user.page.click('[data-testid="members-button"]');
  await user.page.waitForSelector(`[data-testid="member"][data-name="${name}"]`, { timeout: STEP_TIMEOUT });
  await user.page.click('[data-testid="members-dialog"] button.close');
}

describe('notifications: one per conversation, none when open, cleared on read, mute, privacy', () => {
  let people: People<[ChatUser, ChatUser]>;
  let alice: ChatUser;
  let bob: ChatUser;
  let a = '';
  let b = '';

  beforeAll(async () => {
    people = await openPeople(['Alice', 'Bob']);
    [alice, bob] = people.users;
    a = await createConversation(alice, 'Notify A');
    expect(await joinByLink(bob, await createInvite(alice, 'one-time'))).toBe(a);
    await seesMember(alice, 'Bob');
    b = await createConversation(alice, 'Notify B');
    expect(await joinByLink(bob, await createInvite(alice, 'one-time'))).toBe(b);
    await seesMember(alice, 'Bob');
    await showList(bob);
    await recorder(bob);
    // Name and message, for the first checks: the count and the text must both be right.
    await bob.page.click('[data-testid="settings-button"]');
    await bob.page.click('[data-testid="notification-content-full"]');
    await bob.page.waitForSelector('[data-testid="notification-content"][data-content="full"]', { timeout: STEP_TIMEOUT });
    await bob.page.click('[data-testid="settings-dialog"] button.close');
  });

  afterAll(async () => {
    await people?.close();
  });

  it('many messages give one notification per conversation, updated with the count', async () => {
    await openConversation(alice, a);
    for (let i = 1; i <= 5; i++) await send(alice, `to A ${i}`, { waitSent: i === 5 });
    await openConversation(alice, b);
    for (let i = 1; i <= 3; i++) await send(alice, `to B ${i}`, { waitSent: i === 3 });
    await waitUntil('Bob has 5 + 3 unread', async () => (await unread(bob, a)) === 5 && (await unread(bob, b)) === 3);
    await waitUntil('the last update', async () => (await shown(bob)).filter((s) => s.id === `microchat:${b}`).length === 3);

    expect(await live(bob)).toEqual([`microchat:${a}`, `microchat:${b}`].sort());
    const log = await shown(bob);
    expect(new Set(log.map((s) => s.id))).toEqual(new Set([`microchat:${a}`, `microchat:${b}`]));
    const ofA = log.filter((s) => s.id === `microchat:${a}`);
    expect(ofA.length).toBe(5);
    expect(ofA[0]).toMatchObject({ call: 'create', title: 'Notify A', message: 'Alice: to A 1' });
    expect(ofA.at(-1)).toMatchObject({ title: 'Notify A', message: '5 new messages\nAlice: to A 5' });
    expect(ofA.slice(1).every((s) => s.call === 'update')).toBe(true);
  });

  it('reading a conversation clears its notification, and only its own', async () => {
    await openConversation(bob, a);
    await waitForMessage(bob, 'to A 5', { sender: 'Alice' });
    await waitUntil('A cleared', async () => !(await live(bob)).includes(`microchat:${a}`));
    expect(await live(bob)).toEqual([`microchat:${b}`]);
  });

  it('none for the conversation that is open and visible; again once the view that showed it is gone', async () => {
    await forget(bob);
    await openConversation(alice, a);
    for (let i = 1; i <= 3; i++) await send(alice, `while open ${i}`, { waitSent: i === 3 });
    await waitForMessage(bob, 'while open 3', { sender: 'Alice' });
    // The same messages woke B's notification? No: only A got messages, and A is on Bob's screen.
    expect((await shown(bob)).filter((s) => s.id === `microchat:${a}`)).toEqual([]);
    expect(await live(bob)).not.toContain(`microchat:${a}`);

    // A second panel shows A, then closes without a word: its port's disconnect must end its presence.
    await showList(bob);
    const extra = await bob.ext.openPage('sidepanel.html');
    await (await extra.waitForSelector(`[data-testid="conversation-item"][data-conversation-id="${a}"]`, { timeout: STEP_TIMEOUT }))!.click();
    await extra.waitForSelector(`[data-testid="conversation"][data-conversation-id="${a}"]`, { timeout: STEP_TIMEOUT });
    await extra.close();
    await bob.page.bringToFront();
    await send(alice, 'after the panel closed');
    await waitUntil('A notifies again', async () => (await live(bob)).includes(`microchat:${a}`));
    expect((await shown(bob)).filter((s) => s.id === `microchat:${a}`).at(-1)).toMatchObject({ message: 'Alice: after the panel closed' });
  });

  it('a muted conversation counts unread but shows no notification; muting clears the one shown', async () => {
    // B has a notification from the first case; muting from the header menu takes it away.
    await openConversation(bob, b);
    await bob.page.click('[data-testid="conversation-menu-button"]');
    await bob.page.waitForSelector('[data-testid="conversation-menu"]');
    await bothThemes(bob.page, 'mute-menu');
    await bob.page.click('[data-testid="mute-8h"]');
    await bob.page.waitForSelector('[data-testid="conversation-menu-button"][data-muted="true"]', { timeout: STEP_TIMEOUT });
    await showList(bob);
    await waitUntil('B cleared', async () => !(await live(bob)).includes(`microchat:${b}`));

    await forget(bob);
    await openConversation(alice, b);
    await send(alice, 'muted 1', { waitSent: false });
    await send(alice, 'muted 2');
    await waitUntil('Bob has 2 unread in B', async () => (await unread(bob, b)) === 2);
    expect(await bob.page.$(`[data-testid="conversation-item"][data-conversation-id="${b}"] [data-testid="muted-icon"]`)).not.toBeNull();
    await bothThemes(bob.page, 'muted-row');
    expect((await shown(bob)).filter((s) => s.id === `microchat:${b}`)).toEqual([]);
    expect(await live(bob)).not.toContain(`microchat:${b}`);
  });

  it('privacy "Nothing" shows neither the conversation, the sender nor the text', async () => {
    await bob.page.click('[data-testid="settings-button"]');
    await bob.page.click('[data-testid="notification-content-none"]');
    await bob.page.waitForSelector('[data-testid="notification-content"][data-content="none"]', { timeout: STEP_TIMEOUT });
    await bothThemes(bob.page, 'privacy-setting');
    await bob.page.click('[data-testid="settings-dialog"] button.close');
    // Start from no notification for A, so the next one is created fresh.
    await openConversation(bob, a);
    await waitUntil('A cleared', async () => !(await live(bob)).includes(`microchat:${a}`));
    await showList(bob);

    await forget(bob);
    await openConversation(alice, a);
    await send(alice, 'the door code is 4711');
    await waitUntil('A notifies', async () => (await live(bob)).includes(`microchat:${a}`));
    const log = (await shown(bob)).filter((s) => s.id === `microchat:${a}`);
    expect(log).toEqual([{ call: 'create', id: `microchat:${a}`, title: 'MicroChat', message: 'New message' }]);
    expect(JSON.stringify(await shown(bob))).not.toMatch(/Notify|Alice|4711/);
  });
});
