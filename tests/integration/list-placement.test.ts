// Pin and archive in the background: kept in the sealed conversation record
// (never in clear on disk), surviving a restart, and a new message from a
// member bringing an archived conversation back into the main list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, withInviteStandIn, type Device } from './support/device.ts';

describe('pin and archive', () => {
  let relay: RelayProcess;
  let fetchImpl: typeof fetch;
  let a: Device;
  let b: Device;
  let conv = '';

  const summary = (d: Device) => d.app.snapshot.conversations.find((c) => c.id === conv)!;

  beforeAll(async () => {
    relay = await startRelay();
    fetchImpl = (await withInviteStandIn(relay.url)).fetch;
    [a, b] = (await Promise.all([startDevice(relay.url, 'Alice', { fetch: fetchImpl }), startDevice(relay.url, 'Bob', { fetch: fetchImpl })])) as [Device, Device];
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Work' }));
    const invite = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: invite.link });
  }, 60_000);

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  it('pins and archives, sealed at rest, and both survive a restart', async () => {
    const before = Date.now();
    await a.app.handlers['conversation.setPinned']({ conversationId: conv, pinned: true });
    await a.app.handlers['conversation.setArchived']({ conversationId: conv, archived: true });
    expect(summary(a).pinnedAt).toBeGreaterThanOrEqual(before);
    expect(summary(a).archived).toBe(true);
    // Only this device knows: Bob's list is unchanged.
    expect(summary(b).pinnedAt).toBeUndefined();
    expect(summary(b).archived).toBeUndefined();

    const raw = JSON.stringify(await a.db.get('conversations', conv), (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
    expect(raw).not.toContain('pinnedAt');
    expect(raw).not.toContain('archived');

    const pinnedAt = summary(a).pinnedAt;
    a.app.stop();
    a = await startDevice(relay.url, 'Alice', { fetch: fetchImpl, dbName: a.dbName, register: false });
    expect(summary(a)).toMatchObject({ pinnedAt, archived: true });
  });

  it('a new message from a member unarchives; the pin stays; unpinning clears it', async () => {
    await waitUntil(() => a.app.snapshot.connection === 'online', 15_000, 'Alice back online');
    await b.app.handlers['message.send']({ conversationId: conv, text: 'are you there?' });
    await waitUntil(() => summary(a).archived === undefined, 10_000, 'unarchived by the message');
    expect(summary(a).pinnedAt).toBeDefined();
    await a.app.handlers['conversation.setPinned']({ conversationId: conv, pinned: false });
    expect(summary(a).pinnedAt).toBeUndefined();
  });

  it('refuses an unknown conversation', async () => {
    await expect(a.app.handlers['conversation.setPinned']({ conversationId: 'nope', pinned: true })).rejects.toMatchObject({ code: 'not-found' });
  });
});
