/**
 * Retiring a removed device's KeyPackages (docs/device-removal.md): the
 * device registers SHA-256 of a retire secret with its uploads; whoever
 * presents the secret (only the person's other devices can derive it) has
 * every package of that account deleted for good, with no session. Wrong
 * secrets and unregistered accounts get one answer; attempts are bounded.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { RelayClient } from './support/client.ts';
import { b64u } from './support/soft-authenticator.ts';

describe.each(STORE_KINDS)('retiring KeyPackages (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  beforeAll(async () => {
    relay = await startRelayOn(kind, {});
    c = new RelayClient(relay.url);
  });
  afterAll(async () => {
    await relay.stop();
  });

  const kp = (n: number): string => b64u(new Uint8Array(64).fill(n));
  const secretOf = (n: number): Uint8Array => new Uint8Array(32).fill(n);
  const code = (r: { body: Record<string, unknown> }): string => (r.body.error as { code: string }).code;

  it('the right secret deletes one-time and last-resort packages; claims then find none and uploads are refused', async () => {
    const bob = await c.register();
    const alice = await c.register();
    await c.ok('/v1/key-packages', { keyPackages: [kp(1), kp(2)], lastResort: kp(9), retireHash: b64u(sha256(secretOf(7))) }, bob.session);
    expect(await c.ok('/v1/key-packages/retire', { accountId: bob.accountId, secret: b64u(secretOf(7)) })).toEqual({ ok: true });
    const claim = await c.post('/v1/key-packages/claim', { accountId: bob.accountId }, alice.session);
    expect(claim.status).toBe(404);
    expect((await c.call('GET', '/v1/key-packages', undefined, bob.session)).body).toEqual({ oneTime: 0, lastResort: false });
    // The retired device's own session cannot bring packages back, nor register another secret.
    const up = await c.post('/v1/key-packages', { keyPackages: [kp(3)], lastResort: kp(4) }, bob.session);
    expect(up.status).toBe(409);
    expect(code(up)).toBe('conflict');
    const rehash = await c.post('/v1/key-packages', { retireHash: b64u(sha256(secretOf(8))) }, bob.session);
    expect(rehash.status).toBe(409);
    expect((await c.post('/v1/key-packages/claim', { accountId: bob.accountId }, alice.session)).status).toBe(404);
    // Retiring again (a resumed removal) answers the same.
    expect(await c.ok('/v1/key-packages/retire', { accountId: bob.accountId, secret: b64u(secretOf(7)) })).toEqual({ ok: true });
  });

  it('a wrong secret, or an account that registered none, is refused alike and nothing is deleted', async () => {
    const bob = await c.register();
    const carol = await c.register();
    const alice = await c.register();
    await c.ok('/v1/key-packages', { keyPackages: [kp(1)], lastResort: kp(9), retireHash: b64u(sha256(secretOf(7))) }, bob.session);
    await c.ok('/v1/key-packages', { keyPackages: [kp(1)], lastResort: kp(9) }, carol.session);
    const wrong = await c.post('/v1/key-packages/retire', { accountId: bob.accountId, secret: b64u(secretOf(6)) });
    const none = await c.post('/v1/key-packages/retire', { accountId: carol.accountId, secret: b64u(secretOf(7)) });
    // The hash itself is not the secret: presenting what the relay stores does nothing.
    const hash = await c.post('/v1/key-packages/retire', { accountId: bob.accountId, secret: b64u(sha256(secretOf(7))) });
    for (const r of [wrong, none, hash]) {
      expect(r.status).toBe(401);
      expect(code(r)).toBe('unauthenticated');
    }
    expect((await c.call('GET', '/v1/key-packages', undefined, bob.session)).body).toEqual({ oneTime: 1, lastResort: true });
    expect((await c.call('GET', '/v1/key-packages', undefined, carol.session)).body).toEqual({ oneTime: 1, lastResort: true });
    expect((await c.post('/v1/key-packages/claim', { accountId: bob.accountId }, alice.session)).status).toBe(200);
  });

  it('the account may replace its hash before it is retired (a linked identity derives another secret)', async () => {
    const bob = await c.register();
    await c.ok('/v1/key-packages', { keyPackages: [kp(1)], retireHash: b64u(sha256(secretOf(1))) }, bob.session);
    await c.ok('/v1/key-packages', { retireHash: b64u(sha256(secretOf(2))) }, bob.session);
    expect((await c.post('/v1/key-packages/retire', { accountId: bob.accountId, secret: b64u(secretOf(1)) })).status).toBe(401);
    expect((await c.post('/v1/key-packages/retire', { accountId: bob.accountId, secret: b64u(secretOf(2)) })).status).toBe(200);
  });

  it('malformed requests are bad_request; attempts per account are rate-limited', async () => {
    const bob = await c.register();
    await c.ok('/v1/key-packages', { retireHash: b64u(sha256(secretOf(3))) }, bob.session);
    expect(code(await c.post('/v1/key-packages/retire', { accountId: bob.accountId, secret: b64u(new Uint8Array(31)) }))).toBe('bad_request');
    expect(code(await c.post('/v1/key-packages/retire', { secret: b64u(secretOf(3)) }))).toBe('bad_request');
    expect(code(await c.post('/v1/key-packages', { retireHash: b64u(new Uint8Array(16)) }, bob.session))).toBe('bad_request');
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await c.post('/v1/key-packages/retire', { accountId: bob.accountId, secret: b64u(secretOf(100 + i)) });
      codes.push(code(r));
    }
    expect(codes).toContain('rate_limited');
    // Even the right secret waits out the limit: nothing was retired by the guesses.
    expect((await c.call('GET', '/v1/key-packages', undefined, bob.session)).status).toBe(200);
  });
});
