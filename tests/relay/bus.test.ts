/**
 * The wake-up bus (relay/bus.ts) on its own: LocalBus dispatches in process
 * (also inside a real relay on the embedded store);
 * RedisBus instances on one private redis-server wake each other through
 * interest sets (one publication per interested instance, none for an
 * instance without listeners), skip their own messages, stop after unwatch,
 * drop malformed bus messages, and resync after their subscriber connection
 * comes back.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { LocalBus, RedisBus } from '../../relay/bus.ts';
import type { PushFrame, WireMessage } from '../../relay/wire.ts';
import { startRedis, type RedisProcess } from '../support/redis-process.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, WsClient, capFor, randomQueue, waitFor } from './support/client.ts';

interface Got {
  mailboxId: string;
  frame: Record<string, unknown>;
}

/** A bus connected to a recorder, as Delivery would connect it. */
function record(bus: LocalBus | RedisBus): { got: Got[]; resyncs: () => number } {
  const got: Got[] = [];
  let resyncs = 0;
  bus.connect(
    (mailboxIds: readonly string[], frame: PushFrame) => {
      for (const mailboxId of mailboxIds) got.push({ mailboxId, frame: JSON.parse(frame.for(mailboxId)) as Record<string, unknown> });
    },
    async () => {
      resyncs++;
    },
  );
  return { got, resyncs: () => resyncs };
}

let n = 0;
const msg = (payload = 'AAEC'): WireMessage => ({ id: `msg${++n}`, kind: 'group', payload });
const mb = (): string => `mailbox${++n}`;

describe('LocalBus', () => {
  it('dispatches a published message to the handler for every mailbox, sharing one frame', async () => {
    const bus = new LocalBus();
    const { got } = record(bus);
    await bus.start();
    const m = msg();
    bus.publish(['a', 'b'], m);
    expect(got.map((g) => g.mailboxId)).toEqual(['a', 'b']);
    expect(got[1]!.frame).toEqual({ t: 'msg', mailboxId: 'b', id: m.id, kind: 'group', payload: m.payload });
    await bus.close();
  });
});

describe('LocalBus in a relay on the embedded store (the default)', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay({ args: ['--max-messages-per-second', '10000'] });
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it('pushes a message to a subscribed socket at once; an offline member gets it when it subscribes', async () => {
    const c = new RelayClient(relay.url);
    const acct = await c.register();
    const tokens = await c.tokens(acct.session, 4);
    const queue = randomQueue();
    const online = await c.mailbox(tokens.pop()!);
    const offline = await c.mailbox(tokens.pop()!);
    for (const m of [online, offline]) await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
    const ws = await WsClient.open(relay.url);
    try {
      expect((await ws.request({ t: 'sub', ...online })).t).toBe('ok');
      const sent = await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: tokens.pop(), payload: 'AQID' });
      await waitFor(() => ws.pushed.some((p) => p.id === sent.id), 3_000, 'live push');
      expect((await ws.request({ t: 'sub', ...offline })).t).toBe('ok');
      await waitFor(() => ws.pushed.some((p) => p.id === sent.id && p.mailboxId === offline.mailboxId), 3_000, 'pending push on subscribe');
      expect(ws.pushed.filter((p) => p.id === sent.id)).toHaveLength(2);
    } finally {
      ws.close();
    }
  });
});

describe('RedisBus on one redis-server', () => {
  let redis: RedisProcess;
  const buses: RedisBus[] = [];
  const log: string[] = [];

  async function bus(prefix = 'bus-test:'): Promise<{ bus: RedisBus; got: Got[]; resyncs: () => number }> {
    const b = new RedisBus({ url: redis.url, prefix, log: (l) => log.push(l) });
    const r = record(b);
    await b.start();
    buses.push(b);
    return { bus: b, ...r };
  }

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    for (const b of buses) await b.close();
    await redis?.stop();
  });

  it('a message published on A reaches B for the mailbox B watches, once; A pushes its own locally, not twice', async () => {
    const a = await bus();
    const b = await bus();
    const watched = mb();
    const other = mb();
    await b.bus.watch(watched);
    await a.bus.watch(watched);
    const m = msg('x'.repeat(1500));
    a.bus.publish([watched, other], m);
    await waitFor(() => b.got.length >= 1, 5_000, 'wake-up on B');
    await new Promise((r) => setTimeout(r, 200));
    expect(b.got).toEqual([{ mailboxId: watched, frame: { t: 'msg', mailboxId: watched, id: m.id, kind: 'group', payload: m.payload } }]);
    // A handled both mailboxes locally at publish time (Delivery filters by its sockets) and ignored its own echo.
    expect(a.got.map((g) => g.mailboxId)).toEqual([watched, other]);
  });

  it('after unwatch no wake-up arrives; watching again resumes', async () => {
    const a = await bus();
    const b = await bus();
    const box = mb();
    await b.bus.watch(box);
    b.bus.unwatch(box);
    // watch/unwatch/watch in quick succession must end subscribed.
    b.bus.unwatch(box);
    a.bus.publish([box], msg());
    await new Promise((r) => setTimeout(r, 300));
    expect(b.got).toEqual([]);
    const again = b.bus.watch(box);
    b.bus.unwatch(box);
    await b.bus.watch(box);
    await again;
    const m = msg();
    a.bus.publish([box], m);
    await waitFor(() => b.got.length === 1, 5_000, 'wake-up after re-watch');
    expect(b.got[0]!.frame.id).toBe(m.id);
  });

  it('instances with another prefix do not hear each other', async () => {
    const a = await bus('tenant-a:');
    const b = await bus('tenant-b:');
    const box = mb();
    await b.bus.watch(box);
    a.bus.publish([box], msg());
    await new Promise((r) => setTimeout(r, 300));
    expect(b.got).toEqual([]);
  });

  it('drops malformed bus messages (no target list, bad ids, bad JSON, bad kind, bad payload, an unknown key) and keeps working', async () => {
    const b = await bus('malformed:');
    const box = mb();
    await b.bus.watch(box);
    const raw = createClient({ url: redis.url });
    raw.on('error', () => {});
    await raw.connect();
    const [channel] = await raw.pubSubChannels('malformed:wake-instance:*');
    expect(channel).toBeDefined();
    const good = (id: string): string => JSON.stringify({ id, kind: 'welcome', payload: 'AAAA' });
    for (const body of [
      'short',
      `${box}\n{not json`,
      `${box}\n` + JSON.stringify({ id: 'ok', kind: 'evil', payload: 'AA' }),
      `${box}\n` + JSON.stringify({ id: 'a"b', kind: 'group', payload: 'AA' }),
      `${box}\n` + JSON.stringify({ id: 'ok', kind: 'group', payload: '"}],"t":"x' }),
      `${box}\n` + JSON.stringify([1, 2]),
      // A key no relay publishes.
      `${box}\n` + JSON.stringify({ id: 'extra', kind: 'group', payload: 'AA', at: 1, admin: true }),
      `${box},"x\n` + good('badtarget'),
      `\n` + good('notarget'),
      // Well-formed, for a mailbox this instance does not watch: ignored.
      `${mb()}\n` + good('notmine'),
    ]) {
      await raw.publish(channel!, body);
    }
    await raw.publish(channel!, `${box}\n` + good('good'));
    await waitFor(() => b.got.length === 1, 5_000, 'the well-formed message');
    expect(b.got[0]!.frame).toEqual({ t: 'msg', mailboxId: box, id: 'good', kind: 'welcome', payload: 'AAAA' });
    await raw.close();
  });

  it('publishes once per interested instance, naming its mailboxes; an instance without listeners hears nothing', async () => {
    const prefix = 'interest:';
    const a = await bus(prefix);
    const b = await bus(prefix);
    const c = await bus(prefix);
    const [m1, m2, m3, elsewhere] = [mb(), mb(), mb(), mb()];
    await b.bus.watch(m1);
    await b.bus.watch(m2);
    await c.bus.watch(elsewhere);
    // Every publication on any instance channel, as Redis routes it.
    const spy = createClient({ url: redis.url });
    spy.on('error', () => {});
    await spy.connect();
    const seen: { channel: string; body: string }[] = [];
    await spy.pSubscribe(`${prefix}wake-instance:*`, (body, channel) => seen.push({ channel, body }));
    // Each instance listens on its own channel.
    expect(await spy.pubSubChannels(`${prefix}wake-instance:*`)).toHaveLength(3);
    const m = msg('y'.repeat(1000));
    a.bus.publish([m1, m2, m3], m);
    await waitFor(() => b.got.length === 2, 5_000, 'both wake-ups on B');
    await new Promise((r) => setTimeout(r, 300));
    // One publication for the whole message, to B only, naming both of B's mailboxes.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body.split('\n')[0]!.split(',').sort()).toEqual([m1, m2].sort());
    expect(b.got.map((g) => g.mailboxId).sort()).toEqual([m1, m2].sort());
    expect(c.got).toEqual([]);
    // After B unwatches, nothing is published for it any more.
    b.bus.unwatch(m1);
    b.bus.unwatch(m2);
    await new Promise((r) => setTimeout(r, 200));
    a.bus.publish([m1, m2], msg());
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toHaveLength(1);
    await spy.close();
  });

  it("publishes nothing to an instance that is gone, and drops it from the interest sets on the way", async () => {
    const prefix = 'gone:';
    const a = await bus(prefix);
    const b = await bus(prefix);
    const box = mb();
    await b.bus.watch(box);
    const raw = createClient({ url: redis.url });
    raw.on('error', () => {});
    await raw.connect();
    expect(await raw.sMembers(`${prefix}wm:${box}`)).toHaveLength(1);
    // B ends (its liveness key goes with it, as it would expire after a kill -9); its interest is still listed.
    await b.bus.close();
    expect(await raw.sMembers(`${prefix}wm:${box}`)).toHaveLength(1);
    const spy = createClient({ url: redis.url });
    spy.on('error', () => {});
    await spy.connect();
    const seen: string[] = [];
    await spy.pSubscribe(`${prefix}wake-instance:*`, (_body, channel) => seen.push(channel));
    a.bus.publish([box], msg());
    // The publication runs in the background: poll Redis until the script has run.
    for (let i = 0; i < 100 && (await raw.sMembers(`${prefix}wm:${box}`)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await raw.sMembers(`${prefix}wm:${box}`)).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]);
    await spy.close();
    await raw.close();
  });

  it("a wake-up published while the publisher's connection is down is sent once it is back", async () => {
    const a = await bus();
    const b = await bus();
    const box = mb();
    await b.bus.watch(box);
    const admin = createClient({ url: redis.url });
    admin.on('error', () => {});
    await admin.connect();
    for (let round = 0; round < 5; round++) {
      // Drops every plain connection (A's publisher among them), not pub/sub ones (B's subscriber), not this one.
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      const m = msg();
      a.bus.publish([box], m);
      await waitFor(() => b.got.some((g) => g.frame.id === m.id), 10_000, `wake-up ${round} after the publisher reconnected`);
    }
    expect(b.resyncs()).toBe(0);
    await admin.close();
  });

  it('after Redis restarts, subscriptions come back and resync runs (wake-ups meanwhile were lost)', async () => {
    const a = await bus();
    const b = await bus();
    const box = mb();
    await b.bus.watch(box);
    const before = b.resyncs();
    await redis.kill9();
    // A publish while Redis is down must not throw (the message is already durable in the store).
    a.bus.publish([box], msg());
    // Watching a new mailbox now fails with the typed 'try again' error, not a hang.
    await expect(b.bus.watch(mb())).rejects.toMatchObject({ code: 'capacity' });
    await redis.restart();
    await waitFor(() => b.resyncs() > before, 20_000, 'resync after reconnect');
    const m = msg();
    await waitFor(
      () => {
        a.bus.publish([box], m);
        return b.got.some((g) => g.frame.id === m.id);
      },
      20_000,
      'a wake-up through the restarted Redis',
    );
  });
});
