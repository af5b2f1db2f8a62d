/**
 * The whole conversation with the keyboard only (issue 21): from the list,
 * Alice creates a conversation, invites (copies the code), Bob joins with
 * it, Alice sends a message and reads Bob's reply, and she goes back to the
 * list and into the conversation again — with page.keyboard only, never a
 * click, from onboarding on, checking at each step where focus lands. Bob
 * uses the mouse-driven driver.
 * Screenshots: artifacts/e2e/keyboard-*.png (the focus ring shows).
 */
import { rmSync } from 'node:fs';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinByLink, onboard, openBrowser, send, waitForMessage, STEP_TIMEOUT, type ChatUser } from '../support/chat-driver.ts';
import { screenshot, snapshotExtension } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

/** The focused element's data-testid (or id, or tag), to say where focus is. */
async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (el === null || el === document.body) return 'body';
    return el.getAttribute('data-testid') ?? (el.id !== '' ? `#${el.id}` : el.tagName.toLowerCase());
  });
}

/** Wait until focus is on the element with this data-testid (focus moves after renders). */
async function focusIs(page: Page, testid: string): Promise<void> {
  await page
    .waitForFunction((t: string) => document.activeElement?.getAttribute('data-testid') === t, { timeout: 10_000, polling: 50 }, testid)
    .catch(async () => {
      throw new Error(`focus should be on ${testid}, is on ${await focused(page)}`);
    });
}

/** Press Tab (or Shift+Tab) until the element with this data-testid (or "#id") has focus: it must be reachable in the tab order. */
async function tabTo(page: Page, testid: string, opts: { back?: boolean; max?: number } = {}): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < (opts.max ?? 40); i++) {
    const now = await focused(page);
    if (now === testid) return;
    seen.push(now);
    if (opts.back === true) {
      await page.keyboard.down('Shift');
      await page.keyboard.press('Tab');
      await page.keyboard.up('Shift');
    } else {
      await page.keyboard.press('Tab');
    }
  }
  throw new Error(`Tab never reached ${testid}; went through ${seen.join(' → ')}`);
}

describe('keyboard only: a whole conversation without a mouse', () => {
  let extension: { dir: string; id: string };
  let relay: RelayProcess;
  let alice: ChatUser;
  let bob: ChatUser;
  let code = '';

  beforeAll(async () => {
    extension = snapshotExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${extension.id},chrome-extension://${extension.id}`] });
    [alice, bob] = await Promise.all([
      openBrowser('Alice', { extensionDir: extension.dir, prf: false }),
      openBrowser('Bob', { extensionDir: extension.dir, prf: false }),
    ]);
    const origin = `chrome-extension://${extension.id}`;
    await alice.ext.browser.defaultBrowserContext().overridePermissions(origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    await onboard(bob, relay.url);
  });

  afterAll(async () => {
    for (const u of [alice, bob]) await u?.ext.close();
    await relay?.stop();
    for (const dir of [alice?.profileDir, bob?.profileDir, extension?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('onboards: settings by keyboard (the relay address), Escape back to the form, name and Enter', async () => {
    const { page } = alice;
    await page.waitForSelector('[data-testid="onboarding"]', { timeout: STEP_TIMEOUT });
    await tabTo(page, 'onboarding-settings');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="settings-dialog"]');
    await tabTo(page, '#relay-url');
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyA');
    await page.keyboard.up('Control');
    await page.keyboard.type(relay.url);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="settings-dialog"] [data-testid="relay-status"][data-state="reachable"]', { timeout: STEP_TIMEOUT });
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="settings-dialog"]', { hidden: true });
    await focusIs(page, 'onboarding-settings');
    await tabTo(page, 'onboarding-name', { back: true });
    await page.keyboard.type('Alice');
    await page.keyboard.press('Enter');
    // The recovery key comes first, once: the two groups asked for are typed back by keyboard, Enter confirms.
    await page.waitForSelector('[data-testid="recovery-key"]', { timeout: STEP_TIMEOUT });
    const groups = await page.$eval('[data-testid="recovery-key-text"]', (el) => [...el.querySelectorAll('.group')].map((g) => g.textContent ?? ''));
    for (const i of [0, 1]) {
      await tabTo(page, `recovery-key-group-${i}`);
      const g = Number(await page.$eval(`[data-testid="recovery-key-group-${i}"]`, (el) => (el as HTMLElement).dataset.group));
      await page.keyboard.type(groups[g]!);
    }
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="conversations-empty"]', { timeout: STEP_TIMEOUT });
  });

  it('creates a conversation from the list: the name field, then the composer, get focus', async () => {
    const { page } = alice;
    await page.waitForSelector('[data-testid="conversations-empty"]', { timeout: STEP_TIMEOUT });
    await tabTo(page, 'empty-create');
    await screenshot(page, 'keyboard-01-list-focus');
    await page.keyboard.press('Enter');
    await focusIs(page, 'new-conversation-name');
    await page.keyboard.type('Keyboard club');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="conversation"][data-status="active"]', { timeout: STEP_TIMEOUT });
    await focusIs(page, 'composer');
  });

  it('invites: the dialog takes focus, the code is copied, Escape closes and focus returns to Invite', async () => {
    const { page } = alice;
    await tabTo(page, 'invite-button', { back: true });
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="invite-dialog"]');
    await focusIs(page, 'invite-mode-one-time');
    await tabTo(page, 'invite-create');
    await page.keyboard.press('Enter');
    const field = await page.waitForSelector('[data-testid="invite-link"]', { timeout: STEP_TIMEOUT });
    code = await field!.evaluate((el) => (el as HTMLInputElement).value);
    expect(code).toMatch(/^microchat:join\?/);
    await tabTo(page, 'invite-copy');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="invite-copy-status"]')?.textContent?.includes('Copied.'), {
      timeout: STEP_TIMEOUT,
    });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
    await screenshot(page, 'keyboard-02-invite-copied');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="invite-dialog"]', { hidden: true });
    await focusIs(page, 'invite-button');
  });

  it('Bob joins with the code; Alice sends from the composer and reads his reply', async () => {
    const { page } = alice;
    await joinByLink(bob, code);
    await tabTo(page, 'composer');
    await page.keyboard.type('Typed without a mouse');
    await page.keyboard.press('Enter');
    await waitForMessage(alice, 'Typed without a mouse', { status: 'sent' });
    await focusIs(page, 'composer');
    await waitForMessage(bob, 'Typed without a mouse', { sender: 'Alice' });
    await send(bob, 'Read you loud and clear');
    await waitForMessage(alice, 'Read you loud and clear', { sender: 'Bob' });
    await screenshot(page, 'keyboard-03-reply');
  });

  it('members by keyboard: Escape closes, focus returns to the button', async () => {
    const { page } = alice;
    await tabTo(page, 'members-button', { back: true });
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="members-dialog"] [data-testid="member"][data-name="Bob"]', { timeout: STEP_TIMEOUT });
    expect(await page.evaluate(() => document.querySelector('[data-testid="members-dialog"]')!.contains(document.activeElement))).toBe(true);
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="members-dialog"]', { hidden: true });
    await focusIs(page, 'members-button');
  });

  it('back to the list, a second conversation through the "+" menu, arrow keys to the first one: Enter opens it with the reply shown', async () => {
    const { page } = alice;
    await tabTo(page, 'back', { back: true });
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="conversation-list"]', { timeout: STEP_TIMEOUT });
    await focusIs(page, 'conversation-item');
    await screenshot(page, 'keyboard-04-back-on-list');

    await tabTo(page, 'new-menu', { back: true });
    await page.keyboard.press('Enter');
    await focusIs(page, 'new-menu-create');
    await page.keyboard.press('Enter');
    await focusIs(page, 'new-conversation-name');
    await page.keyboard.type('Quiet corner');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="conversation"][data-status="active"]', { timeout: STEP_TIMEOUT });
    await focusIs(page, 'composer');
    await tabTo(page, 'back', { back: true });
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="conversation-item"][data-name="Quiet corner"]', { timeout: STEP_TIMEOUT });

    // The newest first: focus is on "Quiet corner"; ArrowDown reaches "Keyboard club".
    await focusIs(page, 'conversation-item');
    const name = (): Promise<string | null> => page.evaluate(() => document.activeElement?.getAttribute('data-name') ?? null);
    expect(await name()).toBe('Quiet corner');
    await page.keyboard.press('ArrowDown');
    expect(await name()).toBe('Keyboard club');
    await page.keyboard.press('ArrowUp');
    expect(await name()).toBe('Quiet corner');
    await page.keyboard.press('End');
    expect(await name()).toBe('Keyboard club');
    await screenshot(page, 'keyboard-05-arrow-keys');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="conversation"][data-status="active"]', { timeout: STEP_TIMEOUT });
    expect(await page.$eval('[data-testid="conversation-name"]', (e) => e.textContent)).toBe('Keyboard club');
    await focusIs(page, 'composer');
    await waitForMessage(alice, 'Read you loud and clear', { sender: 'Bob' });
  });
});
