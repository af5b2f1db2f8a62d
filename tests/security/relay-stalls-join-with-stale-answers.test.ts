/**
 * Attack: a hostile relay answers every queue registration of a joiner with
 * `stale_capability`, the answer a join gets when someone else's Commit came
 * first. The join now waits and reads the invite again (join-retry.ts), so
 * the relay hopes to hold the joiner in an endless loop, make it spend tokens
 * without bound, or leave a half-made conversation and live mailboxes behind.
 *
 * Defence: the retries are bounded (CONFLICT_PAUSES_MS: five tries, about
 * 7.5 s); each try's mailbox is deleted again; the join ends with the typed
 * JoinConflict and leaves no conversation behind; the group is untouched; and
 * once the relay answers honestly, the same link works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFLICT_PAUSES_MS } from '../../lib/background/join-retry.ts';
import * as text from '../../lib/background/text.ts';
import { ROUTES } from '../../lib/protocol/relay.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';

describe('a hostile relay answers every join with "stale"', () => {
  let relay: RelayProcess;
  let alice: Device;
  let bob: Device;
  let hostile = true;
  const calls = { created: 0, deleted: 0, registrations: 0 };

  beforeAll(async () => {
    relay = await startRelay();
    const relayFor: typeof fetch = async (input, init) => {
      const path = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).pathname;
      if (path === ROUTES.createMailbox.path) calls.created++;
      if (path === ROUTES.deleteMailbox.path) calls.deleted++;
      if (path === ROUTES.registerQueue.path) {
        calls.registrations++;
        if (hostile) {
          const body = { error: { code: 'stale_capability', message: 'the queue capability rotated' } };
          return new Response(JSON.stringify(body), { status: 409, headers: { 'content-type': 'application/json' } });
        }
      }
      return fetch(input, init);
    };
    [alice, bob] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob', { fetch: relayFor })]);
    await waitUntil(() => [alice, bob].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'both online');
  });

  afterAll(async () => {
    for (const d of [alice, bob]) d?.app.stop();
    await relay?.stop();
  });

  it('the join gives up after a bounded number of tries, leaves nothing behind, and works once the relay is honest', async () => {
    const { conversationId } = await alice.app.handlers['conversation.create']({ name: 'Held door' });
    const { link } = await alice.app.handlers['invite.create']({ conversationId, mode: 'expiring', expiresInHours: 1 });
    const before = { ...calls };
    const start = Date.now();

    await expect(bob.app.handlers['invite.join']({ link })).rejects.toMatchObject({ code: 'unavailable', message: text.JOIN_CONFLICT });
    const tries = CONFLICT_PAUSES_MS.length + 1;
    expect(calls.registrations - before.registrations).toBe(tries);
    expect(calls.created - before.created).toBe(tries);
    expect(Date.now() - start).toBeGreaterThanOrEqual(CONFLICT_PAUSES_MS.reduce((a, b) => a + b, 0));
    // Every mailbox made for a try is deleted again (best effort, so it may follow the answer by a moment).
    await waitUntil(() => calls.deleted - before.deleted === tries, 10_000, 'every try’s mailbox deleted');
    expect(bob.app.snapshot.conversations.some((c) => c.id === conversationId)).toBe(false);
    expect((await alice.app.handlers['conversation.get']({ conversationId })).members).toHaveLength(1);

    hostile = false;
    expect((await bob.app.handlers['invite.join']({ link })).conversationId).toBe(conversationId);
    await waitUntil(async () => (await alice.app.handlers['conversation.get']({ conversationId })).members.length === 2, 15_000, 'Alice sees Bob');
  }, 60_000);
});
