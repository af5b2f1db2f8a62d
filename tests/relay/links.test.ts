// The device-link rendezvous (relay/links.ts) against a real relay process:
// a slot opened by one account, joined by exactly one other party, carrying
// opaque messages both ways in order, acknowledged by `after`, expiring, and
// deleted when both close. Unknown, taken, expired and wrong-key all answer
// the same 404; inputs are checked strictly; opens and joins are rate-limited.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, type Account } from './support/client.ts';
import { b64u } from './support/soft-authenticator.ts';

const rand = (n: number): string => b64u(new Uint8Array(randomBytes(n)));
const code = (b: Record<string, unknown>): string => (b.error as { code: string }).code;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('relay link rendezvous', () => {
  let relay: RelayProcess;
  let c: RelayClient;
  let accounts: Account[];
  let next = 0;
  // Each account may open 5 and join 10 per minute: give every test fresh ones.
  const account = (): Account => accounts[next++]!;

  beforeAll(async () => {
    relay = await startRelay({ args: ['--link-code-ttl-seconds', '2', '--link-session-ttl-seconds', '4'] });
    c = new RelayClient(relay.url);
    accounts = [];
    for (let i = 0; i < 24; i++) accounts.push(await c.register());
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  async function open(a = account()): Promise<{ slot: number; key: string; expiresAt: number }> {
    const r = await c.ok('/v1/links', {}, a.session);
    return r as { slot: number; key: string; expiresAt: number };
  }
  const join = (slot: number, a = account()) => c.post('/v1/links/join', { slot }, a.session);

  it('carries opaque messages both ways, in order, until both close', async () => {
    const o = await open();
    expect(Number.isInteger(o.slot) && o.slot >= 0 && o.slot < 2 ** 20).toBe(true);
    expect(o.expiresAt).toBeGreaterThan(Date.now() / 1000);
    const j = await join(o.slot);
    expect(j.status).toBe(200);
    const jk = j.body.key as string;
    expect(jk).not.toBe(o.key);

    const m1 = rand(100);
    const m2 = rand(64 * 1024);
    expect((await c.ok('/v1/links/post', { slot: o.slot, key: jk, payload: m1 })).seq).toBe(0);
    expect((await c.ok('/v1/links/post', { slot: o.slot, key: jk, payload: m2 })).seq).toBe(1);
    const f = await c.ok('/v1/links/fetch', { slot: o.slot, key: o.key, after: 0 });
    expect(f).toEqual({ messages: [m1, m2], next: 2, joined: true, peerClosed: false });
    // The joiner sees nothing of its own messages.
    expect((await c.ok('/v1/links/fetch', { slot: o.slot, key: jk, after: 0 })).messages).toEqual([]);
    // Acknowledged by `after`: gone.
    expect((await c.ok('/v1/links/fetch', { slot: o.slot, key: o.key, after: 2 })).messages).toEqual([]);
    // Beyond the last message: refused.
    expect((await c.post('/v1/links/fetch', { slot: o.slot, key: o.key, after: 3 })).status).toBe(400);

    const back = rand(32);
    await c.ok('/v1/links/post', { slot: o.slot, key: o.key, payload: back });
    expect((await c.ok('/v1/links/fetch', { slot: o.slot, key: jk, after: 0 })).messages).toEqual([back]);

    await c.ok('/v1/links/close', { slot: o.slot, key: o.key });
    const after = await c.ok('/v1/links/fetch', { slot: o.slot, key: jk, after: 1 });
    expect(after.peerClosed).toBe(true);
    // A closed party may no longer post.
    expect((await c.post('/v1/links/post', { slot: o.slot, key: o.key, payload: rand(8) })).status).toBe(404);
    await c.ok('/v1/links/close', { slot: o.slot, key: jk });
    const gone = await c.post('/v1/links/fetch', { slot: o.slot, key: jk, after: 0 });
    expect(gone.status).toBe(404);
    expect(code(gone.body)).toBe('not_found');
  });

  it('is one-time: a second party is refused exactly like an unknown slot', async () => {
    const o = await open();
    expect((await join(o.slot)).status).toBe(200);
    const second = await join(o.slot);
    expect(second.status).toBe(404);
    expect(second.body).toEqual({ error: { code: 'not_found', message: 'not found or not allowed' } });
    const unknown = await join((o.slot + 1) % 2 ** 20);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(second.body);
  });

  it('expires: an unclaimed code after the code TTL, a claimed slot after the session TTL', async () => {
    const o = await open();
    const o2 = await open();
    const j2 = await join(o2.slot);
    expect(j2.status).toBe(200);
    await sleep(2_300);
    expect((await join(o.slot)).status).toBe(404);
    expect((await c.post('/v1/links/fetch', { slot: o.slot, key: o.key, after: 0 })).status).toBe(404);
    // Joined in time: still usable until the session TTL.
    expect((await c.post('/v1/links/fetch', { slot: o2.slot, key: o2.key, after: 0 })).status).toBe(200);
    await sleep(2_000);
    expect((await c.post('/v1/links/fetch', { slot: o2.slot, key: o2.key, after: 0 })).status).toBe(404);
  }, 15_000);

  it('answers a wrong key, and the opener before anyone joined, with typed errors', async () => {
    const o = await open();
    const wrong = await c.post('/v1/links/fetch', { slot: o.slot, key: rand(32), after: 0 });
    expect(wrong.status).toBe(404);
    const early = await c.post('/v1/links/post', { slot: o.slot, key: o.key, payload: rand(8) });
    expect(early.status).toBe(409);
    expect(code(early.body)).toBe('conflict');
    // Before the join the opener's fetch says nobody joined yet.
    expect((await c.ok('/v1/links/fetch', { slot: o.slot, key: o.key, after: 0 })).joined).toBe(false);
  });

  it('checks every input strictly', async () => {
    const o = await open();
    const a = account();
    for (const slot of [-1, 2 ** 20, 1.5, '12', null]) {
      const r = await c.post('/v1/links/join', { slot }, a.session);
      expect(r.status).toBe(400);
      expect(code(r.body)).toBe('bad_request');
    }
    expect((await c.post('/v1/links/fetch', { slot: o.slot, key: rand(31), after: 0 })).status).toBe(400);
    expect((await c.post('/v1/links/fetch', { slot: o.slot, key: o.key, after: -1 })).status).toBe(400);
    expect((await c.post('/v1/links/fetch', { slot: o.slot, key: o.key, after: 0, waitMs: 60_000 })).status).toBe(400);
    expect((await c.post('/v1/links/post', { slot: o.slot, key: o.key, payload: 'not base64!' })).status).toBe(400);
    const big = await c.post('/v1/links/post', { slot: o.slot, key: o.key, payload: rand(64 * 1024 + 1) });
    expect([400, 413]).toContain(big.status);
    // Opening and joining need a session.
    expect((await c.post('/v1/links', {})).status).toBe(401);
    expect((await c.post('/v1/links/join', { slot: o.slot })).status).toBe(401);
  });

  it('long-polls: a waiting fetch wakes on the peer post', async () => {
    const o = await open();
    const jk = (await join(o.slot)).body.key as string;
    const started = Date.now();
    const waiting = c.ok('/v1/links/fetch', { slot: o.slot, key: o.key, after: 0, waitMs: 10_000 });
    await sleep(200);
    const m = rand(40);
    await c.ok('/v1/links/post', { slot: o.slot, key: jk, payload: m });
    expect((await waiting).messages).toEqual([m]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('bounds what waits unfetched, and how often one account opens or joins', async () => {
    const o = await open();
    const jk = (await join(o.slot)).body.key as string;
    for (let i = 0; i < 64; i++) await c.ok('/v1/links/post', { slot: o.slot, key: jk, payload: rand(16) });
    const full = await c.post('/v1/links/post', { slot: o.slot, key: jk, payload: rand(16) });
    expect(full.status).toBe(429);
    expect(code(full.body)).toBe('quota_exceeded');

    const a = account();
    for (let i = 0; i < 5; i++) await open(a);
    const sixth = await c.post('/v1/links', {}, a.session);
    expect(sixth.status).toBe(429);
    expect(code(sixth.body)).toBe('rate_limited');
    const b = account();
    for (let i = 0; i < 10; i++) await join(2 ** 20 - 1 - i, b);
    expect(code((await join(0, b)).body)).toBe('rate_limited');
  });
});
