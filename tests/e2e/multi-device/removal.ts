/**
 * e. Alice removes her Firefox from Settings → Your devices on Chromium:
 * Firefox shows that it was removed, Alice and Bob keep talking, and
 * nothing they write from then on shows on Firefox.
 */
import { describe, expect, it } from 'vitest';
import { openConversation, send, shownMessages, waitForMessage, STEP_TIMEOUT } from '../../support/chat-driver.ts';
import * as sentences from '../../../lib/background/text.ts';
import { aliceFx, newestInView, shot, text, world } from './world.ts';

describe('e. Alice removes her Firefox device from Settings', () => {
  it('Chromium lists both devices, removes Firefox behind a warning, and says what it did', async () => {
    const { alice, bob } = world;
    // Bob looks at the conversation they share while the removal comes in (its system message arrives in view).
    await openConversation(bob, world.shared);
    await alice.page.click('[data-testid="settings-button"]');
    await alice.page.waitForSelector('[data-testid="device-settings"]');
    await alice.page.waitForFunction(() => document.querySelectorAll('[data-testid="own-device"]').length === 2, { timeout: STEP_TIMEOUT, polling: 200 });
    const devices = await alice.page.$$eval('[data-testid="own-device"]', (els) =>
      els.map((el) => ({ name: el.querySelector('[data-testid="own-device-name"]')?.textContent?.trim(), self: el.querySelector('[data-testid="own-device-this"]') !== null })),
    );
    expect(devices.filter((d) => d.self)).toHaveLength(1);
    expect(devices.find((d) => !d.self)?.name).toMatch(/Firefox/);
    await shot(alice, 'e1-your-devices');
    await alice.page.click('[data-testid="own-device"]:not(:has([data-testid="own-device-this"])) [data-testid="remove-device"]');
    await alice.page.waitForSelector('[data-testid="confirm"]');
    await shot(alice, 'e1-remove-warning');
    await alice.page.click('[data-testid="confirm"]');
    await alice.page.waitForSelector('[data-testid="device-removed-summary"]', { timeout: 3 * STEP_TIMEOUT });
    await alice.page.waitForFunction(() => document.querySelectorAll('[data-testid="own-device"]').length === 1, { timeout: STEP_TIMEOUT, polling: 200 });
    await shot(alice, 'e1-removed');
    await alice.page.click('[data-testid="settings-dialog"] button.close');
    await alice.page.waitForSelector('[data-testid="settings-dialog"]', { hidden: true });
  });

  it('Firefox shows it was removed', async () => {
    const fx = aliceFx();
    await fx.page.waitForSelector('[data-testid="device-removed"]', { timeout: 3 * STEP_TIMEOUT });
    await shot(fx, 'e2-removed-screen');
  });

  it('Alice and Bob keep talking; nothing new shows on Firefox', async () => {
    const { alice, bob } = world;
    const fx = aliceFx();
    await openConversation(alice, world.shared);
    await openConversation(bob, world.shared);
    // Alice's Chromium names the device it removed, not the leaf it was.
    const removedNote = sentences.youRemovedOwnDevice('Firefox on Linux');
    await alice.page.waitForFunction(
      (w: string) => [...document.querySelectorAll('[data-testid="message"][data-kind="system"]')].some((m) => (m.textContent ?? '').includes(w)),
      { timeout: STEP_TIMEOUT, polling: 200 },
      removedNote,
    );
    expect((await shownMessages(alice)).filter((m) => m.kind === 'system' && /You removed/.test(m.text)).map((m) => m.text)).toEqual([expect.stringContaining(removedNote)]);
    const a = text('Firefox is gone, just us now');
    await send(alice, a);
    await waitForMessage(bob, a, { sender: 'Alice' });
    const b = text('Fine by me');
    await send(bob, b);
    await waitForMessage(alice, b, { sender: 'Bob' });
    // Bob reads that Alice removed one of her devices, by its name.
    expect((await shownMessages(bob)).filter((m) => m.kind === 'system' && m.text.includes('removed')).map((m) => m.text)).toEqual([
      expect.stringContaining(sentences.removedOwnDevice('Alice', 'Firefox on Linux')),
    ]);
    // The removal's system message came while both looked at the conversation: each still shows its newest message.
    for (const u of [alice, bob]) expect(await newestInView(u), `${u.name}'s newest message in view`).toBe(true);
    await shot(alice, 'e3-still-talking');
    await shot(bob, 'e3-still-talking');
    // Give Firefox every chance to show them: they never come.
    await new Promise((r) => setTimeout(r, 2000));
    const shown = await fx.page.evaluate(() => document.body.innerText);
    expect(shown).not.toContain(a);
    expect(shown).not.toContain(b);
    expect(await fx.page.$('[data-testid="device-removed"]')).not.toBeNull();
    await shot(fx, 'e3-nothing-new');
  });
});
