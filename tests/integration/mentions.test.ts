/**
 * Mentions over a real relay (docs/search.md#mentions): Alice mentions Bob,
 * who has muted the conversation; his device still notifies him, shows the
 * mention as his, and a text without one stays quiet. A mention of someone
 * who is not a member is kept as plain text and notifies no one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const SLOW = Number(process.env.MICROCHAT_TEST_SLOW ?? 1);

describe('mentions over a real relay', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let conv = '';
  let bobId = '';
  const shows = (d: Device): number => d.notified.filter((n) => n.kind === 'show' && n.conversationId === conv).length;
  const page = async (d: Device) => (await d.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 50 })).messages;

  beforeAll(async () => {
    relay = await startRelay();
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'both online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Quiet room' }));
    const inv = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: inv.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.some((m) => m.displayName === 'Bob'), 20_000 * SLOW, 'Bob in');
    bobId = (await a.app.handlers['conversation.get']({ conversationId: conv })).members.find((m) => m.displayName === 'Bob')!.memberId;
    await b.app.handlers['conversation.mute']({ conversationId: conv, duration: 'always' });
  }, 120_000 * SLOW);

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  it('a mention of Bob notifies him although muted; a plain text and a mention of a stranger do not', async () => {
    await a.app.handlers['message.send']({ conversationId: conv, text: 'plain words' });
    await a.app.handlers['message.send']({ conversationId: conv, text: 'hey @Zed', mentions: [{ memberId: 'Z'.repeat(22), at: 4, length: 4 }] });
    await waitUntil(() => b.received(conv).includes('hey @Zed'), 20_000 * SLOW, 'Bob has both');
    expect(shows(b)).toBe(0);
    const stranger = (await page(b)).find((m) => m.text === 'hey @Zed')!;
    expect(stranger.mentions).toBeUndefined();
    expect(stranger.mentionsYou).toBeUndefined();

    const sent = await a.app.handlers['message.send']({ conversationId: conv, text: '@Bob can you look?', mentions: [{ memberId: bobId, at: 0, length: 4 }] });
    expect(sent.mentions).toEqual([{ at: 0, length: 4 }]);
    await waitUntil(() => shows(b) === 1, 20_000 * SLOW, 'Bob notified');
    const got = (await page(b)).find((m) => m.text === '@Bob can you look?')!;
    expect(got.mentions).toEqual([{ at: 0, length: 4, you: true }]);
    expect(got.mentionsYou).toBe(true);
    expect(b.app.snapshot.conversations.find((c) => c.id === conv)?.mutedUntil).toBeDefined();
  });
});
