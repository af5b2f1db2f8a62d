// Invites against a real relay process: an encrypted GroupInfo published under
// an invite id, replaced by members holding the write key, read once (one-time)
// or until expiry, deleted on revocation (leaving a tombstone), gone from the
// database files after deletion, and the same 404 for unknown, expired or
// wrong-key requests. Creating one costs a sealed-sender token.
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { RelayClient, type WireToken } from './support/client.ts';
import { b64u } from './support/soft-authenticator.ts';

const rand = (n: number): string => b64u(webcrypto.getRandomValues(new Uint8Array(n)));
const code = (b: Record<string, unknown>): string => (b.error as { code: string }).code;
const nowS = (): number => Math.floor(Date.now() / 1000);

function canary(label: string, size: number): Uint8Array {
  const out = webcrypto.getRandomValues(new Uint8Array(size));
  out.set(new TextEncoder().encode(`CANARY-${label}-`));
  return out;
}

describe.each(STORE_KINDS)('relay invites (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let tokens: WireToken[];

  beforeAll(async () => {
    relay = await startRelayOn(kind, {
      args: ['--sweep-interval-seconds', '1', '--scrub-interval-ms', '200', '--invite-max-bytes', '4096'],
      redisArgs: ['--redis-aof-rewrite-interval-seconds', '0'],
    });
    c = new RelayClient(relay.url);
    tokens = await c.tokens((await c.register()).session, 40);
  });
  afterAll(async () => {
    await relay.stop();
  });

  const create = (over: Record<string, unknown> = {}) => {
    const invite = { inviteId: rand(16), writeKey: rand(32), ciphertext: rand(300), expiresAt: nowS() + 3600, oneTime: false, ...over };
    return { invite, answer: c.post('/v1/invites', { token: tokens.pop(), ...invite }) };
  };

  it('publishes, replaces with the write key, and serves until deleted', async () => {
    const { invite, answer } = create();
    expect((await answer).status).toBe(200);
    const path = `/v1/invites/${invite.inviteId}`;
    expect((await c.call('GET', path)).body).toEqual({ ciphertext: invite.ciphertext });
    expect((await c.call('GET', path)).body).toEqual({ ciphertext: invite.ciphertext }); // reusable

    const next = rand(400);
    expect((await c.call('PUT', path, { writeKey: invite.writeKey, ciphertext: next })).status).toBe(200);
    expect((await c.call('GET', path)).body).toEqual({ ciphertext: next });

    expect((await c.call('DELETE', path, { writeKey: invite.writeKey })).status).toBe(200);
    const gone = await c.call('GET', path);
    expect(gone.status).toBe(404);
    expect(code(gone.body)).toBe('not_found');
  });

  it('deletes a one-time invite with its first read', async () => {
    const { invite, answer } = create({ oneTime: true });
    await answer;
    const path = `/v1/invites/${invite.inviteId}`;
    expect((await c.call('GET', path)).status).toBe(200);
    expect((await c.call('GET', path)).status).toBe(404);
    // Nor can a member resurrect it, by replacing or by creating it again.
    expect((await c.call('PUT', path, { writeKey: invite.writeKey, ciphertext: rand(10) })).status).toBe(404);
    expect((await c.post('/v1/invites', { token: tokens.pop(), ...invite })).status).toBe(409);
  });

  it('answers the same 404 for a wrong write key as for an unknown invite, and changes nothing', async () => {
    const { invite, answer } = create();
    await answer;
    const path = `/v1/invites/${invite.inviteId}`;
    const wrongPut = await c.call('PUT', path, { writeKey: rand(32), ciphertext: rand(10) });
    const wrongDelete = await c.call('DELETE', path, { writeKey: rand(32) });
    const unknown = await c.call('PUT', `/v1/invites/${rand(16)}`, { writeKey: invite.writeKey, ciphertext: rand(10) });
    expect(wrongPut).toEqual(unknown);
    expect(wrongDelete).toEqual(unknown);
    expect((await c.call('GET', path)).body).toEqual({ ciphertext: invite.ciphertext });
  });

  it('refuses a taken id, bad fields, oversize ciphertext and far expiries with typed errors', async () => {
    const { invite, answer } = create();
    await answer;
    const again = await c.post('/v1/invites', { token: tokens.pop(), ...invite });
    expect(again.status).toBe(409);
    expect(code(again.body)).toBe('conflict');
    for (const over of [
      { inviteId: rand(15) },
      { writeKey: rand(16) },
      { ciphertext: rand(5000) },
      { ciphertext: '' },
      { expiresAt: nowS() - 1 },
      { expiresAt: nowS() + 31 * 24 * 3600 },
      { expiresAt: '1' },
      { oneTime: 'yes' },
    ]) {
      const r = await create(over).answer;
      expect(r.status, JSON.stringify(over)).toBe(400);
      expect(code(r.body)).toBe('bad_request');
    }
    expect((await c.call('GET', '/v1/invites/not-an-id')).status).toBe(400);
    expect((await c.call('PATCH', `/v1/invites/${invite.inviteId}`)).status).toBe(405);
  });

  it('expires invites, and their ciphertext leaves the database files', async () => {
    const secret = canary('invite', 1000);
    const { invite, answer } = create({ ciphertext: b64u(secret), expiresAt: nowS() + 2 });
    await answer;
    const probe = Buffer.from(secret.subarray(0, 64));
    const holders = (): string[] => relay.files().filter((f) => readFileSync(f).indexOf(probe) >= 0);
    expect(holders().length).toBeGreaterThan(0);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && ((await c.call('GET', `/v1/invites/${invite.inviteId}`)).status !== 404 || holders().length > 0)) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await c.call('GET', `/v1/invites/${invite.inviteId}`)).status).toBe(404);
    expect(holders()).toEqual([]);
    if (kind === 'redis') expect(await relay.inMemory(secret)).toBe(false);
  });

  it('stores neither the invite id nor the write key in the clear', async () => {
    const { invite, answer } = create();
    await answer;
    const files = relay.files().map((f) => readFileSync(f));
    for (const needle of [invite.inviteId, invite.writeKey]) {
      const raw = Buffer.from(needle, 'base64url');
      for (const f of files) {
        expect(f.indexOf(raw)).toBe(-1);
        expect(f.indexOf(Buffer.from(needle))).toBe(-1);
      }
    }
  });
});
