/**
 * a. Alice on Chromium links Alice on Firefox, with the history: the code as
 * text and as a QR code on Firefox, the same digits on both, the handover's
 * progress, then her conversations and their history on Firefox, where new
 * messages keep arriving (Firefox is a member, not a copy).
 */
import { describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  openConversation,
  openFirefoxBrowser,
  send,
  showList,
  waitForMessage,
  STEP_TIMEOUT,
} from '../../support/chat-driver.ts';
import {
  closeLinkDialog,
  enterLinkCode,
  recordedTexts,
  recordTexts,
  startLinkOnNewDevice,
  waitForDigits,
  waitForLinkDone,
} from '../../support/link-driver.ts';
import { qrDrawing } from '../../../lib/view/qr-path.ts';
import { everyMessage } from '../daily-driver/people.ts';
import { aliceFx, shot, text, world } from './world.ts';

const PROGRESS_IDS = ['link-progress', 'link-done', 'link-adding', 'adding-device'] as const;

describe('a. Alice on Chromium links Alice on Firefox, with history', () => {
  it('before: Alice and Bob talk on Chromium; Alice has a conversation of her own', async () => {
    const { alice, bob } = world;
    world.shared = await createConversation(alice, 'Weekend plans');
    const link = await createInvite(alice, 'one-time');
    expect(await joinByLink(bob, link)).toBe(world.shared);
    const a1 = text('Shall we hike on Saturday?');
    await send(alice, a1);
    await waitForMessage(bob, a1, { sender: 'Alice' });
    const b1 = text('Yes, the ridge trail');
    await send(bob, b1);
    await waitForMessage(alice, b1, { sender: 'Bob' });
    const a2 = text('I will bring the map');
    await send(alice, a2);
    await waitForMessage(bob, a2, { sender: 'Alice' });
    world.sharedHistory = [`me: ${a1}`, `Bob: ${b1}`, `me: ${a2}`];

    world.solo = await createConversation(alice, 'Notes to self');
    const note = text('Buy new boots');
    await send(alice, note);
    await shot(alice, 'a0-before-link');
  });

  let code = '';

  it('Firefox, first run: "Link to my account" shows a one-time code as text and as its QR code', async () => {
    world.aliceFx = await openFirefoxBrowser('Alice-FF', { extensionDir: world.firefoxBuild });
    const fx = aliceFx();
    await shot(fx, 'a1-firefox-onboarding');
    const shown = await startLinkOnNewDevice(fx, world.relay.url);
    code = shown.code;
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{5}$/);
    // The QR code is of that code: the modules drawn are the ones uqr encodes for it.
    const expected = qrDrawing(code);
    expect(shown.qrSize).toBe(expected.size);
    expect(shown.qrPath).toBe(expected.path);
    await shot(fx, 'a1-code-and-qr');
  });

  it('Chromium: Alice enters the code with the history; both devices show the same digits; she confirms; both show progress, then done', async () => {
    const { alice } = world;
    const fx = aliceFx();
    await recordTexts(fx.page, PROGRESS_IDS);
    await enterLinkCode(alice, code, {
      sendHistory: true,
      beforeSubmit: () => shot(alice, 'a2-code-entered'),
    });
    const onChromium = await waitForDigits(alice);
    const onFirefox = await waitForDigits(fx);
    expect(onChromium).toMatch(/\d/);
    expect(onFirefox).toBe(onChromium);
    await shot(alice, 'a2-digits');
    await shot(fx, 'a2-digits');
    // Only the device already linked decides; the new one waits.
    expect(await fx.page.$('[data-testid="link-match"]')).toBeNull();

    await recordTexts(alice.page, PROGRESS_IDS);
    const started = Date.now();
    await alice.page.click('[data-testid="link-match"]');
    const doneFx = await waitForLinkDone(fx);
    const doneChromium = await waitForLinkDone(alice);
    expect(doneFx).toContain('This device is linked');
    expect(doneChromium).toContain('The device is linked');
    // Firefox says so until every conversation has reached it ("Adding this device to N of 2 conversations…").
    await fx.page
      .waitForFunction(() => document.querySelector('[data-testid="link-adding"]') === null, { timeout: 3 * STEP_TIMEOUT, polling: 200 })
      .catch(() => undefined);
    const seenFx = await recordedTexts(fx.page);
    const seenChromium = await recordedTexts(alice.page);
    console.log(`[multi-device] linked in ${Date.now() - started} ms\n  Firefox saw: ${seenFx.join(' | ')}\n  Chromium saw: ${seenChromium.join(' | ')}`);
    // Progress on both: the history being copied (3 + 1 messages with consent), then the conversations being added.
    for (const seen of [seenFx, seenChromium]) expect(seen.some((t) => t.startsWith('link-progress: '))).toBe(true);
    expect(seenFx.some((t) => /^link-adding: Adding this device to \d of 2 conversations…$/.test(t))).toBe(true);
    await shot(fx, 'a2-done');
    await shot(alice, 'a2-done');
    await closeLinkDialog(fx);
    await closeLinkDialog(alice);
    // Chromium: back from Settings, where the link began.
    await alice.page.click('[data-testid="settings-dialog"] button.close');
    await alice.page.waitForSelector('[data-testid="settings-dialog"]', { hidden: true });
  });

  it('Firefox has both of Alice’s conversations, the shared one with its history as Alice sees it, and takes part from now on', async () => {
    const fx = aliceFx();
    const { bob } = world;
    await showList(fx);
    for (const id of [world.shared, world.solo]) {
      await fx.page.waitForSelector(`[data-testid="conversation-item"][data-conversation-id="${id}"][data-status="active"]`, {
        timeout: 3 * STEP_TIMEOUT,
      });
    }
    // The display name came over with the account.
    await fx.page.click('[data-testid="settings-button"]');
    await fx.page.waitForSelector('[data-testid="settings-dialog"]');
    await shot(fx, 'a3-settings-after-link');
    await fx.page.click('[data-testid="settings-dialog"] button.close');
    await shot(fx, 'a3-list');

    await openConversation(fx, world.shared);
    await fx.page.waitForFunction(
      (n: number) => document.querySelectorAll('[data-testid="message"][data-kind="text"]').length >= n,
      { timeout: STEP_TIMEOUT, polling: 200 },
      world.sharedHistory.length,
    );
    const history = (await everyMessage(fx)).filter((m) => m.kind === 'text').map((m) => `${m.self ? 'me' : m.sender}: ${m.text}`);
    expect(history.slice(0, world.sharedHistory.length)).toEqual(world.sharedHistory);
    // Bob's copied message carries his name, as it does on Chromium.
    const names = await fx.page.$$eval('[data-testid="message"][data-kind="text"] [data-testid="sender-name"]', (els) => els.map((e) => e.textContent?.trim()));
    expect(names).toContain('Bob');
    await shot(fx, 'a3-history');

    // A member now: Bob's next message reaches Firefox too, decrypted.
    await openConversation(bob, world.shared);
    const after = text('See you both there');
    await send(bob, after);
    await waitForMessage(fx, after, { sender: 'Bob' });
    await openConversation(world.alice, world.shared);
    await waitForMessage(world.alice, after, { sender: 'Bob' });
    await shot(fx, 'a3-live');
  });
});
