// Store-until-delivered messaging against a real relay process: queues known by
// hash, anonymous mailboxes, fan-out, per-mailbox ACK, order, Welcome, group
// deletion, WebSocket push with HTTP fallback, and the uniform not-found answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, WsClient, capFor, randomQueue, waitFor, type Account, type Mailbox, type WireToken } from './support/client.ts';
import { createHash } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { b64u, fromB64u } from './support/soft-authenticator.ts';

const code = (b: Record<string, unknown>): string => (b.error as { code: string }).code;
const text = (s: string): string => b64u(new TextEncoder().encode(s));

describe.each(STORE_KINDS)('relay delivery (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let alice: Account;
  let pool: WireToken[] = [];
  const token = (): WireToken => {
    const t = pool.pop();
    if (t === undefined) throw new Error('token pool empty');
    return t;
  };
  const mailboxes = async (n: number): Promise<Mailbox[]> => Promise.all(Array.from({ length: n }, () => c.mailbox(token())));
  const group = async (n: number): Promise<{ queue: string; members: Mailbox[] }> => {
    const queue = randomQueue();
    const members = await mailboxes(n);
    for (const m of members) await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
    return { queue, members };
  };

  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: ['--token-issue-requests-per-minute', '100'] });
    c = new RelayClient(relay.url);
    alice = await c.register();
    pool = await c.tokens(alice.session, 200);
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('advertises its limits', async () => {
    const r = await c.call('GET', '/v1/limits');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ maxFrameBytes: 16384, maxMessagesPerSecond: 30, messageTtlSeconds: 30 * 24 * 3600 });
  });

  it('stores a message once and delivers it to every registered mailbox; ACK removes only that mailbox copy', async () => {
    const { queue, members } = await group(3);
    const sent = await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text('hello') });
    expect(String(sent.id)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const m of members) {
      const msgs = await c.fetchAll(m);
      expect(msgs).toEqual([{ id: sent.id, kind: 'group', payload: text('hello') }]);
    }
    const [a, b, d] = members as [Mailbox, Mailbox, Mailbox];
    expect((await c.ok('/v1/mailboxes/ack', { ...a, ids: [sent.id] })).removed).toBe(1);
    expect(await c.fetchAll(a)).toEqual([]);
    expect(await c.fetchAll(b)).toHaveLength(1);
    // Acking twice, or from a mailbox that already acked, changes nothing.
    expect((await c.ok('/v1/mailboxes/ack', { ...a, ids: [sent.id] })).removed).toBe(0);
    await c.ok('/v1/mailboxes/ack', { ...b, ids: [sent.id] });
    await c.ok('/v1/mailboxes/ack', { ...d, ids: [sent.id] });
    for (const m of members) expect(await c.fetchAll(m)).toEqual([]);
  });

  it('an ACK naming another message id never deletes a different message', async () => {
    const g1 = await group(1);
    const g2 = await group(1);
    const m1 = await c.ok('/v1/queues/send', { queue: g1.queue, cap: capFor(g1.queue), token: token(), payload: text('one') });
    const m2 = await c.ok('/v1/queues/send', { queue: g2.queue, cap: capFor(g2.queue), token: token(), payload: text('two') });
    // Mailbox 2 acks message 1 (not its own): nothing happens to either.
    expect((await c.ok('/v1/mailboxes/ack', { ...g2.members[0]!, ids: [m1.id] })).removed).toBe(0);
    expect((await c.fetchAll(g1.members[0]!)).map((m) => m.id)).toEqual([m1.id]);
    expect((await c.fetchAll(g2.members[0]!)).map((m) => m.id)).toEqual([m2.id]);
  });

  it('keeps per-queue order', async () => {
    const { queue, members } = await group(2);
    const ids: unknown[] = [];
    for (let i = 0; i < 15; i++) ids.push((await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text(`m${i}`) })).id);
    for (const m of members) expect((await c.fetchAll(m)).map((x) => x.id)).toEqual(ids);
  });

  it('delivers a Welcome to a device mailbox', async () => {
    const [mb] = await mailboxes(1);
    const w = await c.ok('/v1/mailboxes/welcome', { mailboxId: mb!.mailboxId, token: token(), payload: text('welcome') });
    expect(await c.fetchAll(mb!)).toEqual([{ id: w.id, kind: 'welcome', payload: text('welcome') }]);
  });

  it('deleting a group deletes its queue and ciphertext; the token of a refused send stays unspent', async () => {
    const { queue, members } = await group(2);
    await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text('bye') });
    await c.ok('/v1/queues/delete', { queue, cap: capFor(queue) });
    for (const m of members) expect(await c.fetchAll(m)).toEqual([]);
    const t = token();
    const r = await c.post('/v1/queues/send', { queue, cap: capFor(queue), token: t, payload: text('late') });
    expect(r.status).toBe(404);
    expect((await c.post('/v1/mailboxes', { token: t })).status).toBe(200);
  });

  it('an unregistered mailbox stops receiving', async () => {
    const { queue, members } = await group(2);
    await c.ok('/v1/queues/unregister', { queue, cap: capFor(queue), mailboxId: members[1]!.mailboxId });
    await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text('x') });
    expect(await c.fetchAll(members[0]!)).toHaveLength(1);
    expect(await c.fetchAll(members[1]!)).toHaveLength(0);
  });

  it('answers "does not exist" and "not allowed" identically', async () => {
    const [mb] = await mailboxes(1);
    const wrongSecret = await c.post('/v1/mailboxes/fetch', { mailboxId: mb!.mailboxId, secret: b64u(new Uint8Array(32)) });
    const unknown = await c.post('/v1/mailboxes/fetch', { mailboxId: b64u(new Uint8Array(16)), secret: mb!.secret });
    expect(wrongSecret).toEqual(unknown);
    expect(wrongSecret.status).toBe(404);
    expect(code(wrongSecret.body)).toBe('not_found');
    const q = randomQueue();
    const noQueue = await c.post('/v1/queues/delete', { queue: q, cap: capFor(q) });
    expect(noQueue).toEqual(unknown);
    const regWrong = await c.post('/v1/queues/register', { queue: q, cap: capFor(q), mailboxId: mb!.mailboxId, secret: b64u(new Uint8Array(32)) });
    expect(regWrong).toEqual(unknown);
  });

  it('a queue needs its capability: the queue id alone registers, unregisters, posts and deletes nothing', async () => {
    const { queue, members } = await group(2);
    const [outsider] = await mailboxes(1);
    const wrong = b64u(new Uint8Array(32).fill(7));
    const q2 = randomQueue();
    const unknown = await c.post('/v1/queues/delete', { queue: q2, cap: wrong });
    expect(unknown.status).toBe(404);
    expect(await c.post('/v1/queues/register', { queue, cap: wrong, ...outsider })).toEqual(unknown);
    expect(await c.post('/v1/queues/unregister', { queue, cap: wrong, mailboxId: members[1]!.mailboxId })).toEqual(unknown);
    const t = token();
    expect(await c.post('/v1/queues/send', { queue, cap: wrong, token: t, payload: text('no') })).toEqual(unknown);
    expect(await c.post('/v1/queues/delete', { queue, cap: wrong })).toEqual(unknown);
    expect((await c.post('/v1/queues/send', { queue, token: token(), payload: text('no') })).status).toBe(400);
    // Nothing changed: the token is unspent, both members still get what the group sends, the outsider nothing.
    await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: t, payload: text('yes') });
    for (const m of members) expect((await c.fetchAll(m)).map((x) => x.payload)).toEqual([text('yes')]);
    expect(await c.fetchAll(outsider!)).toEqual([]);
    const ws = await WsClient.open(relay.url);
    try {
      const refused = await ws.request({ t: 'send', queue, cap: wrong, token: token(), payload: text('ws') });
      expect(refused).toMatchObject({ t: 'error', code: 'not_found' });
    } finally {
      ws.close();
    }
  });

  it('a Commit posted with rotateTo rotates the capability: the old one is stale_capability, the new one works', async () => {
    const { queue, members } = await group(2);
    const next = b64u(new Uint8Array(32).fill(9));
    // rotateTo is H(Q, C') as the client computes it; the relay takes it as given.
    const nextHash = b64u(new Uint8Array(createHash('sha256').update(Buffer.concat([
      Buffer.from('microchat queue capability v1'), Buffer.from(fromB64u(queue)), Buffer.from(fromB64u(next)),
    ])).digest()));
    expect((await c.post('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text('c'), rotateTo: 'AAAA' })).status).toBe(400);
    await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text('commit'), rotateTo: nextHash });
    const t = token();
    const stale = await c.post('/v1/queues/send', { queue, cap: capFor(queue), token: t, payload: text('late') });
    expect(stale.status).toBe(409);
    expect(code(stale.body)).toBe('stale_capability');
    const [fresh] = await mailboxes(1);
    expect(code((await c.post('/v1/queues/register', { queue, cap: capFor(queue), ...fresh })).body)).toBe('stale_capability');
    await c.ok('/v1/queues/send', { queue, cap: next, token: t, payload: text('after') });
    await c.ok('/v1/queues/register', { queue, cap: next, ...fresh });
    for (const m of members) expect((await c.fetchAll(m)).map((x) => x.payload)).toEqual([text('commit'), text('after')]);
    await c.ok('/v1/queues/delete', { queue, cap: next });
    expect(await c.fetchAll(fresh!)).toEqual([]);
  });

  it('pushes over WebSocket, accepts sends and ACKs there, and HTTP fetch sees the same state', async () => {
    const { queue, members } = await group(2);
    const [m0, m1] = members as [Mailbox, Mailbox];
    const ws0 = await WsClient.open(relay.url);
    const ws1 = await WsClient.open(relay.url);
    try {
      expect((await ws0.request({ t: 'sub', ...m0 })).t).toBe('ok');
      expect((await ws1.request({ t: 'sub', ...m1 })).t).toBe('ok');
      const sent = await ws0.request({ t: 'send', queue, cap: capFor(queue), token: token(), payload: text('live') });
      expect(sent.t).toBe('sent');
      await waitFor(() => ws1.pushed.length === 1 && ws0.pushed.length === 1, 5000, 'push');
      expect(ws1.pushed[0]).toEqual({ t: 'msg', mailboxId: m1.mailboxId, id: sent.id, kind: 'group', payload: text('live') });
      expect((await ws1.request({ t: 'ack', mailboxId: m1.mailboxId, ids: [sent.id] })).removed).toBe(1);
      expect(await c.fetchAll(m1)).toEqual([]);
      expect(await c.fetchAll(m0)).toHaveLength(1);
      // Pending messages are pushed on subscribe (offline catch-up).
      await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text('while away') });
      const ws2 = await WsClient.open(relay.url);
      await ws2.request({ t: 'sub', ...m0 });
      await waitFor(() => ws2.pushed.length === 2, 5000, 'catch-up');
      ws2.close();
      // ACK on a mailbox this connection did not subscribe: uniform not_found.
      const foreign = await ws0.request({ t: 'ack', mailboxId: m1.mailboxId, ids: [sent.id] });
      expect(foreign).toMatchObject({ t: 'error', code: 'not_found' });
    } finally {
      ws0.close();
      ws1.close();
    }
  });

  it('deleting a mailbox drops its pending copies and its registrations; others keep theirs', async () => {
    const { queue, members } = await group(2);
    const sent = await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text('x') });
    await c.ok('/v1/mailboxes/delete', { ...members[0]! });
    expect((await c.post('/v1/mailboxes/fetch', { ...members[0]! })).status).toBe(404);
    expect((await c.fetchAll(members[1]!)).map((m) => m.id)).toEqual([sent.id]);
    await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: token(), payload: text('y') });
    expect(await c.fetchAll(members[1]!)).toHaveLength(2);
  });

  it('refuses a message above the advertised size with a typed error', async () => {
    const { queue } = await group(1);
    const limits = (await c.call('GET', '/v1/limits')).body;
    const t = token();
    const big = await c.post('/v1/queues/send', { queue, cap: capFor(queue), token: t, payload: b64u(new Uint8Array(Number(limits.maxMessageBytes) + 1)) });
    expect(big.status).toBe(400);
    expect(code(big.body)).toBe('bad_request');
    // The largest allowed message fits one WebSocket frame.
    const ws = await WsClient.open(relay.url);
    const ok = await ws.request({ t: 'send', queue, cap: capFor(queue), token: t, payload: b64u(new Uint8Array(Number(limits.maxMessageBytes))) });
    expect(ok.t).toBe('sent');
    ws.close();
  });
});

describe('relay WebSocket limits', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay({ args: ['--max-connections', '3', '--max-messages-per-second', '10'] });
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('closes with 1009 on a frame above 16 KiB', async () => {
    const ws = await WsClient.open(relay.url);
    ws.sendRaw(JSON.stringify({ t: 'ping', pad: 'x'.repeat(17 * 1024) }));
    expect(await ws.closed).toBe(1009);
  });

  it('answers a typed rate_limited error above the budget, then closes with 1008 when it persists', async () => {
    const ws = await WsClient.open(relay.url);
    for (let i = 0; i < 25; i++) ws.sendRaw(JSON.stringify({ t: 'ping' }));
    expect(await ws.closed).toBe(1008);
    expect(ws.errors.some((e) => e.code === 'rate_limited')).toBe(true);
  });

  it('a client within budget after a burst keeps its connection', async () => {
    const ws = await WsClient.open(relay.url);
    for (let i = 0; i < 12; i++) ws.sendRaw(JSON.stringify({ t: 'ping' }));
    await waitFor(() => ws.errors.length >= 2, 3000, 'rate_limited errors');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await ws.request({ t: 'ping' })).t).toBe('pong');
    ws.close();
    await ws.closed;
  });

  it('refuses connections above max connections with a typed capacity error', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const open = [await WsClient.open(relay.url), await WsClient.open(relay.url), await WsClient.open(relay.url)];
    await expect(WsClient.open(relay.url)).rejects.toThrow(/503/);
    for (const w of open) w.close();
    await Promise.all(open.map((w) => w.closed));
    await new Promise((r) => setTimeout(r, 200));
    const again = await WsClient.open(relay.url);
    again.close();
  });

  it('keeps serving after malformed frames, with typed errors', async () => {
    const ws = await WsClient.open(relay.url);
    for (const f of ['not json', '[]', '{"t":"nope"}', '{"t":"send"}', '{"t":"sub","mailboxId":1}']) {
      ws.sendRaw(f);
    }
    await waitFor(() => ws.errors.length === 5, 3000, 'errors');
    expect(ws.errors.map((e) => e.code)).toEqual(['bad_request', 'bad_request', 'bad_request', 'bad_request', 'bad_request']);
    expect((await ws.request({ t: 'ping' })).t).toBe('pong');
    ws.close();
  });
});
