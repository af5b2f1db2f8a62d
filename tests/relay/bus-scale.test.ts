/**
 * The wake-up bus between two real relay processes (A and B) on one private
 * redis-server (relay/bus.ts):
 *   - deliveries across instances arrive exactly once per socket;
 *   - an instance without listeners for a queue receives no publication for it
 *     (one publication per message per interested instance);
 *   - back-pressure: while the bus cannot reach Redis, sends beyond
 *     --bus-max-backlog are refused with the typed 503 `try_again`, spend no
 *     token, and succeed when retried once the bus drains;
 *   - the "stalled rounds" of #23: wake-ups lost while a subscriber connection
 *     was down, for a mailbox with more than one fetch page pending, all
 *     arrive by the resync, without the client fetching.
 *
 * Connections of the bus are cut with CLIENT KILL (by their names) and kept
 * from coming back by lowering Redis's maxclients meanwhile.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { createServer } from 'node:net';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startRedis, type RedisProcess } from '../support/redis-process.ts';
import { RelayClient, WsClient, capFor, randomQueue, waitFor, type Mailbox, type WireToken } from './support/client.ts';

const FETCH_PAGE = 5;
const MAX_BACKLOG = 3;
const ARGS = [
  '--max-messages-per-second', '100000',
  '--token-daily-quota', '1000000',
  '--token-issue-requests-per-minute', '100000',
  '--fetch-batch-max', String(FETCH_PAGE),
  '--bus-max-backlog', String(MAX_BACKLOG),
];

type Admin = ReturnType<typeof createClient>;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One unlabelled sample from an instance's /metrics. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

/** Cuts the bus connections of every relay (`microchat-bus-pub` or `-sub`) and keeps them from reconnecting until the returned function runs. */
async function cutBus(admin: Admin, name: 'microchat-bus-pub' | 'microchat-bus-sub'): Promise<() => Promise<void>> {
  const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
  const ids = list
    .split('\n')
    .filter((l) => new RegExp(`\\bname=${name}\\b`).test(l))
    .map((l) => /\bid=(\d+)/.exec(l)![1]!);
  expect(ids.length).toBe(2);
  const connected = list.split('\n').filter((l) => l.startsWith('id=')).length;
  // No new connection from now on (the ones alive stay), then cut the bus's.
  await admin.sendCommand(['CONFIG', 'SET', 'maxclients', String(connected - ids.length)]);
  for (const id of ids) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
  return async () => {
    await admin.sendCommand(['CONFIG', 'SET', 'maxclients', '10000']);
  };
}

describe('the wake-up bus between two relays on one Redis', () => {
  let redis: RedisProcess;
  let a: RelayProcess;
  let b: RelayProcess;
  let admin: Admin;
  let ca: RelayClient;
  let cb: RelayClient;
  let tokens: WireToken[];
  let metricsA: number;
  let metricsB: number;
  const prefix = `busscale-${process.pid}:`;
  const sockets: WsClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const store = { redisUrl: redis.url, prefix };
    metricsA = await freePort();
    metricsB = await freePort();
    [a, b] = await Promise.all([
      startRelay({ store, args: [...ARGS, '--metrics-port', String(metricsA)] }),
      startRelay({ store, args: [...ARGS, '--metrics-port', String(metricsB)] }),
    ]);
    admin = createClient({ url: redis.url });
    admin.on('error', () => {});
    await admin.connect();
    ca = new RelayClient(a.url);
    cb = new RelayClient(b.url);
    const acct = await ca.register();
    tokens = await ca.tokens(acct.session, 200);
  });

  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await admin?.sendCommand(['CONFIG', 'SET', 'maxclients', '10000']).catch(() => {});
    await admin?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  async function group(size: number): Promise<{ queue: string; members: Mailbox[] }> {
    const queue = randomQueue();
    const members: Mailbox[] = [];
    for (let i = 0; i < size; i++) {
      const m = await ca.mailbox(tokens.pop()!);
      await ca.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
      members.push(m);
    }
    return { queue, members };
  }

  async function listen(url: string, m: Mailbox): Promise<WsClient> {
    const ws = await WsClient.open(url);
    sockets.push(ws);
    expect((await ws.request({ t: 'sub', ...m })).t).toBe('ok');
    return ws;
  }

  const send = (c: RelayClient, queue: string, token: WireToken, payload = 'AQID') =>
    c.post('/v1/queues/send', { queue, cap: capFor(queue), token, payload });

  it('delivers across instances exactly once per socket', async () => {
    const { queue, members } = await group(6);
    const ws = await Promise.all(members.map((m, i) => listen(i % 2 === 0 ? a.url : b.url, m)));
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await send(i % 2 === 0 ? ca : cb, queue, tokens.pop()!);
      expect(r.status).toBe(200);
      ids.push(String(r.body.id));
    }
    await waitFor(() => ws.every((w) => ids.every((id) => w.pushed.some((p) => p.id === id))), 10_000, 'every push');
    await new Promise((r) => setTimeout(r, 300));
    for (const [i, w] of ws.entries()) {
      expect(w.pushed.filter((p) => p.mailboxId === members[i]!.mailboxId).map((p) => p.id).sort()).toEqual([...ids].sort());
    }
    // Each instance heard the other's messages over the bus, and timed them.
    for (const port of [metricsA, metricsB]) {
      expect(await metric(port, 'microchat_relay_bus_received_total')).toBeGreaterThanOrEqual(10);
      expect(await metric(port, 'microchat_relay_bus_lag_seconds_count')).toBeGreaterThanOrEqual(10);
    }
  });

  it('publishes nothing for an instance without listeners, once per message for one with', async () => {
    const { queue, members } = await group(4);
    // Every listener on A.
    const ws = await Promise.all(members.map((m) => listen(a.url, m)));
    const spy = createClient({ url: redis.url });
    spy.on('error', () => {});
    await spy.connect();
    const seen: string[] = [];
    await spy.pSubscribe(`${prefix}wake-instance:*`, (_body, channel) => seen.push(channel));
    try {
      const viaA = await send(ca, queue, tokens.pop()!);
      const viaB = await send(cb, queue, tokens.pop()!);
      expect([viaA.status, viaB.status]).toEqual([200, 200]);
      await waitFor(() => ws.every((w) => w.pushed.filter((p) => p.id === viaA.body.id || p.id === viaB.body.id).length === 2), 10_000, 'pushes');
      await new Promise((r) => setTimeout(r, 300));
      // A's own sockets were pushed directly (no publication); B published once, to A only, for all four mailboxes.
      expect(seen).toHaveLength(1);
    } finally {
      await spy.close();
    }
  });

  it('refuses sends with a typed try_again while the bus is behind, spends no token, and takes them when retried', async () => {
    const { queue, members } = await group(2);
    const onB = await listen(b.url, members[0]!);
    const restore = await cutBus(admin, 'microchat-bus-pub');
    const accepted: string[] = [];
    const refused: WireToken[] = [];
    try {
      for (let i = 0; i < MAX_BACKLOG + 5; i++) {
        const token = tokens.pop()!;
        const r = await send(ca, queue, token);
        if (r.status === 200) accepted.push(String(r.body.id));
        else {
          expect(r.status).toBe(503);
          expect((r.body.error as { code: string }).code).toBe('try_again');
          refused.push(token);
        }
      }
    } finally {
      await restore();
    }
    expect(await metric(metricsA, 'microchat_relay_sends_refused_busy_total')).toBeGreaterThanOrEqual(refused.length);
    // The bound held: a few were taken (stored, wake-ups queued), the rest refused.
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThanOrEqual(MAX_BACKLOG + 1);
    expect(refused.length).toBeGreaterThan(0);
    // Retried a moment later with the refused token itself: that it pays shows the refusal spent nothing
    // (the extension's outbox retries with a fresh token, so the relay cannot link two attempts).
    for (const token of refused) {
      let r = await send(ca, queue, token);
      for (let tries = 0; r.status === 503 && tries < 100; tries++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await send(ca, queue, token);
      }
      expect(r.status).toBe(200);
      accepted.push(String(r.body.id));
    }
    // The queued wake-ups went out when the bus came back: B's socket has every message, once.
    await waitFor(() => accepted.every((id) => onB.pushed.some((p) => p.id === id)), 15_000, 'queued wake-ups delivered');
    await new Promise((r) => setTimeout(r, 300));
    expect(onB.pushed.map((p) => p.id).sort()).toEqual([...accepted].sort());
  });

  it('re-pushes every pending message after lost wake-ups, more than one fetch page, without a fetch', async () => {
    const { queue, members } = await group(1);
    const onB = await listen(b.url, members[0]!);
    const restore = await cutBus(admin, 'microchat-bus-sub');
    const ids: string[] = [];
    try {
      // Stored while B's subscriber is away: these wake-ups are lost.
      for (let i = 0; i < 3 * FETCH_PAGE - 2; i++) {
        const r = await send(ca, queue, tokens.pop()!);
        expect(r.status).toBe(200);
        ids.push(String(r.body.id));
      }
      expect(onB.pushed.filter((p) => ids.includes(p.id))).toEqual([]);
    } finally {
      await restore();
    }
    // B's subscriber reconnects and resyncs: all of them, not only the first page.
    await waitFor(() => ids.every((id) => onB.pushed.some((p) => p.id === id)), 15_000, 'every pending message re-pushed');
  });
});
