// Sealed-sender tokens (VOPRF, RFC 9497): issuance with a DLEQ proof, anonymous
// spending, exactly-once under parallel attempts, quotas, and key rotation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { RelayClient, capFor, randomQueue, type Account } from './support/client.ts';
import { b64u, fromB64u } from './support/soft-authenticator.ts';

const code = (b: Record<string, unknown>): string => (b.error as { code: string }).code;

describe.each(STORE_KINDS)('relay sealed-sender tokens (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let alice: Account;
  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: ['--token-daily-quota', '300', '--token-batch-max', '50'] });
    c = new RelayClient(relay.url);
    alice = await c.register();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('publishes its ristretto255-SHA512 key; issued tokens verify under the DLEQ proof', async () => {
    const keys = await c.call('GET', '/v1/tokens/keys');
    expect(keys.body.suite).toBe('ristretto255-SHA512');
    const tokens = await c.tokens(alice.session, 3);
    expect(tokens).toHaveLength(3);
    // A spend is anonymous: no session header, only (keyId, input, output).
    const mb = await c.mailbox(tokens[0]!);
    expect(mb.mailboxId.length).toBe(22);
  });

  it('rejects a token whose output was not produced by the relay key', async () => {
    const [t] = await c.tokens(alice.session, 1);
    const forged = { ...t!, output: b64u(new Uint8Array(64).fill(7)) };
    const r = await c.post('/v1/mailboxes', { token: forged });
    expect(r.status).toBe(403);
    expect(code(r.body)).toBe('token_invalid');
    const otherInput = { ...t!, input: b64u(new Uint8Array(32).fill(1)) };
    expect(code((await c.post('/v1/mailboxes', { token: otherInput })).body)).toBe('token_invalid');
  });

  it('a token is spent exactly once even under 100 parallel attempts', async () => {
    const [t] = await c.tokens(alice.session, 1);
    const mb = await c.mailbox((await c.tokens(alice.session, 1))[0]!);
    const queue = randomQueue();
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...mb });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        c.post('/v1/queues/send', { queue, cap: capFor(queue), token: t, payload: b64u(new Uint8Array([i])) }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expect(code(r.body)).toBe('token_spent');
    const msgs = await c.fetchAll(mb);
    expect(msgs).toHaveLength(1);
  });

  it('rejects blinded elements that are not valid ristretto255 elements or are the identity', async () => {
    for (const bad of [new Uint8Array(32), new Uint8Array(32).fill(0xff), new Uint8Array(31)]) {
      const r = await c.post('/v1/tokens/issue', { blinded: [b64u(bad)] }, alice.session);
      expect(r.status).toBe(400);
      expect(code(r.body)).toBe('bad_request');
    }
    const gen = ristretto255.Point.BASE.toBytes();
    expect((await c.post('/v1/tokens/issue', { blinded: [b64u(gen)] }, alice.session)).status).toBe(200);
  });

  it('enforces the batch size and needs a session', async () => {
    const tooMany = Array.from({ length: 51 }, () => b64u(ristretto255.Point.BASE.toBytes()));
    expect(code((await c.post('/v1/tokens/issue', { blinded: tooMany }, alice.session)).body)).toBe('bad_request');
    expect((await c.post('/v1/tokens/issue', { blinded: [b64u(ristretto255.Point.BASE.toBytes())] })).status).toBe(401);
  });

  it('enforces the daily token quota per account', async () => {
    const bob = await c.register();
    // Any valid element counts against the quota; no need to finalize here.
    const fifty = { blinded: Array.from({ length: 50 }, () => b64u(ristretto255.Point.BASE.toBytes())) };
    for (let i = 0; i < 6; i++) expect((await c.post('/v1/tokens/issue', fifty, bob.session)).status).toBe(200);
    const r = await c.post('/v1/tokens/issue', { blinded: [b64u(ristretto255.Point.BASE.toBytes())] }, bob.session);
    expect(r.status).toBe(429);
    expect(code(r.body)).toBe('quota_exceeded');
  });

  it('rate-limits issuance requests per account', async () => {
    const carol = await c.register();
    const one = { blinded: [b64u(ristretto255.Point.BASE.toBytes())] };
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await c.post('/v1/tokens/issue', one, carol.session)).status);
    expect(codes.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(codes[11]).toBe(429);
  });
});

describe.each(STORE_KINDS)('relay token key rotation (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: ['--token-key-lifetime-seconds', '2', '--token-key-overlap-seconds', '3'] });
    c = new RelayClient(relay.url);
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('rotates keys; old tokens stay valid during the overlap, then are refused as invalid (spent set pruned with the key)', async () => {
    const a = await c.register();
    const [old1, old2] = await c.tokens(a.session, 2);
    const oldKey = old1!.keyId;
    const mb = await c.mailbox(old1!);
    // Wait until issuance moved to a new key while the old one is still accepted.
    let keys: { keyId: string; issuing: boolean }[] = [];
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 100));
      keys = (await c.call('GET', '/v1/tokens/keys')).body.keys as typeof keys;
      if (keys.some((k) => k.keyId !== oldKey && k.issuing)) break;
    }
    const fresh = (await c.tokens(a.session, 1))[0]!;
    expect(fresh.keyId).not.toBe(oldKey);
    expect(keys.find((k) => k.keyId === oldKey)?.issuing).toBe(false);
    // Overlap: the old key still pays.
    const mb2 = await c.mailbox(old2!);
    expect(mb2.mailboxId).not.toBe(mb.mailboxId);
    // The old key's first token is spent; after retirement the relay no longer knows the key at all.
    expect(code((await c.post('/v1/mailboxes', { token: old1 })).body)).toBe('token_spent');
    const during = await relay.dump();
    expect(during.spent!.filter((r) => r.key_id === oldKey)).toHaveLength(2);
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 100));
      keys = (await c.call('GET', '/v1/tokens/keys')).body.keys as typeof keys;
      if (!keys.some((k) => k.keyId === oldKey)) break;
    }
    expect(keys.some((k) => k.keyId === oldKey)).toBe(false);
    expect(code((await c.post('/v1/mailboxes', { token: old1 })).body)).toBe('token_invalid');
    expect(fromB64u(fresh.output)).toHaveLength(64);
    // The retired key and its whole spent set are gone from the database.
    const db = await relay.dump();
    expect(db.token_keys!.some((k) => k.key_id === oldKey)).toBe(false);
    expect(db.spent!.some((r) => r.key_id === oldKey)).toBe(false);
  });
});
