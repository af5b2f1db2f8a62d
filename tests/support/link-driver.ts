/**
 * Drives linking a device (issue 18) through the real UI, the way a person
 * does it: on the new device "Link to my account" on the onboarding screen
 * (its code as text and QR), on the device already linked Settings → Link a
 * device (the code, the history consent), the digits on both, "They match".
 * The data-testids are those of components/LinkDialog.svelte,
 * components/LinkDeviceSettings.svelte and components/Onboarding.svelte.
 */
import type { Page } from 'puppeteer';
import { pointAtRelay, STEP_TIMEOUT, type ChatUser, type UserBrowser } from './chat-driver.ts';

export interface ShownCode {
  code: string;
  /** The path of the QR code's dark modules as drawn. */
  qrPath: string;
  /** Modules per side of the drawn QR code (its viewBox). */
  qrSize: number;
}

/** New device, first run: point it at the relay, choose "Link to my account" (a passkey is made), and read the code it shows. */
export async function startLinkOnNewDevice(user: ChatUser<UserBrowser>, relayUrl: string): Promise<ShownCode> {
  const { page } = user;
  await pointAtRelay(user, relayUrl);
  await page.click('[data-testid="onboarding-link"]');
  const codeEl = await page.waitForSelector('[data-testid="link-dialog"] [data-testid="link-code"], [data-testid="link-error"]', {
    timeout: STEP_TIMEOUT,
  });
  const failure = await codeEl!.evaluate((el) => (el.getAttribute('data-testid') === 'link-error' ? (el.textContent ?? '') : null));
  if (failure !== null) throw new Error(`${user.name} could not start linking: ${failure}`);
  const code = (await codeEl!.evaluate((el) => el.textContent ?? '')).trim();
  const qr = await page.waitForSelector('[data-testid="link-qr"]', { timeout: STEP_TIMEOUT });
  const drawn = await qr!.evaluate((svg) => ({
    path: svg.querySelector('path')?.getAttribute('d') ?? '',
    size: Number(svg.getAttribute('viewBox')?.split(' ')[2] ?? '0'),
  }));
  return { code, qrPath: drawn.path, qrSize: drawn.size };
}

/** Device already linked: Settings → Link a device, enter the code (with or without the history), then wait for the digits. */
export async function enterLinkCode(user: ChatUser<UserBrowser>, code: string, opts: { sendHistory: boolean; beforeSubmit?: () => Promise<void> }): Promise<void> {
  const { page } = user;
  await page.click('[data-testid="settings-button"]');
  const input = await page.waitForSelector('[data-testid="settings-dialog"] [data-testid="link-code-input"]', { timeout: STEP_TIMEOUT });
  await input!.type(code);
  const box = await page.waitForSelector('[data-testid="link-send-history"]');
  const checked = await box!.evaluate((el) => (el as HTMLInputElement).checked);
  if (checked !== opts.sendHistory) await box!.click();
  if (opts.beforeSubmit !== undefined) await opts.beforeSubmit();
  await page.click('[data-testid="link-enter"]');
  await waitForDigits(user);
}

/** The confirmation digits the link dialog shows (waits for them). */
export async function waitForDigits(user: ChatUser<UserBrowser>): Promise<string> {
  const el = await user.page.waitForSelector('[data-testid="link-dialog"] [data-testid="link-confirmation"], [data-testid="link-error"]', {
    timeout: STEP_TIMEOUT,
  });
  const [id, content] = await el!.evaluate((e) => [e.getAttribute('data-testid'), (e.textContent ?? '').trim()]);
  if (id === 'link-error') throw new Error(`${user.name}: linking failed: ${content}`);
  return content ?? '';
}

/** Wait until the link dialog says the link is done (a failure throws with its text). */
export async function waitForLinkDone(user: ChatUser<UserBrowser>, timeout = 3 * STEP_TIMEOUT): Promise<string> {
  const el = await user.page.waitForSelector('[data-testid="link-done"], [data-testid="link-error"]', { timeout });
  const [id, content] = await el!.evaluate((e) => [e.getAttribute('data-testid'), (e.textContent ?? '').trim()]);
  if (id === 'link-error') throw new Error(`${user.name}: linking failed: ${content}`);
  return content ?? '';
}

/**
 * Keep every text the given elements show from now on, in order, once each:
 * progress lines may last only a moment, too short to poll for. Read them
 * with `recordedTexts`.
 */
export async function recordTexts(page: Page, testids: readonly string[]): Promise<void> {
  await page.evaluate((ids: string[]) => {
    const w = window as unknown as { __mcSeen?: string[]; __mcObserver?: MutationObserver };
    w.__mcObserver?.disconnect();
    const seen: string[] = (w.__mcSeen = []);
    const selector = ids.map((id) => `[data-testid="${id}"]`).join(', ');
    const read = (): void => {
      for (const el of document.querySelectorAll(selector)) {
        const t = `${el.getAttribute('data-testid')}: ${(el.textContent ?? '').trim()}`;
        if (!seen.includes(t)) seen.push(t);
      }
    };
    w.__mcObserver = new MutationObserver(read);
    w.__mcObserver.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    read();
  }, [...testids]);
}

export async function recordedTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((window as unknown as { __mcSeen?: string[] }).__mcSeen ?? [])]);
}

/** Close the link dialog (Close once finished). */
export async function closeLinkDialog(user: ChatUser<UserBrowser>): Promise<void> {
  await user.page.click('[data-testid="link-close"]');
  await user.page.waitForSelector('[data-testid="link-dialog"]', { hidden: true, timeout: STEP_TIMEOUT });
}
