// Linking end to end with the real identity and directory parts (no fakes): two BackgroundApps on a
// real relay. The new device takes over Alice's identity, display name and settings, the existing
// device adds it to every conversation with an Add Commit and a Welcome (KeyPackages from the relay's
// directory), the new device joins each by Welcome, and reads what is written next. Then the time to
// link a device that is in 50 conversations, measured (printed, not asserted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { OwnIdentity } from '../../lib/background/identity/own-identity.ts';
import * as text from '../../lib/background/text.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

describe('linking a device, real parts end to end', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay();
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  async function link(alice: Device, fresh: Device, sendHistory: boolean): Promise<void> {
    await waitUntil(() => fresh.app.snapshot.connection === 'online', 15_000, 'the new device online');
    const { code } = await fresh.app.handlers['link.start'](null);
    const { confirmation } = await alice.app.handlers['link.enter']({ code, sendHistory });
    await waitUntil(() => fresh.app.snapshot.linking?.confirmation === confirmation, 15_000, 'digits on the new device');
    await alice.app.handlers['link.confirm']({ match: true });
    await waitUntil(() => fresh.app.snapshot.linking?.step === 'done', 15_000, 'handover done');
  }

  const active = (d: Device): string[] => d.app.snapshot.conversations.filter((c) => c.status === 'active').map((c) => c.id);

  it('links Alice’s new device: same person, added to every conversation by Welcome, reads what comes next', async () => {
    const alice = await startDevice(relay.url, 'Alice');
    const ids: string[] = [];
    for (const name of ['Family', 'Work', 'Book club']) ids.push((await alice.app.handlers['conversation.create']({ name })).conversationId);
    const fresh = await startDevice(relay.url, 'New device');
    await link(alice, fresh, false);
    expect(fresh.app.snapshot.account).toMatchObject({ state: 'ready', displayName: 'Alice' });
    // One person: the same identity key, and a roster that lists both devices, on both.
    const own = (d: Device): OwnIdentity => (d.app as unknown as { chat: ChatService }).chat.people!.own;
    expect(own(fresh).identityKey).toBe(own(alice).identityKey);
    expect(own(fresh).personId).toBe(own(alice).personId);
    expect(own(alice).roster.devices.map((x) => x.deviceKey).sort()).toEqual([own(alice).deviceKey, own(fresh).deviceKey].sort());
    expect(own(fresh).roster).toEqual(own(alice).roster);
    // Each device is listed with the address it is reached at, the first one too ("Message" to Alice reaches both).
    const byKey = new Map(own(alice).roster.devices.map((x) => [x.deviceKey, x.address]));
    expect(byKey.get(own(alice).deviceKey)).toEqual(await alice.app.handlers['device.address']({}));
    expect(byKey.get(own(fresh).deviceKey)).toEqual(await fresh.app.handlers['device.address']({}));

    await waitUntil(() => ids.every((id) => active(fresh).includes(id)), 30_000, 'the new device in all 3 conversations');
    await waitUntil(() => (alice.app.snapshot.addingDevices ?? []).length === 0, 10_000, 'the job finished');
    await waitUntil(() => (fresh.app.snapshot.addingDevices ?? []).length === 0, 10_000, 'the new device done counting');

    await alice.app.handlers['message.send']({ conversationId: ids[1]!, text: 'hello from Chromium' });
    await waitUntil(() => fresh.received(ids[1]!).includes('hello from Chromium'), 15_000, 'the new device reads it');
  }, 120_000);

  it('with consent the history comes along: the new device shows it above the first message it reads itself', async () => {
    const alice = await startDevice(relay.url, 'Alice');
    const family = (await alice.app.handlers['conversation.create']({ name: 'Family' })).conversationId;
    for (const t of ['first', 'second']) await alice.app.handlers['message.send']({ conversationId: family, text: t });
    await waitUntil(
      async () => (await alice.app.handlers['messages.page']({ conversationId: family, beforeSeq: null, limit: 50 })).messages.every((m) => m.status !== 'sending'),
      15_000,
      'sent',
    );
    const fresh = await startDevice(relay.url, 'New device');
    await link(alice, fresh, true);
    await waitUntil(() => active(fresh).includes(family), 30_000, 'joined by Welcome');
    await alice.app.handlers['message.send']({ conversationId: family, text: 'third' });
    await waitUntil(() => fresh.received(family).includes('third'), 15_000, 'reads the next one');
    const page = await fresh.app.handlers['messages.page']({ conversationId: family, beforeSeq: null, limit: 50 });
    const texts = page.messages.filter((m) => m.kind === 'text');
    // The copied history is the person's own; 'third' arrived over MLS (whether it shows as one's own is the identity part's).
    expect(texts.map((m) => m.text)).toEqual(['first', 'second', 'third']);
    expect(texts.slice(0, 2).every((m) => m.sender.self && m.status === 'sent')).toBe(true);
    expect(page.messages.some((m) => m.kind === 'system' && m.text === text.HISTORY_FROM_OTHER_DEVICE)).toBe(true);
  }, 120_000);

  it('measures the time to link a device that is in 50 conversations (real Add + Welcome each)', async () => {
    const alice = await startDevice(relay.url, 'Alice');
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await alice.app.handlers['conversation.create']({ name: `C${i}` })).conversationId);
    const fresh = await startDevice(relay.url, 'New device');
    const t0 = performance.now();
    await link(alice, fresh, true);
    const handedOver = performance.now();
    await waitUntil(() => ids.every((id) => active(fresh).includes(id)), 240_000, 'the new device in all 50 conversations');
    const joined = performance.now();
    console.log(
      `linking a device in 50 conversations (real relay, real Add + Welcome): handover ${(handedOver - t0).toFixed(0)} ms, ` +
        `added to and joined all 50 after ${((joined - t0) / 1000).toFixed(1)} s`,
    );
    expect(active(fresh)).toHaveLength(50);
  }, 300_000);
});
