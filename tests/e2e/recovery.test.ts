/**
 * Recovery end to end (issue #19), in real Chromium with the built extension against a real relay:
 * Alice, in three conversations with Bob and Carol, keeps her recovery key from sign-up and opts her
 * history into the backup. Her profile is wiped (a new browser profile). There a wrong recovery key is
 * refused with a clear message and the relay's database is unchanged; her key restores the account:
 * she sees her history and keeps chatting in all three, and Bob and Carol see the restore notice and
 * keep chatting with her. Screenshots: artifacts/e2e/recovery-*.png.
 */
import { rmSync } from 'node:fs';
import { AxePuppeteer } from '@axe-core/puppeteer';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  STEP_TIMEOUT,
  createConversation,
  createInvite,
  joinByLink,
  onboard,
  openBrowser,
  openConversation,
  pointAtRelay,
  send,
  shownMessages,
  waitForMessage,
  type ChatUser,
} from '../support/chat-driver.ts';
import { screenshot, snapshotExtension } from '../support/extension.ts';
import { dumpRelayDatabase, startRelay, type RelayProcess } from '../support/relay-process.ts';
import { formatRecoveryKey, generateRecoverySecret } from '../../lib/background/backup/recovery-key.ts';

const NAMES = ['Hiking club', 'Budget', 'Lighthouse'];

/** axe on the screen as it is: no serious or critical finding (soft, so every screen is checked). */
async function axeClean(page: Page, screen: string): Promise<void> {
  const results = await new AxePuppeteer(page).analyze();
  const found = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect.soft(found, screen).toEqual([]);
}
let counter = 0;
const say = (t: string): string => `${t} [rc-${counter++}-${Math.random().toString(36).slice(2, 6)}]`;

describe('recovery: a wiped profile comes back with the recovery key', () => {
  let relay: RelayProcess;
  let build: { dir: string; id: string };
  let alice: ChatUser;
  let bob: ChatUser;
  let carol: ChatUser;
  let restored: ChatUser | undefined;
  const ids: string[] = [];
  const before: string[] = [];

  beforeAll(async () => {
    build = snapshotExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${build.id},chrome-extension://${build.id}`] });
    const users = await Promise.all(['Alice', 'Bob', 'Carol'].map((n) => openBrowser(n, { extensionDir: build.dir, prf: false })));
    [alice, bob, carol] = [users[0]!, users[1]!, users[2]!];
    for (const u of [alice, bob, carol]) await onboard(u, relay.url);
  }, 180_000);
  afterAll(async () => {
    for (const u of [alice, bob, carol, restored]) await u?.ext.close().catch(() => undefined);
    await relay?.stop();
    for (const dir of [alice?.profileDir, bob?.profileDir, carol?.profileDir, restored?.profileDir, build?.dir]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('Alice keeps her key at sign-up, talks with Bob and Carol in three conversations, and her history is backed up', async () => {
    expect(alice.recoveryKey).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$/);
    for (const name of NAMES) {
      const id = await createConversation(alice, name);
      ids.push(id);
      const link = await createInvite(alice, 'expiring');
      await joinByLink(bob, link);
      await joinByLink(carol, link);
    }
    for (const [i, id] of ids.entries()) {
      await openConversation(alice, id);
      const mine = say(`before the loss from Alice in ${NAMES[i]}`);
      await send(alice, mine);
      await openConversation(bob, id);
      await waitForMessage(bob, mine);
      const bobs = say(`Bob answers in ${NAMES[i]}`);
      await send(bob, bobs);
      await waitForMessage(alice, bobs);
      before.push(mine, bobs);
    }
    // History goes into the backup only when she opts in (Settings → Recovery).
    const sentAt = Date.now();
    await alice.page.click('[data-testid="settings-button"]');
    await alice.page.click('[data-testid="backup-history-toggle"]');
    await alice.page.waitForFunction(
      (t: number) => Number(document.querySelector('[data-testid="backup-status"][data-state="done"]')?.getAttribute('data-at') ?? 0) > t,
      { timeout: 120_000, polling: 500 },
      sentAt,
    );
    await screenshot(alice.page, 'recovery-1-settings-backed-up');
    await alice.page.click('[data-testid="settings-dialog"] button.close');
  }, 600_000);

  it('a wiped profile refuses a wrong key with a clear message, and nothing is created at the relay', async () => {
    await alice.ext.close();
    rmSync(alice.profileDir, { recursive: true, force: true });
    restored = await openBrowser('Alice', { extensionDir: build.dir, prf: false });
    await pointAtRelay(restored, relay.url);
    const page = restored.page;
    await page.click('[data-testid="onboarding-restore"]');
    const dumpBefore = await dumpRelayDatabase(relay.dataDir);
    await page.type('[data-testid="restore-key"]', formatRecoveryKey(generateRecoverySecret()));
    await page.click('[data-testid="restore-start"]');
    const refused = await page.waitForSelector('[data-testid="restore-refused"]', { timeout: STEP_TIMEOUT });
    expect(await refused!.evaluate((el) => el.textContent)).toBe('No backup was found for this recovery key. Nothing was changed.');
    await screenshot(page, 'recovery-2-wrong-key');
    await axeClean(page, 'restore refused');
    const dumpAfter = await dumpRelayDatabase(relay.dataDir);
    for (const table of ['accounts', 'backups', 'backup_items', 'mailboxes', 'queues']) expect(JSON.stringify(dumpAfter[table]), table).toBe(JSON.stringify(dumpBefore[table]));
  }, 180_000);

  it('her key restores the account: her history is back, she keeps chatting, Bob and Carol see the notice', async () => {
    const user = restored!;
    const page = user.page;
    const input = await page.waitForSelector('[data-testid="restore-key"]');
    await input!.click({ count: 3 });
    await input!.type(alice.recoveryKey!);
    await page.click('[data-testid="restore-start"]');
    const found = await page.waitForSelector('[data-testid="restore-found"]', { timeout: STEP_TIMEOUT });
    expect(await found!.evaluate((el) => el.textContent)).toContain('Alice');
    await axeClean(page, 'restore found');
    await page.click('[data-testid="restore-register"]');
    await page.waitForSelector('[data-testid="restore-dismiss"]', { timeout: 180_000 });
    await screenshot(page, 'recovery-3-restored');
    await axeClean(page, 'restore done');
    const states = await page.$$eval('[data-testid="restore-conversation"]', (els) => els.map((el) => el.getAttribute('data-state')));
    expect(states).toEqual(['rejoined', 'rejoined', 'rejoined']);
    await page.click('[data-testid="restore-dismiss"]');

    for (const [i, id] of ids.entries()) {
      await openConversation(user, id);
      await waitForMessage(user, before[2 * i]!);
      await waitForMessage(user, before[2 * i + 1]!);
      if (i === 0) await screenshot(page, 'recovery-4-history');
      const again = say(`Alice is back in ${NAMES[i]}`);
      await send(user, again);
      for (const other of [bob, carol]) {
        await openConversation(other, id);
        await waitForMessage(other, again);
        // The resync of a restore says so (healing/heal-text.ts resyncNote 'restore'), not the plain "device rejoined".
        const notice = (await shownMessages(other)).filter((m) => m.kind === 'system' && /Alice restored their account on a new device/.test(m.text));
        expect(notice.length, `${other.name} sees the restore notice in ${NAMES[i]}`).toBeGreaterThan(0);
      }
      if (i === 0) await screenshot(bob.page, 'recovery-5-bob-sees-notice');
      const reply = say(`Carol welcomes Alice back in ${NAMES[i]}`);
      await send(carol, reply);
      await waitForMessage(user, reply);
      await waitForMessage(bob, reply);
    }
    await screenshot(page, 'recovery-6-chatting-again');
  }, 600_000);
});
