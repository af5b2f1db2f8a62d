// Ending an account, with the real background over a real relay: deleting it
// while offline changes nothing; online it leaves the conversation (the other
// member's group shrinks), the relay forgets the account, this device is
// wiped. Signing out wipes this device and ends its relay session, the
// account stays; a new sign-up on the same device works afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpRelayDatabase, startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';
import { createCredential } from '../relay/support/soft-authenticator.ts';
import { EXT_ORIGIN } from './support/device.ts';

const ACCOUNT_STORES = ['secrets', 'tokens', 'conversations', 'groups', 'messages', 'outbox', 'seen'] as const;

describe('sign out and delete account', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let down = false;
  let conv = '';

  const relayRows = async (table: string): Promise<Record<string, unknown>[]> => (await dumpRelayDatabase(relay.dataDir))[table] ?? [];

  beforeAll(async () => {
    relay = await startRelay();
    const aliceFetch: typeof fetch = (input, init) =>
      down ? Promise.reject(new TypeError('network down for the test')) : fetch(input, init);
    a = await startDevice(relay.url, 'Alice', { fetch: aliceFetch });
    b = await startDevice(relay.url, 'Bob', { fetch: (i, init) => fetch(i, init) });
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Soon gone' }));
    const inv = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: inv.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.length === 2, 15_000, 'joined');
  });

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  it('delete account while the relay cannot be reached: refused, nothing left, nothing deleted', async () => {
    down = true;
    try {
      await expect(a.app.handlers['account.delete'](null)).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      down = false;
    }
    expect(a.app.snapshot.account.state).toBe('ready');
    expect(a.app.snapshot.conversations.find((c) => c.id === conv)?.status).toBe('active');
    expect(await relayRows('accounts')).toHaveLength(2);
  });

  it('delete account: leaves the conversation, the relay forgets the account, this device is wiped', async () => {
    const before = (await relayRows('accounts')).map((r) => r.account_id);
    const state = await a.app.handlers['account.delete'](null);
    expect(state.account.state).toBe('none');
    expect(state.conversations).toEqual([]);
    for (const store of ACCOUNT_STORES) expect(await a.db.count(store), store).toBe(0);
    await waitUntil(async () => (await b.app.handlers['conversation.get']({ conversationId: conv })).members.length === 1, 15_000, 'Bob alone');
    const after = (await relayRows('accounts')).map((r) => r.account_id);
    expect(after).toHaveLength(1);
    const gone = before.find((x) => !after.includes(x));
    for (const table of ['credentials', 'sessions', 'key_packages']) {
      expect((await relayRows(table)).some((r) => r.account_id === gone), table).toBe(false);
    }
  });

  it('sign out: this device is wiped and its session ended; the account stays; a new sign-up works', async () => {
    const bobAccount = (await relayRows('accounts'))[0]!.account_id;
    const state = await b.app.handlers['account.signOut'](null);
    expect(state.account.state).toBe('none');
    expect(b.app.snapshot.connection).toBe('offline');
    // The connection it gave up does not speak for the relay: onboarding asks the relay, which answers.
    expect(state.relay.state).not.toBe('unreachable');
    await waitUntil(() => b.app.snapshot.relay.state === 'reachable', 15_000, 'the relay checked');
    for (const store of ACCOUNT_STORES) expect(await b.db.count(store), store).toBe(0);
    expect((await relayRows('accounts')).map((r) => r.account_id)).toEqual([bobAccount]);
    expect((await relayRows('sessions')).some((r) => r.account_id === bobAccount)).toBe(false);

    const { options } = (await b.app.handlers['account.registrationOptions']({ displayName: 'Bob again' })) as {
      options: { challenge: string; rp: { id: string }; user: { id: string } };
    };
    const { response } = await createCredential({ rpId: options.rp.id, origin: EXT_ORIGIN, challenge: options.challenge, userId: options.user.id });
    const again = await b.app.handlers['account.completeRegistration']({ displayName: 'Bob again', response });
    expect(again.account).toMatchObject({ state: 'ready', displayName: 'Bob again' });
    await waitUntil(() => b.app.snapshot.connection === 'online', 15_000, 'the new account online');
    const { conversationId } = await b.app.handlers['conversation.create']({ name: 'Fresh start' });
    expect(b.app.snapshot.conversations.map((c) => c.id)).toEqual([conversationId]);
  });
});
