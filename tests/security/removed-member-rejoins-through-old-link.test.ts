// Attack: a member who was removed (or left) keeps a reusable invite code of
// the conversation (one they joined with, or one every member holds) and
// joins again through it. Removal revokes every open invite at the relay
// before the removal Commit is posted, so the old code no longer opens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';

describe('a removed member rejoins through an old link', () => {
  let relay: RelayProcess;
  let alice: Device;
  let bob: Device;

  beforeAll(async () => {
    relay = await startRelay();
    [alice, bob] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [alice, bob].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
  });
  afterAll(async () => {
    for (const d of [alice, bob]) d?.app.stop();
    await relay?.stop();
  });

  const members = async (conversationId: string): Promise<string[]> =>
    (await alice.app.handlers['conversation.get']({ conversationId })).members.map((m) => m.displayName).sort();

  const setUp = async (): Promise<{ conversationId: string; link: string }> => {
    const { conversationId } = await alice.app.handlers['conversation.create']({ name: 'Trip' });
    const { link } = await alice.app.handlers['invite.create']({ conversationId, mode: 'expiring', expiresInHours: 24 });
    await bob.app.handlers['invite.join']({ link });
    // Bob's display name arrives in his encrypted profile message after the join.
    await waitUntil(async () => (await members(conversationId)).includes('Bob'), 15_000, 'Bob joined and told his name');
    return { conversationId, link };
  };

  const rejoinRefused = async (conversationId: string, link: string): Promise<void> => {
    await expect(bob.app.handlers['invite.join']({ link })).rejects.toMatchObject({ code: 'not-found' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await members(conversationId)).toEqual(['Alice']);
    const listed = await alice.app.handlers['invite.list']({ conversationId });
    expect(listed).toEqual({ invites: [], revoked: true });
  };

  it('after being removed', async () => {
    const { conversationId, link } = await setUp();
    const bobId = (await alice.app.handlers['conversation.get']({ conversationId })).members.find((m) => m.displayName === 'Bob')!.memberId;
    await alice.app.handlers['conversation.removeMember']({ conversationId, memberId: bobId });
    await waitUntil(() => bob.app.snapshot.conversations.find((c) => c.id === conversationId)?.status === 'removed', 15_000, 'Bob removed');
    await rejoinRefused(conversationId, link);
  });

  it('after leaving (the leaver revokes, and so does the member who commits the leave)', async () => {
    const { conversationId, link } = await setUp();
    await bob.app.handlers['conversation.leave']({ conversationId });
    await waitUntil(async () => (await members(conversationId)).length === 1, 15_000, 'Alice committed the leave');
    await rejoinRefused(conversationId, link);
  });
});
