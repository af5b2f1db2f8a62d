// Waking the background in real Chromium, against a real relay. The worker's own script is a small shell: it answers
// a woken view from the view state the full background kept, sealed (lib/background/wake-state.ts), and then loads the
// full background (lib/background/engine.ts), which answers everything else. With the lock on nothing is kept, and
// the full background answers the first question too.
import { rmSync } from 'node:fs';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, onboard, openBrowser, openConversation, send, showList, STEP_TIMEOUT, stopServiceWorkers, waitForMessage, waitForWorkerStopped, type ChatUser } from '../support/chat-driver.ts';
import { screenshot, snapshotExtension } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { CHANNEL } from '../../lib/protocol/channel.ts';

/** Long and unlikely: searched for in the raw database, where a short string could match random bytes. */
const NAME = 'Wake canary, Quentin 3f9c7a21';
const PASSPHRASE = 'a passphrase only Wendy knows';

/** The kept record as the page's own IndexedDB connection reads it (extension origin), its bytes as latin1 text. */
async function keptRecord(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('microchat');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    try {
      const record = await new Promise<unknown>((resolve, reject) => {
        const r = db.transaction('secrets').objectStore('secrets').get('wake-state');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      if (record === undefined) return null;
      return JSON.stringify(record, (_k, v: unknown) => (v instanceof Uint8Array ? String.fromCharCode(...v) : v));
    } finally {
      db.close();
    }
  });
}

async function waitKept(page: Page, present: boolean): Promise<string | null> {
  const deadline = Date.now() + STEP_TIMEOUT;
  for (;;) {
    const record = await keptRecord(page);
    if ((record !== null) === present) return record;
    if (Date.now() > deadline) throw new Error(`the kept state is still ${present ? 'missing' : 'there'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A `state.get` from an extension page with no live port, as the first request of a woken worker. */
async function askState(page: Page): Promise<{ account: { state: string; lockEnabled?: boolean }; conversations: { name: string }[] }> {
  return page.evaluate(async (channel: string) => {
    const rt = (globalThis as unknown as { chrome: { runtime: { sendMessage(x: unknown): Promise<{ ok: boolean; result?: unknown; error?: { message: string } }> } } }).chrome.runtime;
    const res = await rt.sendMessage({ channel, method: 'state.get', params: null });
    if (!res.ok) throw new Error(res.error!.message);
    return res.result as { account: { state: string; lockEnabled?: boolean }; conversations: { name: string }[] };
  }, CHANNEL);
}

/** The woken worker's start-up steps (lib/background/wake-timing.ts), read through a CDP session detached at once. */
async function wakeSteps(user: ChatUser): Promise<Record<string, number>> {
  const target = await user.ext.browser.waitForTarget((t) => t.type() === 'service_worker', { timeout: STEP_TIMEOUT });
  const session = await target.createCDPSession();
  try {
    const { result } = await session.send('Runtime.evaluate', { expression: 'globalThis.microchatWakeTimings?.()', returnByValue: true });
    return result.value as Record<string, number>;
  } finally {
    await session.detach().catch(() => undefined);
  }
}

async function stopWorker(user: ChatUser): Promise<void> {
  await stopServiceWorkers(user);
  await waitForWorkerStopped(user);
}

describe('a woken background, in Chromium', () => {
  let extension: { dir: string; id: string };
  let relay: RelayProcess;
  let wendy: ChatUser;
  let quiet: Page;
  let conversationId: string;

  beforeAll(async () => {
    extension = snapshotExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${extension.id},chrome-extension://${extension.id}`] });
  });

  afterAll(async () => {
    await wendy?.ext.close();
    await relay?.stop();
    for (const dir of [wendy?.profileDir, extension?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers from the kept state, sealed at rest, then the full background shows the history and sends', async () => {
    wendy = await openBrowser('Wendy', { extensionDir: extension.dir, prf: false });
    await onboard(wendy, relay.url);
    conversationId = await createConversation(wendy, NAME);
    await send(wendy, 'said before the wake', { waitSent: true });
    quiet = await wendy.ext.browser.newPage();
    await quiet.goto(`chrome-extension://${wendy.ext.extensionId}/manifest.json`);

    const record = await waitKept(quiet, true);
    expect(record).not.toContain(NAME);
    expect(record).not.toContain('said before the wake');

    await stopWorker(wendy);
    const state = await askState(quiet);
    expect(state.account.state).toBe('ready');
    expect(state.conversations.map((c) => c.name)).toEqual([NAME]);
    // The answer came from the kept state: the shell marked reading it.
    expect((await wakeSteps(wendy)).kept).toBeGreaterThan(0);

    // The side panel, opened on the woken worker: the list, then the history and a send, from the full background.
    // (The quiet page came to the front when it opened: a hidden tab gets no frames, and clicks in it wait for one.)
    await wendy.page.bringToFront();
    await wendy.page.reload({ waitUntil: 'domcontentloaded' });
    await wendy.page.waitForSelector(`[data-conversation-id="${conversationId}"]`, { timeout: STEP_TIMEOUT });
    await showList(wendy);
    await wendy.page.waitForSelector(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`, { timeout: STEP_TIMEOUT });
    await screenshot(wendy.page, 'wake-01-list-after-wake');
    await openConversation(wendy, conversationId);
    await waitForMessage(wendy, 'said before the wake');
    await send(wendy, 'said after the wake', { waitSent: true });
    await screenshot(wendy.page, 'wake-02-sent-after-wake');
    const steps = await wakeSteps(wendy);
    expect(steps.ready).toBeGreaterThan(steps.kept!);
  });

  it('with the lock on nothing is kept, and a woken worker answers from the full background', async () => {
    await wendy.page.bringToFront();
    await wendy.page.click('[data-testid="settings-button"]');
    await wendy.page.waitForSelector('[data-testid="lock-settings"][data-lock="off"]', { timeout: STEP_TIMEOUT });
    await wendy.page.click('[data-testid="lock-on-passkey"]');
    await wendy.page.waitForSelector('[data-testid="lock-note"]', { timeout: STEP_TIMEOUT });
    await wendy.page.type('[data-testid="lock-passphrase"]', PASSPHRASE);
    await wendy.page.type('[data-testid="lock-passphrase-repeat"]', PASSPHRASE);
    await wendy.page.click('[data-testid="lock-passphrase-submit"]');
    await wendy.page.waitForSelector('[data-testid="lock-settings"][data-lock="passphrase"]', { timeout: STEP_TIMEOUT });
    await waitKept(quiet, false);

    await stopWorker(wendy);
    // Still unlocked (the data key waits in storage.session), so the answer is the list, from the full background.
    const state = await askState(quiet);
    expect(state.account).toMatchObject({ state: 'ready', lockEnabled: true });
    expect(state.conversations.map((c) => c.name)).toEqual([NAME]);
    const steps = await wakeSteps(wendy);
    expect(steps.kept).toBeUndefined();
    expect(steps.ready).toBeGreaterThan(0);
    expect(await keptRecord(quiet)).toBeNull();
  });
});
