/**
 * Per-conversation mute in the real background against a real relay (issue
 * 17, item 5): a muted conversation counts unread but asks for no
 * notification; the mute is kept across a background restart, sealed in the
 * conversation record (the device alone knows). That a mute ends by itself
 * is a matter of time: tests/background/notification-policy.test.ts covers it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, withInviteStandIn, type Device } from './support/device.ts';
import { MUTE_ALWAYS } from '../../lib/protocol/channel.ts';

describe('mute over a real relay', () => {
  let relay: RelayProcess;
  let fetchImpl: typeof fetch;
  let a: Device;
  let b: Device;
  let conv = '';

  beforeAll(async () => {
    relay = await startRelay();
    fetchImpl = (await withInviteStandIn(relay.url)).fetch;
    [a, b] = (await Promise.all([startDevice(relay.url, 'Alice', { fetch: fetchImpl }), startDevice(relay.url, 'Bob', { fetch: fetchImpl })])) as [Device, Device];
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Quiet please' }));
    const invite = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: invite.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.length === 2, 15_000, 'A sees B');
  });

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  const summary = (d: Device) => d.app.snapshot.conversations.find((c) => c.id === conv)!;
  const shows = (d: Device) => d.notified.filter((n) => n.kind === 'show' && n.conversationId === conv).length;

  it('muted: unread goes up, no notification; the mute survives a restart; unmuted: notifies again', async () => {
    const before = Date.now();
    await b.app.handlers['conversation.mute']({ conversationId: conv, duration: '8h' });
    const until = summary(b).mutedUntil!;
    expect(until).toBeGreaterThanOrEqual(before + 8 * 3_600_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 8 * 3_600_000);

    await a.app.handlers['message.send']({ conversationId: conv, text: 'shh 1' });
    await waitUntil(() => b.received(conv).includes('shh 1'), 10_000, 'B gets it');
    expect(summary(b).unread).toBe(1);
    expect(shows(b)).toBe(0);

    // The background restarts (the browser stopped the worker): the mute comes back from the sealed record.
    b.app.stop();
    b = await startDevice(relay.url, 'Bob', { fetch: fetchImpl, dbName: b.dbName, register: false });
    expect(summary(b).mutedUntil).toBe(until);
    await waitUntil(() => b.app.snapshot.connection === 'online', 15_000, 'B online again');
    await a.app.handlers['message.send']({ conversationId: conv, text: 'shh 2' });
    await waitUntil(() => b.received(conv).includes('shh 2'), 10_000, 'B gets the second');
    expect(summary(b).unread).toBe(2);
    expect(shows(b)).toBe(0);

    await b.app.handlers['conversation.mute']({ conversationId: conv, duration: 'always' });
    expect(summary(b).mutedUntil).toBe(MUTE_ALWAYS);
    await b.app.handlers['conversation.mute']({ conversationId: conv, duration: 'off' });
    expect(summary(b).mutedUntil).toBeUndefined();
    await a.app.handlers['message.send']({ conversationId: conv, text: 'loud again' });
    await waitUntil(() => shows(b) === 1, 10_000, 'B notified');
    expect(b.notified.at(-1)).toMatchObject({ kind: 'show', title: 'Quiet please', message: '3 new messages' });
  });
});
