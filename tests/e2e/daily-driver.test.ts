/**
 * The daily driver (issue 17), end to end: what a person does every day,
 * in real Chromium with the built extension, against a real relay process.
 * Nothing is mocked. Setup follows tests/e2e/chat.test.ts (see there why the
 * extension is copied and its id given to the relay as an RP ID).
 * Screenshots go to artifacts/e2e/daily-*.png.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  onboard,
  openBrowser,
  STEP_TIMEOUT,
  type ChatUser,
  type ShownMessage,
} from '../support/chat-driver.ts';
import { screenshot, snapshotExtension } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

const BURST = 50;

/**
 * Every message of the open conversation, in order. The list renders only
 * the messages near the viewport, so scroll it from top to bottom, reading
 * each window, then leave it at the bottom.
 */
async function everyMessage(user: ChatUser): Promise<ShownMessage[]> {
  const rows = await user.page.evaluate(async () => {
    const list = document.querySelector<HTMLElement>('[data-testid="message-list"]');
    if (list === null) return [];
    const bySeq = new Map<number, { text: string; sender: string; status: string; kind: string; self: boolean }>();
    const read = () => {
      for (const m of list.querySelectorAll('[data-testid="message"]')) {
        bySeq.set(Number(m.getAttribute('data-seq')), {
          text: m.querySelector('[data-testid="message-text"]')?.textContent ?? '',
          sender: m.getAttribute('data-sender') ?? '',
          status: m.getAttribute('data-status') ?? '',
          kind: m.getAttribute('data-kind') ?? '',
          self: m.getAttribute('data-self') === 'true',
        });
      }
    };
    const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    list.scrollTop = 0;
    await frames();
    for (let i = 0; i < 500; i++) {
      read();
      if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
      list.scrollTop += Math.max(50, list.clientHeight / 2);
      await frames();
    }
    read();
    list.scrollTop = list.scrollHeight;
    return [...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
  });
  return rows;
}

describe('daily driver end to end: two people, a real relay', () => {
  let extension: { dir: string; id: string };
  let relay: RelayProcess;
  let alice: ChatUser;
  let bob: ChatUser;
  const profiles: string[] = [];

  beforeAll(async () => {
    extension = snapshotExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${extension.id},chrome-extension://${extension.id}`] });
    [alice, bob] = await Promise.all([
      openBrowser('Alice', { extensionDir: extension.dir, prf: false }),
      openBrowser('Bob', { extensionDir: extension.dir, prf: false }),
    ]);
    profiles.push(alice.profileDir, bob.profileDir);
    for (const u of [alice, bob]) await onboard(u, relay.url);
    const id = await createConversation(alice, 'Burst');
    expect(await joinByLink(bob, await createInvite(alice, 'one-time'))).toBe(id);
    // Alice sees Bob as a member before she starts, so the burst goes to him.
    await alice.page.click('[data-testid="members-button"]');
    await alice.page.waitForSelector('[data-testid="member"][data-name="Bob"]', { timeout: STEP_TIMEOUT });
    await alice.page.click('[data-testid="members-dialog"] button.close');
  });

  afterAll(async () => {
    for (const u of [alice, bob]) await u?.ext.close();
    await relay?.stop();
    for (const dir of [...profiles, extension?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('50 messages typed as fast as puppeteer can go arrive as 50 separate messages, in order (issue 17, item 3)', async () => {
    const texts = Array.from({ length: BURST }, (_, i) => `burst ${i + 1}`);
    const composer = '[data-testid="composer"]';
    await alice.page.waitForSelector(`${composer}:not([disabled])`, { timeout: STEP_TIMEOUT });
    await alice.page.focus(composer);
    // No waits between messages: each Enter must take exactly what was typed since the last one.
    for (const t of texts) {
      await alice.page.keyboard.type(t);
      await alice.page.keyboard.press('Enter');
    }
    expect(await alice.page.$eval(composer, (el) => (el as HTMLTextAreaElement).value)).toBe('');

    const untilAll = async (user: ChatUser, done: (ms: ShownMessage[]) => boolean): Promise<ShownMessage[]> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const ms = (await everyMessage(user)).filter((m) => m.kind === 'text' && m.text.startsWith('burst'));
        if (done(ms) || Date.now() > deadline) return ms;
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    let atBob: ShownMessage[] = [];
    let atAlice: ShownMessage[] = [];
    try {
      atBob = await untilAll(bob, (ms) => ms.length >= BURST);
      atAlice = await untilAll(alice, (ms) => ms.filter((m) => m.status === 'sent').length >= BURST);
    } finally {
      // Seen whatever happens: the screenshots are how a person checks this test.
      await screenshot(alice.page, 'daily-burst-alice');
      await screenshot(bob.page, 'daily-burst-bob');
    }

    expect(atAlice.map((m) => m.text)).toEqual(texts);
    expect(atAlice.every((m) => m.self && m.status === 'sent')).toBe(true);
    expect(atBob.map((m) => m.text)).toEqual(texts);
    expect(atBob.every((m) => m.sender === 'Alice' && !m.self)).toBe(true);
  });
});
