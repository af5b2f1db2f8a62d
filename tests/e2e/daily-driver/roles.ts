/**
 * Roles, delete for me versus end for everyone, and system messages that name
 * the actor (issue 17, items 1 and 2), with three people: Alice creates the
 * conversation, Bob and Carol join by link.
 *
 * The hostile step: the UI offers Bob no Remove and no End, so he sends the
 * intents to his background directly through the side panel's runtime
 * messaging, as a script in his extension page could; his background refuses
 * them (Forbidden) before any Commit exists. A client modified to send the
 * Commit anyway is refused by every other member's engine (V-ROLE-1); that
 * needs a client whose rules are switched off, which a built extension cannot
 * be, so it is shown over a real relay in tests/integration/roles.test.ts and
 * per rule in tests/security/non-admin-*.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { createConversation, createInvite, joinByLink, removeMember, send, STEP_TIMEOUT, waitForMessage, type ChatUser } from '../../support/chat-driver.ts';
import { screenshot } from '../../support/extension.ts';
import { openPeople, type People } from './people.ts';

/** Light and dark screenshots of the current view. */
async function shots(page: Page, name: string): Promise<void> {
  await screenshot(page, `daily-roles-${name}-light`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await screenshot(page, `daily-roles-${name}-dark`);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
}

async function waitForSystem(user: ChatUser, text: string): Promise<void> {
  await user.page.waitForFunction(
    (t: string) => [...document.querySelectorAll('[data-testid="message"][data-kind="system"] > span')].some((m) => m.textContent?.trim() === t),
    { timeout: STEP_TIMEOUT, polling: 200 },
    text,
  );
}

async function systemTexts(user: ChatUser): Promise<string[]> {
  return user.page.$$eval('[data-testid="message"][data-kind="system"] > span', (els) => els.map((e) => e.textContent?.trim() ?? ''));
}

async function openMembers(user: ChatUser, waitFor: string[]): Promise<void> {
  await user.page.click('[data-testid="members-button"]');
  await user.page.waitForSelector('[data-testid="members-dialog"]');
  for (const n of waitFor) await user.page.waitForSelector(`[data-testid="member"][data-name="${n}"]`, { timeout: STEP_TIMEOUT });
}

async function closeDialog(user: ChatUser): Promise<void> {
  await user.page.click('[data-testid="members-dialog"] button.close');
  await user.page.waitForSelector('[data-testid="members-dialog"]', { hidden: true });
}

/** A request straight to the background, as any script in the extension's own page could send it. */
async function rawRequest(user: ChatUser, method: string, params: unknown): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  return user.page.evaluate(
    (m: string, p: unknown) =>
      (globalThis as unknown as { chrome: { runtime: { sendMessage: (x: unknown) => Promise<unknown> } } }).chrome.runtime.sendMessage({
        channel: 'microchat/v1',
        method: m,
        params: p,
      }) as Promise<{ ok: boolean; error?: { code: string; message: string } }>,
    method,
    params,
  );
}

describe('roles: admins, delete for me, end for everyone', () => {
  let people: People<[ChatUser, ChatUser, ChatUser]>;
  let alice: ChatUser;
  let bob: ChatUser;
  let carol: ChatUser;
  let conv = '';

  beforeAll(async () => {
    people = await openPeople(['Alice', 'Bob', 'Carol']);
    [alice, bob, carol] = people.users;
    conv = await createConversation(alice, 'Club');
    const link = await createInvite(alice, 'expiring');
    expect(await joinByLink(bob, link)).toBe(conv);
    expect(await joinByLink(carol, link)).toBe(conv);
    // Everyone knows everyone by name (profiles arrive inside the group after each join).
    for (const u of [alice, bob, carol]) {
      await openMembers(u, ['Alice', 'Bob', 'Carol']);
      await closeDialog(u);
    }
  });

  afterAll(async () => {
    await people?.close();
  });

  it('Bob (not admin) sees Alice as admin and is offered no Remove and no End; his background refuses them too', async () => {
    await openMembers(bob, ['Alice', 'Bob', 'Carol']);
    const badges = await bob.page.$$eval('[data-testid="admin-badge"]', (els) => els.map((e) => e.closest('[data-testid="member"]')?.getAttribute('data-name')));
    expect(badges).toEqual(['Alice']);
    expect(await bob.page.$$('[data-testid="remove-member"]')).toHaveLength(0);
    expect(await bob.page.$$('[data-testid="make-admin"]')).toHaveLength(0);
    expect(await bob.page.$('[data-testid="end-conversation"]')).toBeNull();
    await shots(bob.page, 'members-as-member');
    const aliceId = await bob.page.$eval('[data-testid="member"][data-name="Alice"]', (el) => el.getAttribute('data-member-id') ?? '');
    await closeDialog(bob);

    const removal = await rawRequest(bob, 'conversation.removeMember', { conversationId: conv, memberId: aliceId });
    expect(removal).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'Only admins can remove people from this conversation.' } });
    const end = await rawRequest(bob, 'conversation.end', { conversationId: conv });
    expect(end).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // Nothing changed for anyone: the group carries on.
    await send(alice, 'still all three of us');
    await waitForMessage(bob, 'still all three of us', { sender: 'Alice' });
    await waitForMessage(carol, 'still all three of us', { sender: 'Alice' });
    expect(await systemTexts(carol)).not.toContain('Bob removed Alice.');
  });

  it('Alice makes Bob an admin; both read it in their own words', async () => {
    await openMembers(alice, ['Bob']);
    expect(await alice.page.$$eval('[data-testid="remove-member"]', (els) => els.map((e) => e.getAttribute('data-name')))).toEqual(['Bob', 'Carol']);
    await shots(alice.page, 'members-as-admin');
    await alice.page.click('[data-testid="make-admin"][aria-label="Make Bob an admin"]');
    await alice.page.waitForSelector('[data-testid="confirm-dialog"]');
    await shots(alice.page, 'make-admin-confirm');
    await alice.page.click('[data-testid="confirm"]');
    await alice.page.waitForSelector('[data-testid="member"][data-name="Bob"] [data-testid="admin-badge"]', { timeout: STEP_TIMEOUT });
    await closeDialog(alice);
    await waitForSystem(alice, 'You made Bob an admin.');
    await waitForSystem(bob, 'Alice made you an admin.');
    await waitForSystem(carol, 'Alice made Bob an admin.');
  });

  it('Bob removes Carol: "You removed Carol" for Bob, "Bob removed Carol" for Alice, "Bob removed you" for Carol', async () => {
    await removeMember(bob, 'Carol');
    await waitForSystem(bob, 'You removed Carol.');
    await waitForSystem(alice, 'Bob removed Carol.');
    await carol.page.waitForSelector('[data-testid="conversation"][data-status="removed"]', { timeout: STEP_TIMEOUT });
    await waitForSystem(carol, 'Bob removed you from this conversation.');
    expect(await carol.page.$eval('[data-testid="status-banner"]', (el) => el.textContent?.trim())).toBe('You were removed from this conversation.');
    await shots(carol.page, 'removed-by-bob');
  });

  it('delete for me and end for everyone are two actions, each saying what happens; ending reads as ending on both sides', async () => {
    await openMembers(bob, ['Alice', 'Bob']);
    await bob.page.click('[data-testid="delete-conversation"]');
    await bob.page.waitForSelector('[data-testid="confirm-dialog"]', { timeout: STEP_TIMEOUT }); // loaded on its first showing
    const deleteText = await bob.page.$eval('[data-testid="confirm-dialog"]', (el) => el.textContent ?? '');
    expect(deleteText).toContain('You leave the conversation; the others keep it.');
    await shots(bob.page, 'delete-for-me-confirm');
    await bob.page.keyboard.press('Escape');
    await bob.page.waitForSelector('[data-testid="confirm-dialog"]', { hidden: true });
    await closeDialog(bob);

    await openMembers(alice, ['Bob']);
    await alice.page.click('[data-testid="end-conversation"]');
    await alice.page.waitForSelector('[data-testid="confirm-dialog"]', { timeout: STEP_TIMEOUT }); // loaded on its first showing
    const endText = await alice.page.$eval('[data-testid="confirm-dialog"]', (el) => el.textContent ?? '');
    expect(endText).toContain('Bob will be removed and the conversation ends for everyone.');
    await shots(alice.page, 'end-confirm');
    await alice.page.click('[data-testid="confirm"]');
    await alice.page.waitForSelector('[data-testid="conversation"][data-status="removed"]', { timeout: STEP_TIMEOUT });
    await alice.page.waitForSelector('[data-testid="members-dialog"] [data-testid="not-a-member"]', { timeout: STEP_TIMEOUT });
    await closeDialog(alice);
    await waitForSystem(alice, 'You ended the conversation.');
    expect(await alice.page.$eval('[data-testid="status-banner"]', (el) => el.textContent?.trim())).toBe('You ended this conversation for everyone.');
    await shots(alice.page, 'ended-by-you');

    await bob.page.waitForSelector('[data-testid="conversation"][data-status="removed"]', { timeout: STEP_TIMEOUT });
    await waitForSystem(bob, 'Alice ended the conversation.');
    expect(await bob.page.$eval('[data-testid="status-banner"]', (el) => el.textContent?.trim())).toBe('Alice ended this conversation.');
    await shots(bob.page, 'ended-by-alice');

    // Delete for me now only clears this device.
    await openMembers(bob, []);
    await bob.page.click('[data-testid="delete-conversation"]');
    await bob.page.waitForSelector('[data-testid="confirm-dialog"]', { timeout: STEP_TIMEOUT });
    expect(await bob.page.$eval('[data-testid="confirm-dialog"]', (el) => el.textContent ?? '')).toContain('removed from this device');
    await bob.page.click('[data-testid="confirm"]');
    await bob.page.waitForSelector(`[data-testid="conversation-item"][data-conversation-id="${conv}"]`, { hidden: true, timeout: STEP_TIMEOUT });
  });
});
