// Inviting (issue 17, item 14), through the real background over a real relay
// process: the expiry the person chose is what the relay keeps; an open
// invite's code can be had again, identical, from the keys kept in the
// encrypted store, and not once the invite is used, revoked or gone; a joiner's
// history starts with a notice that earlier messages are not shown, stored
// with the conversation so it is still there after a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';
import { JOINER_NOTICE } from '../../lib/protocol/channel.ts';

const HOUR = 3_600_000;

describe('invites over a real relay', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let c: Device;
  let conv = '';
  let expiring: { link: string; expiresAt: number; inviteId: string };
  let once: { link: string; expiresAt: number; inviteId: string };

  beforeAll(async () => {
    relay = await startRelay();
    [a, b, c] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob'), startDevice(relay.url, 'Carol')]);
    await waitUntil(() => [a, b, c].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'all online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Invites' }));
  });

  afterAll(async () => {
    for (const d of [a, b, c]) d?.app.stop();
    await relay?.stop();
  });

  it('an expiring invite lasts the chosen 7 days; a one-time invite lasts 7 days with no choice', async () => {
    const before = Date.now();
    expiring = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'expiring', expiresInHours: 168 });
    once = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    const after = Date.now();
    for (const inv of [expiring, once]) {
      expect(inv.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 168 * HOUR);
      expect(inv.expiresAt).toBeLessThanOrEqual(after + 168 * HOUR);
    }
    const { invites } = await a.app.handlers['invite.list']({ conversationId: conv });
    expect(invites).toEqual([
      { inviteId: once.inviteId, mode: 'one-time', expiresAt: once.expiresAt },
      { inviteId: expiring.inviteId, mode: 'expiring', expiresAt: expiring.expiresAt },
    ]);
  });

  it('the background refuses an expiry it does not offer', async () => {
    const { dispatch } = await import('../../lib/background/channel-server.ts');
    const raw = { channel: 'microchat/v1', method: 'invite.create', params: { conversationId: conv, mode: 'expiring', expiresInHours: 48 } };
    expect(await dispatch(a.app.handlers, raw)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect((await a.app.handlers['invite.list']({ conversationId: conv })).invites).toHaveLength(2);
  });

  it('copying again gives the very same code, rebuilt from what the background keeps', async () => {
    expect(await a.app.handlers['invite.link']({ conversationId: conv, inviteId: expiring.inviteId })).toEqual({ link: expiring.link });
    expect(await a.app.handlers['invite.link']({ conversationId: conv, inviteId: once.inviteId })).toEqual({ link: once.link });
    await expect(a.app.handlers['invite.link']({ conversationId: conv, inviteId: 'AAAAAAAAAAAAAAAAAAAAAA' })).rejects.toMatchObject({ code: 'not-found' });
    // Another conversation's invite is not this one's.
    const { conversationId: other } = await a.app.handlers['conversation.create']({ name: 'Other' });
    await expect(a.app.handlers['invite.link']({ conversationId: other, inviteId: expiring.inviteId })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('a joiner’s history starts with “Messages sent before you joined aren’t shown”; the inviter’s does not', async () => {
    await a.app.handlers['message.send']({ conversationId: conv, text: 'before Bob' });
    const copied = await a.app.handlers['invite.link']({ conversationId: conv, inviteId: expiring.inviteId });
    expect((await b.app.handlers['invite.join']({ link: copied.link })).conversationId).toBe(conv);
    const atBob = await b.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 50 });
    expect(atBob.messages.slice(0, 2).map((m) => [m.kind, m.text])).toEqual([
      ['system', JOINER_NOTICE],
      ['system', 'You joined the conversation.'],
    ]);
    expect(JOINER_NOTICE).toBe("Messages sent before you joined aren't shown.");
    expect(atBob.messages.map((m) => m.text)).not.toContain('before Bob');
    const atAlice = await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 50 });
    expect(atAlice.messages.map((m) => m.text)).not.toContain(JOINER_NOTICE);
  });

  it('the notice is stored with the conversation: still first after the background restarts', async () => {
    b.app.stop();
    b = await startDevice(relay.url, 'Bob', { dbName: b.dbName, register: false });
    const page = await b.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 50 });
    expect(page.messages[0]).toMatchObject({ kind: 'system', text: JOINER_NOTICE });
  });

  it('a used one-time invite is no longer open: not listed, its code not given again', async () => {
    expect((await c.app.handlers['invite.join']({ link: once.link })).conversationId).toBe(conv);
    // Alice learns it was used when she republishes after Carol's join (the relay answers 404 for it).
    await waitUntil(
      async () => !(await a.app.handlers['invite.list']({ conversationId: conv })).invites.some((i) => i.inviteId === once.inviteId),
      20_000,
      'the used one-time invite drops out',
    );
    await expect(a.app.handlers['invite.link']({ conversationId: conv, inviteId: once.inviteId })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('a one-time invite read by someone who did not join is not copied again: the relay is asked first', async () => {
    const spent = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    // Someone fetches the blob (the relay deletes a one-time invite on its first read) and never joins, so no Commit tells Alice.
    const read = await fetch(`${relay.url}/v1/invites/${spent.inviteId}`);
    expect(read.status).toBe(200);
    await expect(a.app.handlers['invite.link']({ conversationId: conv, inviteId: spent.inviteId })).rejects.toMatchObject({ code: 'not-found' });
    expect((await a.app.handlers['invite.list']({ conversationId: conv })).invites.map((i) => i.inviteId)).not.toContain(spent.inviteId);
  });

  it('a revoked invite’s code is not given again', async () => {
    await a.app.handlers['invite.revoke']({ conversationId: conv, inviteId: expiring.inviteId });
    await expect(a.app.handlers['invite.link']({ conversationId: conv, inviteId: expiring.inviteId })).rejects.toMatchObject({ code: 'not-found' });
    expect((await a.app.handlers['invite.list']({ conversationId: conv })).invites).toEqual([]);
  });
});
