// Attack: anyone may start WebAuthn ceremonies (POST /v1/accounts/register/start,
// /v1/sessions/start) without finishing them; each leaves a challenge in the
// store until it expires, so a flood piles them up without bound. The relay
// keeps at most --max-pending-ceremonies (default 10,000): starting one more
// drops the one that expires first, and every ceremony expires after
// --ceremony-ttl-seconds (default 300). The flood costs its sender
// throughput, not the relay memory or disk; a person is affected only by a
// flood fast enough to push out their ceremony before they touch their key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXT_ORIGIN, RelayClient } from '../relay/support/client.ts';
import { createCredential } from '../relay/support/soft-authenticator.ts';
import { STORE_KINDS, startRelayOn, type StoreRelay } from '../relay/support/stores.ts';

const CAP = 20;
const TTL = 3;

interface Started {
  ceremonyId: string;
  options: { challenge: string; rp: { id: string }; user: { id: string } };
}

describe.each(STORE_KINDS)('WebAuthn ceremonies are bounded and expire (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: ['--max-pending-ceremonies', String(CAP), '--ceremony-ttl-seconds', String(TTL)] });
    c = new RelayClient(relay.url);
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  const start = async (): Promise<Started> => (await c.ok('/v1/accounts/register/start', {})) as unknown as Started;
  const finish = async (s: Started): Promise<number> => {
    const { response } = await createCredential({
      rpId: s.options.rp.id,
      origin: EXT_ORIGIN,
      challenge: s.options.challenge,
      userId: s.options.user.id,
    });
    return (await c.post('/v1/accounts/register/finish', { ceremonyId: s.ceremonyId, response })).status;
  };

  it(`a flood of ${CAP * 5} started ceremonies leaves at most ${CAP}; the oldest are gone, the newest work`, async () => {
    const started: Started[] = [];
    for (let i = 0; i < CAP * 5; i++) started.push(await start());
    // Expiry times are whole seconds: ceremonies started within one second expire together, and which
    // of those makes room first is not defined. The second flood starts a second later, so every one of
    // the first flood expires before any of the second, and all of them must have made room.
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < CAP * 5; i++) await c.ok('/v1/sessions/start', {});
    const db = await relay.dump();
    expect((db.ceremonies ?? []).length).toBeLessThanOrEqual(CAP);
    expect(await finish(started[0]!)).toBe(400);
    const fresh = await start();
    expect(await finish(fresh)).toBe(200);
  }, 60_000);

  it(`a ceremony is refused after ${TTL} s`, async () => {
    const s = await start();
    await new Promise((r) => setTimeout(r, (TTL + 1) * 1000));
    expect(await finish(s)).toBe(400);
  }, 30_000);
});
