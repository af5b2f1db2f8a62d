/**
 * Connection state that is true, and the account basics (issue 17, items 9
 * and 12): the offline banner and a message that says it waits, the seconds
 * from the relay's restart to "online" (printed), Retry now, one state in
 * settings; a rename that reaches the other member; delete account (the other
 * member sees "X left", the relay forgets the account); sign out (this
 * device's data is gone, onboarding shows).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import {
  createConversation,
  createInvite,
  joinByLink,
  openConversation,
  send,
  STEP_TIMEOUT,
  waitForMessage,
  type ChatUser,
} from '../../support/chat-driver.ts';
import { screenshot } from '../../support/extension.ts';
import { dumpRelayDatabase } from '../../support/relay-process.ts';
import { openPeople, type People } from './people.ts';

/** A light and a dark screenshot of the page as it is now. */
async function shots(page: Page, name: string): Promise<void> {
  await screenshot(page, `daily-connection-${name}-light`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await screenshot(page, `daily-connection-${name}-dark`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
}

const online = '[data-testid="connection-status"][data-state="online"]';

async function openSettings(user: ChatUser): Promise<void> {
  await user.page.click('[data-testid="settings-button"]');
  await user.page.waitForSelector('[data-testid="settings-dialog"]', { timeout: STEP_TIMEOUT });
}

async function closeSettings(user: ChatUser): Promise<void> {
  await user.page.click('[data-testid="settings-dialog"] button.close');
  await user.page.waitForSelector('[data-testid="settings-dialog"]', { hidden: true });
}

async function systemLine(user: ChatUser, text: string | RegExp): Promise<void> {
  const source = typeof text === 'string' ? text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : text.source;
  await user.page.waitForFunction(
    (src: string) => [...document.querySelectorAll('[data-testid="message"][data-kind="system"]')].some((m) => new RegExp(src).test(m.textContent ?? '')),
    { timeout: STEP_TIMEOUT, polling: 200 },
    source,
  );
}

async function accountIds(dataDir: string): Promise<string[]> {
  const db = await dumpRelayDatabase(dataDir);
  return (db.accounts ?? []).map((a) => String(a.account_id));
}

describe('connection and account', () => {
  let people: People<[ChatUser, ChatUser]>;
  let alice: ChatUser;
  let bob: ChatUser;
  let conversationId: string;

  beforeAll(async () => {
    people = await openPeople(['Alice', 'Bob']);
    [alice, bob] = people.users;
    conversationId = await createConversation(alice, 'Outage');
    expect(await joinByLink(bob, await createInvite(alice, 'one-time'))).toBe(conversationId);
    await alice.page.click('[data-testid="members-button"]');
    await alice.page.waitForSelector('[data-testid="member"][data-name="Bob"]', { timeout: STEP_TIMEOUT });
    await alice.page.click('[data-testid="members-dialog"] button.close');
  });

  afterAll(async () => {
    await people?.close();
  });

  it('relay stopped: a banner and a waiting message; relay back: online within seconds (figure printed), and the message goes', async () => {
    const { relay } = people;
    await alice.page.waitForSelector(online, { timeout: STEP_TIMEOUT });
    const stoppedAt = Date.now();
    relay.kill9();
    const banner = await alice.page.waitForSelector('[data-testid="offline-banner"]', { timeout: STEP_TIMEOUT });
    expect(await banner!.evaluate((el) => el.textContent)).toContain("Messages will be sent when you're back online");
    expect(await alice.page.$('[data-testid="retry-now"]')).not.toBeNull();

    const queued = 'Written while the relay was down';
    await send(alice, queued, { waitSent: false });
    const status = await alice.page.waitForSelector('[data-testid="message-status"][data-waiting="true"]', { timeout: STEP_TIMEOUT });
    expect(await status!.evaluate((el) => el.textContent)).toContain("will be sent when you're back online");
    await shots(alice.page, 'offline-conversation');

    // The list shows it too, and settings say one thing: offline, on the account's relay (read-only).
    await alice.page.click('[data-testid="back"]');
    await alice.page.waitForSelector('[data-testid="conversation-list"]', { timeout: STEP_TIMEOUT });
    expect(await alice.page.$('[data-testid="offline-banner"]')).not.toBeNull();
    await shots(alice.page, 'offline-list');
    await openSettings(alice);
    const label = await alice.page.waitForSelector('[data-testid="connection-label"]');
    expect(await label!.evaluate((el) => el.textContent)).toBe('Offline');
    const dialogText = await alice.page.$eval('[data-testid="settings-dialog"]', (el) => el.textContent ?? '');
    expect(dialogText).not.toContain('Connected');
    expect(await alice.page.$eval('[data-testid="relay-url"]', (el) => (el as HTMLInputElement).readOnly)).toBe(true);
    await shots(alice.page, 'offline-settings');
    await closeSettings(alice);
    await openConversation(alice, conversationId);

    // Long enough for the back-off to reach its cap, as in a real outage.
    const outage = 12_000 - (Date.now() - stoppedAt);
    if (outage > 0) await new Promise((r) => setTimeout(r, outage));
    await relay.restart();
    const back = Date.now();
    await alice.page.waitForSelector(online, { timeout: 30_000 });
    const seconds = (Date.now() - back) / 1000;
    console.log(`[connection-account] relay restart → online: ${seconds.toFixed(2)} s (outage ${((back - stoppedAt) / 1000).toFixed(1)} s)`);
    expect(seconds).toBeLessThan(10);
    await alice.page.waitForSelector('[data-testid="offline-banner"]', { hidden: true, timeout: STEP_TIMEOUT });
    await waitForMessage(alice, queued, { status: 'sent' });
    await waitForMessage(bob, queued, { sender: 'Alice' });
  });

  it('Retry now reaches a relay that is back at once, without waiting out the back-off', async () => {
    const { relay } = people;
    relay.kill9();
    await alice.page.waitForSelector('[data-testid="offline-banner"]', { timeout: STEP_TIMEOUT });
    await new Promise((r) => setTimeout(r, 10_000));
    await relay.restart();
    const back = Date.now();
    await alice.page.click('[data-testid="retry-now"]');
    await alice.page.waitForSelector(online, { timeout: 30_000 });
    const seconds = (Date.now() - back) / 1000;
    console.log(`[connection-account] relay restart → Retry now → online: ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(5);
  });

  it('your name shows in settings; a new one reaches the other member', async () => {
    await openSettings(alice);
    const input = await alice.page.waitForSelector('[data-testid="display-name-input"]');
    expect(await input!.evaluate((el) => (el as HTMLInputElement).value)).toBe('Alice');
    await alice.page.waitForSelector('[data-testid="connection-settings"][data-state="online"]');
    await shots(alice.page, 'account-settings');
    await input!.click({ count: 3 });
    await input!.type('Alicia');
    await alice.page.click('[data-testid="display-name-save"]');
    await alice.page.waitForFunction(
      () => (document.querySelector('[data-testid="display-name-save"]') as HTMLButtonElement | null)?.disabled === true,
      { timeout: STEP_TIMEOUT },
    );
    await closeSettings(alice);
    await openConversation(bob, conversationId);
    await systemLine(bob, 'Alice is now called Alicia.');
  });

  it('delete account: warned first; leaves the conversation (Bob sees it), the relay forgets the account, onboarding shows', async () => {
    const before = await accountIds(people.relay.dataDir);
    expect(before).toHaveLength(2);
    await openSettings(alice);
    await alice.page.click('[data-testid="delete-account"]');
    const dialog = await alice.page.waitForSelector('[data-testid="confirm-dialog"]');
    expect(await dialog!.evaluate((el) => el.textContent)).toContain('leaves every conversation');
    await shots(alice.page, 'delete-account-warning');
    await alice.page.click('[data-testid="confirm"]');
    await alice.page.waitForSelector('[data-testid="onboarding"]', { timeout: STEP_TIMEOUT });
    // Bob's device commits Alicia's leaving, and names her as the actor: she left, he did not remove her.
    await systemLine(bob, /Alicia left\./);
    await screenshot(bob.page, 'daily-connection-other-member-after-delete-light');
    expect(await bob.page.$eval('[data-testid="conversation"]', (el) => el.textContent ?? '')).toContain('1 member');
    const after = await accountIds(people.relay.dataDir);
    expect(after).toHaveLength(1);
    const gone = before.find((a) => !after.includes(a))!;
    const db = await dumpRelayDatabase(people.relay.dataDir);
    for (const table of ['credentials', 'sessions', 'key_packages']) {
      expect((db[table] ?? []).some((r) => r.account_id === gone), table).toBe(false);
    }
  });

  it("sign out: warned first; this device's data is gone and onboarding shows", async () => {
    await openSettings(bob);
    await bob.page.click('[data-testid="sign-out"]');
    const dialog = await bob.page.waitForSelector('[data-testid="confirm-dialog"]');
    expect(await dialog!.evaluate((el) => el.textContent)).toContain('deletes everything MicroChat keeps on this device');
    await shots(bob.page, 'sign-out-warning');
    await bob.page.click('[data-testid="confirm"]');
    await bob.page.waitForSelector('[data-testid="onboarding"]', { timeout: STEP_TIMEOUT });
    await bob.page.waitForSelector('[data-testid="onboarding"] [data-testid="relay-status"][data-state="reachable"]', { timeout: STEP_TIMEOUT });
    await shots(bob.page, 'signed-out');
    const counts = await bob.page.evaluate(
      () =>
        new Promise<Record<string, number>>((resolve, reject) => {
          const open = indexedDB.open('microchat');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const names = [...db.objectStoreNames];
            const tx = db.transaction(names);
            const out: Record<string, number> = {};
            for (const n of names) {
              const r = tx.objectStore(n).count();
              r.onsuccess = () => (out[n] = r.result);
            }
            tx.oncomplete = () => resolve(out);
          };
        }),
    );
    // 'keys' holds one fresh device key, for the next sign-up; nothing of the account is left.
    expect(counts.keys).toBeLessThanOrEqual(1);
    for (const store of ['secrets', 'tokens', 'conversations', 'groups', 'messages', 'outbox', 'seen']) expect(counts[store], store).toBe(0);
    // A fresh page shows onboarding too: the background holds no account any more.
    const again = await bob.ext.openPage('sidepanel.html');
    await again.waitForSelector('[data-testid="onboarding"]', { timeout: STEP_TIMEOUT });
    await again.close();
  });
});
