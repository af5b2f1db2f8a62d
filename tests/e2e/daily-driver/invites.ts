/**
 * Inviting (issue 17, item 14): the expiry is a choice (none for a one-time
 * code), an open invite is copied again after the dialog was closed (the same
 * code), a QR code of it is offered, and the person who joins sees that
 * earlier messages are not shown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { createConversation, joinByLink, send, STEP_TIMEOUT, type ChatUser } from '../../support/chat-driver.ts';
import { screenshot } from '../../support/extension.ts';
import { darkModulesPath, qrDrawing } from '../../../lib/view/qr-path.ts';
import { JOINER_NOTICE } from '../../../lib/protocol/channel.ts';
import { openPeople, type People } from './people.ts';

/** Light and dark screenshots of the page as it is now. */
async function shots(page: Page, name: string): Promise<void> {
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
  await screenshot(page, `daily-invites-${name}-light`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await screenshot(page, `daily-invites-${name}-dark`);
  await page.emulateMediaFeatures();
}

async function closeInviteDialog(page: Page): Promise<void> {
  await page.click('[data-testid="invite-dialog"] button.close');
  await page.waitForSelector('[data-testid="invite-dialog"]', { hidden: true });
}

describe('invites: expiry choice, copy again, QR code, joiner notice', () => {
  let people: People<[ChatUser, ChatUser]>;
  let alice: ChatUser;
  let bob: ChatUser;

  beforeAll(async () => {
    people = await openPeople(['Alice', 'Bob']);
    [alice, bob] = people.users;
    const origin = `chrome-extension://${alice.ext.extensionId}`;
    // "Copy" writes to the clipboard; the test reads it back to compare.
    await alice.ext.browser.defaultBrowserContext().overridePermissions(origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
  });

  afterAll(async () => {
    await people?.close();
  });

  it('Alice makes a 7-day invite, closes the dialog, copies the same code again with its QR code; Bob joins with it and sees the notice', async () => {
    const { page } = alice;
    const id = await createConversation(alice, 'Weekend');
    await send(alice, 'said before Bob joined');

    await page.click('[data-testid="invite-button"]');
    await page.waitForSelector('[data-testid="invite-dialog"]');
    // One-time is the default: no expiry to choose.
    expect(await page.$('[data-testid="invite-expiry"]')).toBeNull();
    await page.click('[data-testid="invite-mode-expiring"]');
    const choices = await page.$$eval('[data-testid="invite-expiry"] option', (os) => os.map((o) => o.textContent));
    expect(choices).toEqual(['1 hour', '1 day', '7 days', '30 days']);
    await page.select('[data-testid="invite-expiry"]', '168');
    await shots(page, 'dialog-expiry');
    await page.click('[data-testid="invite-create"]');
    const field = await page.waitForSelector('[data-testid="invite-link"]', { timeout: STEP_TIMEOUT });
    const made = await field!.evaluate((el) => (el as HTMLInputElement).value);
    expect(made).toMatch(/^microchat:join\?r=/);
    await closeInviteDialog(page);

    // Reopened: the invite is listed, and Copy gives the same code again.
    await page.click('[data-testid="invite-button"]');
    const row = await page.waitForSelector('[data-testid="open-invite"][data-mode="expiring"]', { timeout: STEP_TIMEOUT });
    expect(await row!.$eval('[data-testid="open-invite-kind"]', (el) => el.textContent)).toBe('Anyone with the code');
    expect(await row!.$eval('[data-testid="open-invite-expiry"]', (el) => el.textContent)).toBe('expires in 7 days');
    expect(await page.$('[data-testid="invite-link"]')).toBeNull();
    await page.evaluate(() => navigator.clipboard.writeText('nothing yet'));
    await (await row!.$('[data-testid="invite-copy-again"]'))!.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="invite-copy-status"]')?.textContent?.includes('Copied.'), {
      timeout: STEP_TIMEOUT,
    });
    const clipboard = await page.evaluate(() => navigator.clipboard.readText());
    expect(clipboard).toBe(made);
    expect(await page.$eval('[data-testid="invite-link"]', (el) => (el as HTMLInputElement).value)).toBe(made);

    // The QR code is of that code: the modules drawn are the ones uqr encodes for it.
    await page.click('[data-testid="invite-qr-toggle"]');
    const qr = await page.waitForSelector('[data-testid="invite-qr"]');
    const drawn = await qr!.evaluate((svg) => ({
      viewBox: svg.getAttribute('viewBox'),
      d: svg.querySelector('path')?.getAttribute('d'),
      width: svg.getBoundingClientRect().width,
      rect: svg.querySelector('rect')?.getAttribute('fill'),
      path: svg.querySelector('path')?.getAttribute('fill'),
    }));
    const want = qrDrawing(made);
    expect(drawn.viewBox).toBe(`0 0 ${want.size} ${want.size}`);
    expect(drawn.d).toBe(darkModulesPath(want.matrix));
    expect([drawn.rect, drawn.path]).toEqual(['#ffffff', '#000000']);
    // Big enough to scan off a screen: at least 2 px per module.
    expect(drawn.width).toBeGreaterThanOrEqual(2 * want.size);
    await qr!.scrollIntoView();
    await shots(page, 'dialog-qr');
    await closeInviteDialog(page);

    expect(await joinByLink(bob, clipboard)).toBe(id);
    const first = await bob.page.waitForSelector('[data-testid="message"][data-kind="system"]', { timeout: STEP_TIMEOUT });
    expect(await first!.$eval('span', (el) => el.textContent)).toBe(JOINER_NOTICE);
    const lines = await bob.page.$$eval('[data-testid="message"]', (els) => els.map((el) => el.querySelector('span')?.textContent ?? ''));
    expect(lines.slice(0, 2)).toEqual([JOINER_NOTICE, 'You joined the conversation.']);
    expect(lines).not.toContain('said before Bob joined');
    expect(await bob.page.$eval('[data-testid="message-list"]', (el) => el.textContent)).not.toContain('This is the beginning of the conversation.');
    await shots(bob.page, 'joiner-notice');
  });
});
