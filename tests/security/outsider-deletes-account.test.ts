// Attack: someone deletes an account that is not theirs through the relay's
// delete-account endpoint: an outsider with no session, with a made-up or a
// logged-out session, or another account with its own valid session that
// names the victim in the request (refused: the request has no fields, so no
// key names anyone). Deleting is reserved to the account's own
// session, and the target is always the session's own account: the victim's
// passkey still signs in, its session still works, its key packages are
// still there. Only the owner's own request deletes it, and then its
// sessions, its passkey and its key packages are gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from '../relay/support/stores.ts';
import { RelayClient, type Account } from '../relay/support/client.ts';
import { b64u } from '../relay/support/soft-authenticator.ts';

describe.each(STORE_KINDS)('an outsider deletes an account (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let victim: Account;
  const kp = (): string => b64u(crypto.getRandomValues(new Uint8Array(200)));

  beforeAll(async () => {
    relay = await startRelayOn(kind);
    c = new RelayClient(relay.url);
    victim = await c.register();
    expect((await c.post('/v1/key-packages', { keyPackages: [kp(), kp()], lastResort: kp() }, victim.session)).status).toBe(200);
  });
  afterAll(async () => {
    await relay?.stop();
  });

  async function victimIntact(): Promise<void> {
    expect((await c.call('GET', '/v1/session', undefined, victim.session)).status).toBe(200);
    expect((await c.login(victim.credential)).status).toBe(200);
    const counts = await c.call('GET', '/v1/key-packages', undefined, victim.session);
    expect(counts.body).toEqual({ oneTime: 2, lastResort: true });
  }

  it('without a session, with a made-up one or a logged-out one: 401, and nothing changes', async () => {
    const none = await c.post('/v1/accounts/delete', { accountId: victim.accountId });
    expect(none.status).toBe(401);
    const madeUp = await c.post('/v1/accounts/delete', { accountId: victim.accountId }, b64u(crypto.getRandomValues(new Uint8Array(32))));
    expect(madeUp.status).toBe(401);
    const login = await c.login(victim.credential);
    const stale = String(login.body.token);
    expect((await c.post('/v1/sessions/logout', {}, stale)).status).toBe(200);
    expect((await c.post('/v1/accounts/delete', {}, stale)).status).toBe(401);
    await victimIntact();
  });

  it('another account naming the victim is refused (the body has no fields), and deletes nothing', async () => {
    const mallory = await c.register();
    const r = await c.post('/v1/accounts/delete', { accountId: victim.accountId }, mallory.session);
    expect(r.status).toBe(400);
    expect((r.body.error as { code: string }).code).toBe('bad_request');
    expect((await c.call('GET', '/v1/session', undefined, mallory.session)).status).toBe(200);
    await victimIntact();
  });

  it("the owner's own session deletes it: sessions, passkey and key packages are gone", async () => {
    const other = await c.login(victim.credential);
    const otherSession = String(other.body.token);
    const r = await c.post('/v1/accounts/delete', {}, victim.session);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
    expect((await c.call('GET', '/v1/session', undefined, victim.session)).status).toBe(401);
    expect((await c.call('GET', '/v1/session', undefined, otherSession)).status).toBe(401);
    const again = await c.login(victim.credential);
    expect((again.body.error as { code: string }).code).toBe('ceremony_failed');
    const claimer = await c.register();
    const claim = await c.post('/v1/key-packages/claim', { accountId: victim.accountId }, claimer.session);
    expect(claim.status).toBe(404);
    const dump = await relay.dump();
    const rows = (table: string): Record<string, unknown>[] => dump[table] ?? [];
    expect(rows('accounts').some((a) => a.account_id === victim.accountId)).toBe(false);
    expect(rows('credentials').some((a) => a.account_id === victim.accountId)).toBe(false);
    expect(rows('sessions').some((a) => a.account_id === victim.accountId)).toBe(false);
    expect(rows('key_packages').some((a) => a.account_id === victim.accountId)).toBe(false);
  });
});
