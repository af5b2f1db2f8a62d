/**
 * Drives MicroChat's side panel the way a person does, for the e2e scenario:
 * onboarding with a passkey, creating and joining conversations by link,
 * sending, reading, removing. Everything goes through the real UI (the
 * data-testids documented in entrypoints/sidepanel/App.svelte), so what the
 * test sees is what a person would see.
 */
import type { Browser, CDPSession, Page } from 'puppeteer';
import { launchWithExtension, screenshot, type ExtensionBrowser } from './extension.ts';
import { launchFirefoxWithExtension, type FirefoxExtensionBrowser, type VirtualCredential } from './firefox.ts';

/** Generous: the box running these is small and shared. */
export const STEP_TIMEOUT = 60_000;

/** What the driver needs of a user's browser, Chromium or Firefox. */
export interface UserBrowser {
  browser: Browser;
  extensionId: string;
  userDataDir: string;
  openPage(file: string): Promise<Page>;
  close(): Promise<void>;
}

export interface ChatUser<B extends UserBrowser = ExtensionBrowser> {
  name: string;
  ext: B;
  page: Page;
  authenticator: { session?: CDPSession; authenticatorId: string };
  profileDir: string;
  prf: boolean;
  /** The recovery key shown at sign-up (kept by the test, as the person writes it down). */
  recoveryKey?: string;
}

export interface StartUserOptions {
  extensionDir: string;
  profileDir?: string;
  /** Whether the user's passkey evaluates PRF (then the account is locked by it). */
  prf: boolean;
  /** More Chromium flags (e.g. ['--lang=ar']) and environment (e.g. { LANGUAGE: 'ar' }). */
  args?: readonly string[];
  env?: Record<string, string>;
}

/** Launch a browser for one user (optionally on an existing profile) with the side panel open and a virtual authenticator. */
export async function openBrowser(name: string, options: StartUserOptions): Promise<ChatUser> {
  const ext = await launchWithExtension({ extensionDir: options.extensionDir, userDataDir: options.profileDir, keepProfile: true, args: options.args, env: options.env });
  const page = await ext.openPage('sidepanel.html');
  const authenticator = await ext.addVirtualAuthenticator(page, { prf: options.prf });
  return { name, ext, page, authenticator, profileDir: ext.userDataDir, prf: options.prf };
}

export interface FirefoxUserOptions {
  extensionDir?: string;
  profileDir?: string;
  /** Shorter event-page idle timeout than Firefox's 30 s, to see suspension (and the keep-alive) quickly. */
  backgroundIdleTimeoutMs?: number;
  /** Passkeys the user's authenticator already holds (from before a browser restart). */
  credentials?: VirtualCredential[];
  /** More preferences (e.g. { 'intl.locale.requested': 'de' }). */
  prefs?: Record<string, string | number | boolean>;
}

/**
 * Launch Firefox for one user with the side panel's page open and a virtual
 * authenticator. Firefox's virtual authenticator evaluates PRF, so the
 * account gets the passkey lock.
 */
export async function openFirefoxBrowser(name: string, options: FirefoxUserOptions = {}): Promise<ChatUser<FirefoxExtensionBrowser>> {
  const ext = await launchFirefoxWithExtension({
    extensionDir: options.extensionDir,
    userDataDir: options.profileDir,
    keepProfile: true,
    backgroundIdleTimeoutMs: options.backgroundIdleTimeoutMs,
    prefs: options.prefs,
  });
  const authenticator = await ext.addVirtualAuthenticator();
  if (options.credentials !== undefined) await ext.importCredentials(authenticator.authenticatorId, options.credentials);
  const page = await ext.openPage('sidepanel.html');
  return { name, ext, page, authenticator, profileDir: ext.userDataDir, prf: true };
}

/** First run: point the background at the relay, then create the account with a passkey and a display name. */
export async function onboard(user: ChatUser<UserBrowser>, relayUrl: string): Promise<void> {
  const { page } = user;
  await pointAtRelay(user, relayUrl);
  await page.type('[data-testid="onboarding-name"]', user.name);
  await page.click('[data-testid="onboarding-create"]');
  await page.waitForSelector('[data-testid="recovery-key"], [data-testid="conversations-empty"], [data-testid="conversation-list"]', { timeout: STEP_TIMEOUT });
  if ((await page.$('[data-testid="recovery-key"]')) !== null) user.recoveryKey = await confirmRecoveryKey(user);
  await page.waitForSelector('[data-testid="conversations-empty"], [data-testid="conversation-list"]', { timeout: STEP_TIMEOUT });
}

/** The recovery key shown once (after sign-up, or from Settings): read it, type back the two groups asked for, go on. */
export async function confirmRecoveryKey(user: ChatUser<UserBrowser>): Promise<string> {
  const { page } = user;
  const key = await page.$eval('[data-testid="recovery-key-text"]', (el) => [...el.querySelectorAll('.group')].map((g) => g.textContent ?? '').join('-'));
  const groups = key.split('-');
  for (const i of [0, 1]) {
    const input = await page.waitForSelector(`[data-testid="recovery-key-group-${i}"]`);
    const g = Number(await input!.evaluate((el) => (el as HTMLElement).dataset.group));
    await input!.type(groups[g]!);
  }
  await page.click('[data-testid="recovery-key-confirm"]');
  await page.waitForSelector('[data-testid="recovery-key"]', { hidden: true, timeout: STEP_TIMEOUT });
  return key;
}

/** On the onboarding screen: set the relay URL in Settings and wait until the relay answers. */
export async function pointAtRelay(user: ChatUser<UserBrowser>, relayUrl: string): Promise<void> {
  const { page } = user;
  await page.waitForSelector('[data-testid="onboarding"]', { timeout: STEP_TIMEOUT });
  await page.click('[data-testid="onboarding-settings"]');
  const input = await page.waitForSelector('[data-testid="settings-dialog"] #relay-url');
  await input!.click({ count: 3 });
  await input!.type(relayUrl);
  await page.click('[data-testid="settings-dialog"] form button[type="submit"]');
  await page.waitForSelector('[data-testid="settings-dialog"] [data-testid="relay-status"][data-state="reachable"]', { timeout: STEP_TIMEOUT });
  await page.click('[data-testid="settings-dialog"] button.close');
  await page.waitForSelector('[data-testid="settings-dialog"]', { hidden: true });
}

/** Back to the conversation list when a conversation is open. */
export async function showList(user: ChatUser<UserBrowser>): Promise<void> {
  const { page } = user;
  if ((await page.$('[data-testid="conversation"]')) === null) return;
  await page.click('[data-testid="back"]');
  await page.waitForSelector('[data-testid="conversation-list"], [data-testid="conversations-empty"]', { timeout: STEP_TIMEOUT });
}

/** The list's "+" menu: open the form to create or to join (already open: left as it is). */
async function openNewMenu(page: Page, which: 'create' | 'join'): Promise<void> {
  const field = which === 'create' ? 'new-conversation-name' : 'join-link-input';
  if ((await page.$(`[data-testid="${field}"]`)) !== null) return;
  await page.click('[data-testid="new-menu"]');
  await page.click(`[data-testid="new-menu-${which}"]`);
  await page.waitForSelector(`[data-testid="${field}"]`, { timeout: STEP_TIMEOUT });
}

/** Create a conversation from the list; the side panel opens it. Returns its id. */
export async function createConversation(user: ChatUser<UserBrowser>, name: string): Promise<string> {
  const { page } = user;
  await showList(user);
  await openNewMenu(page, 'create');
  await page.type('[data-testid="new-conversation-name"]', name);
  await page.click('[data-testid="new-conversation-create"]');
  const view = await page.waitForSelector('[data-testid="conversation"][data-status="active"]', { timeout: STEP_TIMEOUT });
  return (await view!.evaluate((el) => el.getAttribute('data-conversation-id'))) ?? '';
}

/** In the open conversation: make an invite code and copy it from the dialog. */
export async function createInvite(user: ChatUser<UserBrowser>, mode: 'one-time' | 'expiring', shotName?: string): Promise<string> {
  const { page } = user;
  await page.click('[data-testid="invite-button"]');
  await page.waitForSelector('[data-testid="invite-dialog"]');
  await page.click(`[data-testid="invite-mode-${mode}"]`);
  await page.click('[data-testid="invite-create"]');
  const field = await page.waitForSelector('[data-testid="invite-link"]', { timeout: STEP_TIMEOUT });
  const link = await field!.evaluate((el) => (el as HTMLInputElement).value);
  if (shotName !== undefined) await screenshot(page, shotName);
  await page.click('[data-testid="invite-dialog"] button.close');
  await page.waitForSelector('[data-testid="invite-dialog"]', { hidden: true });
  return link;
}

/** From the conversation list: paste an invite code and join (the documented flow); waits until the conversation is open and active. */
export async function joinByLink(user: ChatUser<UserBrowser>, link: string): Promise<string> {
  const { page } = user;
  await showList(user);
  await openNewMenu(page, 'join');
  await page.type('[data-testid="join-link-input"]', link);
  await page.click('[data-testid="join-submit"]');
  const view = await page.waitForSelector('[data-testid="conversation"][data-status="active"], [data-testid="join-error"]', {
    timeout: STEP_TIMEOUT,
  });
  const error = await page.$eval('body', (b) => b.querySelector('[data-testid="join-error"]')?.textContent ?? null);
  if (error !== null) throw new Error(`${user.name} could not join: ${error}`);
  return (await view!.evaluate((el) => el.getAttribute('data-conversation-id'))) ?? '';
}

/** Open a conversation from the list (no-op when it is already open). */
export async function openConversation(user: ChatUser<UserBrowser>, conversationId: string): Promise<void> {
  const { page } = user;
  const sel = `[data-testid="conversation"][data-conversation-id="${conversationId}"]`;
  if ((await page.$(sel)) !== null) return;
  await showList(user);
  const item = await page.waitForSelector(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`, {
    timeout: STEP_TIMEOUT,
  });
  await item!.click();
  await page.waitForSelector(sel, { timeout: STEP_TIMEOUT });
}

/** Type a message in the composer and press Enter; waits until it shows as sent. */
export async function send(user: ChatUser<UserBrowser>, text: string, opts: { waitSent?: boolean } = {}): Promise<void> {
  const { page } = user;
  await page.waitForSelector('[data-testid="composer"]:not([disabled])', { timeout: STEP_TIMEOUT });
  await page.type('[data-testid="composer"]', text);
  await page.keyboard.press('Enter');
  if (opts.waitSent ?? true) await waitForMessage(user, text, { status: 'sent' });
}

/** Wait until the open conversation shows `text` (as a rendered message bubble), optionally from a sender or with a status. */
export async function waitForMessage(
  user: ChatUser<UserBrowser>,
  text: string,
  opts: { sender?: string; status?: string; timeout?: number } = {},
): Promise<void> {
  await user.page.waitForFunction(
    (t: string, sender: string | null, status: string | null) =>
      [...document.querySelectorAll('[data-testid="message"][data-kind="text"]')].some(
        (m) =>
          m.querySelector('[data-testid="message-text"]')?.textContent === t &&
          (sender === null || m.getAttribute('data-sender') === sender) &&
          (status === null || m.getAttribute('data-status') === status),
      ),
    { timeout: opts.timeout ?? STEP_TIMEOUT, polling: 200 },
    text,
    opts.sender ?? null,
    opts.status ?? null,
  );
}

export interface ShownMessage {
  text: string;
  sender: string;
  status: string;
  kind: string;
  self: boolean;
}

/** The messages the open conversation currently renders, in order. */
export async function shownMessages(user: ChatUser<UserBrowser>): Promise<ShownMessage[]> {
  return user.page.$$eval('[data-testid="message"]', (els) =>
    els.map((m) => ({
      text: m.querySelector('[data-testid="message-text"]')?.textContent ?? m.textContent?.trim() ?? '',
      sender: m.getAttribute('data-sender') ?? '',
      status: m.getAttribute('data-status') ?? '',
      kind: m.getAttribute('data-kind') ?? '',
      self: m.getAttribute('data-self') === 'true',
    })),
  );
}

/** Remove a member by display name through the members dialog. */
export async function removeMember(user: ChatUser<UserBrowser>, memberName: string, shotName?: string): Promise<void> {
  const { page } = user;
  await page.click('[data-testid="members-button"]');
  await page.waitForSelector('[data-testid="members-dialog"]');
  await page.waitForSelector(`[data-testid="member"][data-name="${memberName}"]`, { timeout: STEP_TIMEOUT });
  if (shotName !== undefined) await screenshot(page, shotName);
  await page.click(`[data-testid="remove-member"][data-name="${memberName}"]`);
  await page.waitForSelector('[data-testid="confirm-dialog"]');
  await page.click('[data-testid="confirm"]');
  await page.waitForFunction(
    (n: string) => document.querySelector(`[data-testid="member"][data-name="${n}"]`) === null,
    { timeout: STEP_TIMEOUT, polling: 200 },
    memberName,
  );
  await page.click('[data-testid="members-dialog"] button.close');
  await page.waitForSelector('[data-testid="members-dialog"]', { hidden: true });
}

/** Stop every service worker of the user's browser through CDP (the background loses its memory, keys included). */
export async function stopServiceWorkers(user: ChatUser<ExtensionBrowser>): Promise<void> {
  // The ServiceWorker domain lives on page targets. Use a blank tab: doing this through the side panel's
  // target left its virtual authenticator disabled ("Virtual Authenticator Environment has not been enabled").
  const blank = await user.ext.browser.newPage();
  const session = await blank.createCDPSession();
  try {
    await session.send('ServiceWorker.enable');
    await session.send('ServiceWorker.stopAllWorkers');
  } finally {
    await session.detach().catch(() => undefined);
    await blank.close();
  }
}

/** After the background lost its memory: unlock with the same passkey when the account is locked, then wait for the list or conversation. */
export async function unlockIfLocked(user: ChatUser<UserBrowser>): Promise<boolean> {
  const { page } = user;
  const first = await page.waitForSelector(
    '[data-testid="lock-screen"], [data-testid="conversation-list"], [data-testid="conversations-empty"], [data-testid="conversation"]',
    { timeout: STEP_TIMEOUT },
  );
  const locked = await first!.evaluate((el) => el.getAttribute('data-testid') === 'lock-screen');
  if (!locked) return false;
  await page.click('[data-testid="unlock"]');
  const done = await page.waitForSelector(
    '[data-testid="conversation-list"], [data-testid="conversations-empty"], [data-testid="conversation"], [data-testid="unlock-error"]',
    { timeout: STEP_TIMEOUT },
  );
  const error = await done!.evaluate((el) => (el.getAttribute('data-testid') === 'unlock-error' ? (el.textContent ?? '') : null));
  if (error !== null) throw new Error(`${user.name} could not unlock: ${error}`);
  return true;
}

/** Wait until the user's browser has no running extension service worker. */
export async function waitForWorkerStopped(user: ChatUser<ExtensionBrowser>): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT;
  while (user.ext.browser.targets().some((t) => t.type() === 'service_worker')) {
    if (Date.now() > deadline) throw new Error(`${user.name}'s service worker did not stop`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
