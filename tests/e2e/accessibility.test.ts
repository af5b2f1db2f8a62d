/**
 * Accessibility (issue 21): axe-core runs on every screen of the side panel —
 * onboarding, the list (empty, with either form open, with conversations,
 * with a row's menu open), a conversation (empty, with messages, its menu,
 * renaming), and every dialog (settings before and after onboarding, invite
 * with its code and QR, members with a safety number, a confirm, share
 * picker), a message’s actions with the reaction picker, the timer menu, the lock screen, the passphrase form that turns the lock on and
 * the offline banner over a message waiting to be sent — in the light and
 * the dark theme. Any serious or critical violation fails the test. Each
 * screen and theme is saved as artifacts/e2e/a11y-<screen>-<theme>.png, and
 * the findings as artifacts/e2e/a11y-violations.json.
 *
 * The real extension and relay, two people (Alice's passkey evaluates PRF, so
 * her account has a lock and a lock screen to check).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AxePuppeteer } from '@axe-core/puppeteer';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  onboard,
  openBrowser,
  send,
  showList,
  unlockIfLocked,
  waitForMessage,
  STEP_TIMEOUT,
  type ChatUser,
} from '../support/chat-driver.ts';
import { ARTIFACTS_DIR, screenshot, snapshotExtension } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

const THEMES = ['light', 'dark'] as const;
const BLOCKING = new Set(['serious', 'critical']);

interface Finding {
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/** Every screen's serious and critical findings, per theme, for the report file. */
const report: Record<string, Finding[]> = {};
/** The moderate and minor ones (not failing the test), so they can be read and worked on. */
const lesser: Record<string, Finding[]> = {};

/** Run axe on the page as it is now, in each theme; screenshot each; fail (softly, so every screen is seen) on a serious or critical finding. */
async function audit(page: Page, screen: string): Promise<void> {
  for (const theme of THEMES) {
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: theme }]);
    // Let the theme's styles apply before measuring contrast.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const results = await new AxePuppeteer(page).analyze();
    const found = results.violations
      .filter((v) => BLOCKING.has(v.impact ?? ''))
      .map((v) => ({ rule: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
    report[`${screen}/${theme}`] = found;
    lesser[`${screen}/${theme}`] = results.violations
      .filter((v) => !BLOCKING.has(v.impact ?? ''))
      .map((v) => ({ rule: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
    await screenshot(page, `a11y-${screen}-${theme}`);
    expect.soft(found, `${screen} (${theme})`).toEqual([]);
  }
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
}

/** What the context-menu click hands the background (as tests/e2e/daily-driver/list-share.ts does). */
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

async function closeDialog(page: Page, testid: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.waitForSelector(`[data-testid="${testid}"]`, { hidden: true, timeout: STEP_TIMEOUT });
}

describe('accessibility: axe on every screen, light and dark', () => {
  let extension: { dir: string; id: string };
  let relay: RelayProcess;
  let alice: ChatUser;
  let bob: ChatUser;

  beforeAll(async () => {
    extension = snapshotExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${extension.id},chrome-extension://${extension.id}`] });
    [alice, bob] = await Promise.all([
      openBrowser('Alice', { extensionDir: extension.dir, prf: true }),
      openBrowser('Bob', { extensionDir: extension.dir, prf: false }),
    ]);
  });

  afterAll(async () => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    writeFileSync(path.join(ARTIFACTS_DIR, 'a11y-violations.json'), `${JSON.stringify({ blocking: report, lesser }, null, 2)}\n`);
    for (const u of [alice, bob]) await u?.ext.close();
    await relay?.stop();
    for (const dir of [alice?.profileDir, bob?.profileDir, extension?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('onboarding, and the settings dialog it opens', async () => {
    const { page } = alice;
    await page.waitForSelector('[data-testid="onboarding"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'onboarding');
    await page.click('[data-testid="onboarding-settings"]');
    await page.waitForSelector('[data-testid="settings-dialog"]');
    await audit(page, 'settings-first-run');
    await closeDialog(page, 'settings-dialog');
    await onboard(alice, relay.url);
  });

  it('the empty list, and its form to start a conversation', async () => {
    const { page } = alice;
    await page.waitForSelector('[data-testid="conversations-empty"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'list-empty');
    await page.click('[data-testid="empty-create"]');
    await page.waitForSelector('[data-testid="new-conversation-name"]');
    await audit(page, 'list-new-form');
    await page.click('[data-testid="form-cancel"]');
    await page.click('[data-testid="empty-join"]');
    await page.waitForSelector('[data-testid="join-link-input"]');
    await audit(page, 'list-join-form');
    await page.click('[data-testid="form-cancel"]');
  });

  it('a new conversation, the invite dialog (before and after the code, with the QR)', async () => {
    const { page } = alice;
    await createConversation(alice, 'Book club');
    await audit(page, 'conversation-new');
    await page.click('[data-testid="invite-button"]');
    await page.waitForSelector('[data-testid="invite-dialog"]');
    await audit(page, 'invite');
    await page.click('[data-testid="invite-mode-one-time"]');
    await page.click('[data-testid="invite-create"]');
    await page.waitForSelector('[data-testid="invite-link"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'invite-code');
    await page.click('[data-testid="invite-qr-toggle"]');
    await page.waitForSelector('[data-testid="invite-qr"]');
    await audit(page, 'invite-qr');
    await closeDialog(page, 'invite-dialog');
  });

  it('a conversation with messages both ways', async () => {
    const link = await createInvite(alice, 'one-time');
    await onboard(bob, relay.url);
    await joinByLink(bob, link);
    await send(bob, 'Hello from Bob');
    await waitForMessage(alice, 'Hello from Bob', { sender: 'Bob' });
    await send(alice, 'Hello Bob');
    await audit(alice.page, 'conversation');
  });

  it('a message’s actions with the reaction picker open, and the disappearing-timer menu', async () => {
    const { page } = alice;
    const row = await page.waitForSelector('[data-testid="message"][data-sender="Bob"]', { timeout: STEP_TIMEOUT });
    await row!.hover();
    await (await row!.waitForSelector('[data-testid="action-react"]', { timeout: STEP_TIMEOUT }))!.click();
    await page.waitForSelector('[data-testid="reaction-picker"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'reaction-picker');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="reaction-picker"]', { hidden: true, timeout: STEP_TIMEOUT });
    await page.click('[data-testid="timer-button"]');
    await page.waitForSelector('[data-testid="timer-menu"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'timer-menu');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="timer-menu"]', { hidden: true, timeout: STEP_TIMEOUT });
  });

  it('the conversation menu (mute) and the rename field', async () => {
    const { page } = alice;
    await page.click('[data-testid="conversation-menu-button"]');
    await page.waitForSelector('[data-testid="conversation-menu"]');
    await audit(page, 'conversation-menu');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="conversation-menu"]', { hidden: true });
    await page.click('[data-testid="rename"]');
    await page.waitForSelector('[data-testid="rename-input"]');
    await audit(page, 'conversation-rename');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="rename-input"]', { hidden: true });
  });

  it('the members dialog and a confirm dialog', async () => {
    const { page } = alice;
    await page.click('[data-testid="members-button"]');
    await page.waitForSelector('[data-testid="members-dialog"] [data-testid="member"][data-name="Bob"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'members');
    await page.click('[data-testid="safety-number-button"]');
    await page.waitForSelector('[data-testid="safety-number"]');
    await audit(page, 'members-safety-number');
    await page.click('[data-testid="leave-conversation"]');
    await page.waitForSelector('[data-testid="confirm-dialog"]');
    await audit(page, 'confirm');
    await closeDialog(page, 'confirm-dialog');
    await closeDialog(page, 'members-dialog');
  });

  it('the list with conversations, a row menu, settings, the share picker', async () => {
    const { page } = alice;
    await showList(alice);
    await page.waitForSelector('[data-testid="conversation-item"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'list');
    await page.click('[data-testid="conversation-menu"]');
    await page.waitForSelector('[role="menu"]');
    await audit(page, 'list-menu');
    await page.keyboard.press('Escape');
    await page.click('[data-testid="settings-button"]');
    await page.waitForSelector('[data-testid="settings-dialog"] [data-testid="lock-settings"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'settings');
    await closeDialog(page, 'settings-dialog');
    await shareFromContextMenu(alice, 'https://example.org/a11y', 'A page to share');
    await page.waitForSelector('[data-testid="share-picker"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'share-picker');
    await page.click('[data-testid="share-cancel"]');
    await page.waitForSelector('[data-testid="share-picker"]', { hidden: true, timeout: STEP_TIMEOUT });
  });

  it('the lock screen', async () => {
    const { page } = alice;
    await page.click('[data-testid="lock-now"]');
    await page.waitForSelector('[data-testid="lock-screen"]', { timeout: STEP_TIMEOUT });
    await audit(page, 'lock-screen');
    expect(await unlockIfLocked(alice)).toBe(true);
  });

  it('the passphrase form that turns the lock on', async () => {
    // Bob's passkey has no PRF: his lock is off, and settings offer a passphrase.
    const { page } = bob;
    await showList(bob);
    await page.click('[data-testid="settings-button"]');
    await page.waitForSelector('[data-testid="settings-dialog"] [data-testid="lock-on-passphrase"]', { timeout: STEP_TIMEOUT });
    await page.click('[data-testid="lock-on-passphrase"]');
    await page.waitForSelector('[data-testid="lock-passphrase"]');
    await page.type('[data-testid="lock-passphrase"]', 'short');
    await audit(page, 'lock-passphrase');
    await closeDialog(page, 'settings-dialog');
  });

  it('the offline banner, with a message waiting to be sent (last: the relay stays down)', async () => {
    const { page } = alice;
    relay.kill9();
    await page.waitForSelector('[data-testid="offline-banner"]', { timeout: STEP_TIMEOUT });
    await showList(alice);
    await page.click('[data-testid="conversation-item"]');
    await send(alice, 'Written while offline', { waitSent: false });
    await page.waitForSelector('[data-testid="message"][data-kind="text"]:not([data-status="sent"])', { timeout: STEP_TIMEOUT });
    await audit(page, 'offline');
  });
});
