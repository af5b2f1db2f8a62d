// Passkey accounts, sessions and the key package directory, against a real relay process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { EXT_ORIGIN, RelayClient } from './support/client.ts';
import { b64u, createCredential, getAssertion } from './support/soft-authenticator.ts';

describe.each(STORE_KINDS)('relay accounts (WebAuthn passkeys) and sessions (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: ['--key-packages-max-per-account', '5'] });
    c = new RelayClient(relay.url);
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('registers with a passkey from a chrome-extension origin; the account id is a random pseudonym', async () => {
    const a = await c.register();
    const b = await c.register();
    expect(a.accountId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.accountId).not.toBe(b.accountId);
    const s = await c.call('GET', '/v1/session', undefined, a.session);
    expect(s.status).toBe(200);
    expect(s.body.accountId).toBe(a.accountId);
  });

  it('registers from a moz-extension origin too', async () => {
    const a = await c.register('moz-extension://0b1c2d3e-1111-2222-3333-444455556666');
    expect(a.accountId.length).toBe(22);
  });

  it('rejects a ceremony from a web origin that is not configured', async () => {
    await expect(c.register('https://evil.example')).rejects.toThrow(/ceremony_failed/);
  });

  it('rejects a registration response replayed against a used ceremony', async () => {
    const start = await c.ok('/v1/accounts/register/start', {});
    const options = start.options as { challenge: string; rp: { id: string }; user: { id: string } };
    const { response } = await createCredential({ rpId: options.rp.id, origin: EXT_ORIGIN, challenge: options.challenge, userId: options.user.id });
    expect((await c.post('/v1/accounts/register/finish', { ceremonyId: start.ceremonyId, response })).status).toBe(200);
    const again = await c.post('/v1/accounts/register/finish', { ceremonyId: start.ceremonyId, response });
    expect(again.status).toBe(400);
    expect((again.body.error as { code: string }).code).toBe('ceremony_failed');
  });

  it('rejects a credential whose challenge does not match the ceremony', async () => {
    const start = await c.ok('/v1/accounts/register/start', {});
    const options = start.options as { rp: { id: string }; user: { id: string } };
    const { response } = await createCredential({ rpId: options.rp.id, origin: EXT_ORIGIN, challenge: b64u(new Uint8Array(32)), userId: options.user.id });
    const r = await c.post('/v1/accounts/register/finish', { ceremonyId: start.ceremonyId, response });
    expect((r.body.error as { code: string }).code).toBe('ceremony_failed');
  });

  it('logs in with the passkey, then logout invalidates only that session', async () => {
    const a = await c.register();
    const login = await c.login(a.credential);
    expect(login.status).toBe(200);
    expect(login.body.accountId).toBe(a.accountId);
    const second = String(login.body.token);
    expect(second).not.toBe(a.session);
    expect((await c.post('/v1/sessions/logout', {}, second)).status).toBe(200);
    expect((await c.call('GET', '/v1/session', undefined, second)).status).toBe(401);
    expect((await c.call('GET', '/v1/session', undefined, a.session)).status).toBe(200);
  });

  it('rejects an assertion signed by another key for a known credential id', async () => {
    const a = await c.register();
    const other = await c.register();
    const start = await c.ok('/v1/sessions/start', {});
    const response = await getAssertion({ ...other.credential, id: a.credential.id }, { origin: EXT_ORIGIN, challenge: String((start.options as { challenge: string }).challenge) });
    const r = await c.post('/v1/sessions/finish', { ceremonyId: start.ceremonyId, response });
    expect((r.body.error as { code: string }).code).toBe('ceremony_failed');
  });

  it('sessions expire', async () => {
    const short = await startRelayOn(kind, { args: ['--session-ttl-seconds', '1'] });
    try {
      const sc = new RelayClient(short.url);
      const a = await sc.register();
      expect((await sc.call('GET', '/v1/session', undefined, a.session)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2100));
      expect((await sc.call('GET', '/v1/session', undefined, a.session)).status).toBe(401);
    } finally {
      await short.stop();
    }
  });

  it('refuses missing, malformed and unknown bearer tokens with the same typed error', async () => {
    for (const session of [undefined, 'x', b64u(new Uint8Array(32))]) {
      const r = await c.call('GET', '/v1/session', undefined, session);
      expect(r.status).toBe(401);
      expect((r.body.error as { code: string }).code).toBe('unauthenticated');
    }
  });
});

describe.each(STORE_KINDS)('relay key package directory (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: ['--key-packages-max-per-account', '5', '--key-package-claims-per-minute', '8'] });
    c = new RelayClient(relay.url);
  });
  afterAll(async () => {
    await relay.stop();
  });

  const kp = (n: number): string => b64u(new Uint8Array(64).fill(n));

  it('claims one-time packages oldest first and deletes them; the last-resort one is never deleted', async () => {
    const bob = await c.register();
    const alice = await c.register();
    const up = await c.ok('/v1/key-packages', { keyPackages: [kp(1), kp(2)], lastResort: kp(9) }, bob.session);
    expect(up).toEqual({ oneTime: 2, lastResort: true });
    const claim = async (): Promise<string> =>
      String((await c.ok('/v1/key-packages/claim', { accountId: bob.accountId }, alice.session)).keyPackage);
    expect(await claim()).toBe(kp(1));
    expect(await claim()).toBe(kp(2));
    expect(await claim()).toBe(kp(9));
    expect(await claim()).toBe(kp(9));
    expect((await c.call('GET', '/v1/key-packages', undefined, bob.session)).body).toEqual({ oneTime: 0, lastResort: true });
  });

  it('caps one-time packages per account', async () => {
    const bob = await c.register();
    await c.ok('/v1/key-packages', { keyPackages: [kp(1), kp(2), kp(3), kp(4)] }, bob.session);
    const over = await c.post('/v1/key-packages', { keyPackages: [kp(5), kp(6)] }, bob.session);
    expect(over.status).toBe(429);
    expect((over.body.error as { code: string }).code).toBe('quota_exceeded');
    expect((await c.call('GET', '/v1/key-packages', undefined, bob.session)).body).toEqual({ oneTime: 4, lastResort: false });
  });

  it('answers an unknown account and an account without packages identically', async () => {
    const alice = await c.register();
    const empty = await c.register();
    const a = await c.post('/v1/key-packages/claim', { accountId: empty.accountId }, alice.session);
    const b = await c.post('/v1/key-packages/claim', { accountId: b64u(new Uint8Array(16)) }, alice.session);
    expect(a).toEqual(b);
    expect(a.status).toBe(404);
  });

  it('bounds claims per claiming account, so nobody drains another account', async () => {
    const bob = await c.register();
    const mallory = await c.register();
    await c.ok('/v1/key-packages', { keyPackages: [kp(1), kp(2), kp(3), kp(4), kp(5)] }, bob.session);
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await c.post('/v1/key-packages/claim', { accountId: bob.accountId }, mallory.session)).status);
    expect(statuses.slice(0, 8).every((s) => s === 200 || s === 404)).toBe(true);
    expect(statuses[8]).toBe(429);
  });

  it('requires a session to claim or upload', async () => {
    expect((await c.post('/v1/key-packages/claim', { accountId: b64u(new Uint8Array(16)) })).status).toBe(401);
    expect((await c.post('/v1/key-packages', { keyPackages: [kp(1)] })).status).toBe(401);
  });
});
