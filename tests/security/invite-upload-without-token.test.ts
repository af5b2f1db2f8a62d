// Attack: anyone fills the relay with invites: POST /v1/invites took no
// session and no token, and stored up to 512 KiB for 30 days per call. Now an
// upload costs a sealed-sender token (bounded per account by the daily token
// quota, unlinkable to it) and counts against global daily caps on count and
// bytes, which with the longest TTL bound what invites can occupy.
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, type WireToken } from '../relay/support/client.ts';
import { b64u } from '../relay/support/soft-authenticator.ts';

const rand = (n: number): string => b64u(webcrypto.getRandomValues(new Uint8Array(n)));
const invite = (ciphertextBytes = 300): Record<string, unknown> => ({
  inviteId: rand(16),
  writeKey: rand(32),
  ciphertext: rand(ciphertextBytes),
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
  oneTime: false,
});
const code = (b: Record<string, unknown>): string => (b.error as { code: string }).code;

describe('uploading an invite without a token', () => {
  let relay: RelayProcess;
  let c: RelayClient;
  let tokens: WireToken[];

  beforeAll(async () => {
    relay = await startRelay({ args: ['--invite-uploads-per-day', '3', '--invite-upload-bytes-per-day', '5000'] });
    c = new RelayClient(relay.url);
    tokens = await c.tokens((await c.register()).session, 10);
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it('is refused without a token, with a forged token, and with a spent one; nothing is stored', async () => {
    const bare = invite();
    const none = await c.post('/v1/invites', bare);
    expect(none.status).toBe(400);
    expect(code(none.body)).toBe('bad_request');
    const forged = await c.post('/v1/invites', { ...invite(), token: { ...tokens[0]!, output: rand(64) } });
    expect(forged.status).toBe(403);
    expect(code(forged.body)).toBe('token_invalid');
    expect((await c.call('GET', `/v1/invites/${String(bare.inviteId)}`)).status).toBe(404);

    const token = tokens.shift()!;
    expect((await c.post('/v1/invites', { ...invite(), token })).status).toBe(200);
    const replayed = invite();
    const again = await c.post('/v1/invites', { ...replayed, token });
    expect(again.status).toBe(409);
    expect(code(again.body)).toBe('token_spent');
    expect((await c.call('GET', `/v1/invites/${String(replayed.inviteId)}`)).status).toBe(404);
  });

  it('counts against the global daily caps, with a clear error past them; a replayed token counts for nothing', async () => {
    // One upload above counts (the replay of its token did not): two more fit the cap of three.
    expect((await c.post('/v1/invites', { ...invite(), token: tokens.shift() })).status).toBe(200);
    // Bytes: 300 + 300 so far; 4,500 more would pass the 5,000-byte cap.
    const big = await c.post('/v1/invites', { ...invite(4500), token: tokens.shift() });
    expect(big.status).toBe(429);
    expect(code(big.body)).toBe('quota_exceeded');
    expect((await c.post('/v1/invites', { ...invite(), token: tokens.shift() })).status).toBe(200);
    const over = await c.post('/v1/invites', { ...invite(), token: tokens[0] });
    expect(over.status).toBe(429);
    expect(code(over.body)).toBe('quota_exceeded');
    expect((over.body.error as { message: string }).message).toMatch(/invite limit reached/);
  });
});
