/**
 * b. Bob on Chromium sees Alice as one person with two devices (Chromium
 * and Firefox, each with the day it was added), compares the safety number
 * (digits and QR, the same on both of Alice's devices because they share her
 * identity key) and marks her verified.
 */
import { describe, expect, it } from 'vitest';
import { openConversation, STEP_TIMEOUT, type ChatUser, type UserBrowser } from '../../support/chat-driver.ts';
import { qrDrawing } from '../../../lib/view/qr-path.ts';
import { safetyNumberQrPayload } from '../../../lib/protocol/people.ts';
import { aliceFx, shot, world } from './world.ts';

export interface ShownPerson {
  personKey: string;
  name: string;
  verification: string;
  devices: { memberId: string; name: string; added: string | null; self: boolean }[];
}

/** The members dialog's people, as shown (the dialog must be open). */
export async function shownPeople(user: ChatUser<UserBrowser>): Promise<ShownPerson[]> {
  return user.page.$$eval('[data-testid="members-dialog"] [data-testid="person"]', (els) =>
    els.map((p) => ({
      personKey: p.getAttribute('data-person-key') ?? '',
      name: p.getAttribute('data-name') ?? '',
      verification: p.getAttribute('data-verification') ?? '',
      devices: [...p.querySelectorAll('[data-testid="member"]')].map((m) => ({
        memberId: m.getAttribute('data-member-id') ?? '',
        name: m.querySelector('[data-testid="device-name"]')?.textContent?.trim() ?? '',
        added: m.querySelector('[data-testid="device-added"]')?.textContent?.trim() ?? null,
        self: (m.textContent ?? '').includes('(this device)'),
      })),
    })),
  );
}

/** Open the members dialog of the open conversation and wait until `name` shows as one person with `devices` devices. */
export async function openMembersUntil(user: ChatUser<UserBrowser>, name: string, devices: number): Promise<void> {
  await user.page.click('[data-testid="members-button"]');
  await user.page.waitForSelector('[data-testid="members-dialog"]');
  await user.page.waitForFunction(
    (n: string, d: number) =>
      [...document.querySelectorAll(`[data-testid="members-dialog"] [data-testid="person"][data-name="${n}"]`)].some(
        (p) => p.querySelectorAll('[data-testid="member"]').length === d,
      ),
    { timeout: 3 * STEP_TIMEOUT, polling: 250 },
    name,
    devices,
  );
}

export async function closeMembers(user: ChatUser<UserBrowser>): Promise<void> {
  await user.page.click('[data-testid="members-dialog"] button.close');
  await user.page.waitForSelector('[data-testid="members-dialog"]', { hidden: true });
}

/** In the open members dialog: show `name`'s safety number; returns its digits and checks its QR code is of them. */
export async function showSafetyNumber(user: ChatUser<UserBrowser>, name: string): Promise<string> {
  const person = `[data-testid="members-dialog"] [data-testid="person"][data-name="${name}"]`;
  if ((await user.page.$(`${person} [data-testid="safety-number"]`)) === null) await user.page.click(`${person} [data-testid="safety-number-button"]`);
  const el = await user.page.waitForSelector(`${person} [data-testid="safety-number-digits"]`, { timeout: STEP_TIMEOUT });
  const digits = (await el!.evaluate((e) => e.textContent ?? '')).trim();
  const path = await user.page.$eval(`${person} [data-testid="safety-number-qr"] path`, (p) => p.getAttribute('d') ?? '');
  expect(path).toBe(qrDrawing(safetyNumberQrPayload(digits)).path);
  return digits;
}

describe('b. Bob sees Alice as one person with two devices, and marks her verified', () => {
  it('Bob’s members list: Alice once, with her Chromium and her Firefox, each with the day it was added', async () => {
    const { bob } = world;
    aliceFx();
    await openConversation(bob, world.shared);
    await openMembersUntil(bob, 'Alice', 2);
    const people = await shownPeople(bob);
    expect(people.map((p) => p.name).sort()).toEqual(['Alice', 'Bob']);
    const alice = people.find((p) => p.name === 'Alice')!;
    expect(alice.personKey.startsWith('leaf:')).toBe(false);
    expect(alice.verification).toBe('unverified');
    expect(alice.devices.map((d) => d.name).sort()).toEqual(['Chrome on Linux', 'Firefox on Linux']);
    expect(alice.devices.every((d) => d.added !== null && /^added /.test(d.added))).toBe(true);
    expect(alice.devices.some((d) => d.self)).toBe(false);
    await shot(bob, 'b1-members-alice-two-devices');
    await closeMembers(bob);
  });

  it('Alice sees herself as one person with both devices, on each device', async () => {
    for (const [user, who] of [[world.alice, 'alice'], [aliceFx(), 'alice-ff']] as const) {
      await openConversation(user, world.shared);
      await openMembersUntil(user, 'Alice', 2);
      const me = (await shownPeople(user)).find((p) => p.name === 'Alice')!;
      expect(me.devices.filter((d) => d.self)).toHaveLength(1);
      await shot(user, 'b2-members-self', who);
      await closeMembers(user);
    }
  });

  it('the safety number is the same for Bob and for both of Alice’s devices; Bob marks Alice verified', async () => {
    const { bob, alice } = world;
    await openMembersUntil(bob, 'Alice', 2);
    const bobSees = await showSafetyNumber(bob, 'Alice');
    expect(bobSees).toMatch(/^(\d{5} ){11}\d{5}$/);
    await shot(bob, 'b3-safety-number');
    for (const user of [alice, aliceFx()]) {
      await openMembersUntil(user, 'Bob', 1);
      expect(await showSafetyNumber(user, 'Bob')).toBe(bobSees);
    }
    await shot(aliceFx(), 'b3-safety-number', 'alice-ff');
    await closeMembers(alice);
    await closeMembers(aliceFx());

    await bob.page.click('[data-testid="members-dialog"] [data-testid="person"][data-name="Alice"] [data-testid="verify-person"]');
    await bob.page.waitForSelector('[data-testid="person"][data-name="Alice"][data-verification="verified"] [data-testid="verified-mark"]', {
      timeout: STEP_TIMEOUT,
    });
    await shot(bob, 'b4-verified');
    await closeMembers(bob);
    // The mark holds after the dialog is opened again (it is kept, not a view state).
    await openMembersUntil(bob, 'Alice', 2);
    expect((await shownPeople(bob)).find((p) => p.name === 'Alice')!.verification).toBe('verified');
    await closeMembers(bob);
  });
});
