/**
 * Scale-out: two real relay processes (A and B) on one private redis-server,
 * as behind a load balancer.
 *   (a) a member on A receives in real time what a member on B sent, and back;
 *   (b) a token spent at A and B at once succeeds exactly once; key-package
 *       claims through A and B hand out each one-time package exactly once;
 *       token keys are the same on both instances, also while both rotate
 *       them (a token issued by one always pays at the other);
 *   (c) kill -9 one instance mid-traffic: its clients reconnect to the other,
 *       and every acknowledged message reaches every recipient (after
 *       dropping duplicates by id);
 *   (d) kill -9 Redis (AOF on, appendfsync always) mid-traffic and restart it:
 *       everything acknowledged is delivered, the relays recover by themselves.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { createClient } from 'redis';
import { webcrypto } from 'node:crypto';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startRedis, type RedisProcess } from '../support/redis-process.ts';
import { RelayClient, WsClient, capFor, randomQueue, waitFor, type Account, type Mailbox, type Pushed, type WireToken } from './support/client.ts';
import { b64u, fromB64u } from './support/soft-authenticator.ts';

const LIMITS = [
  '--max-messages-per-second', '100000',
  '--token-daily-quota', '1000000',
  '--token-issue-requests-per-minute', '100000',
  '--key-package-claims-per-minute', '100000',
];

let prefixes = 0;
async function cluster(redis: RedisProcess, extra: string[] = []): Promise<[RelayProcess, RelayProcess]> {
  const store = { redisUrl: redis.url, prefix: `scale-${process.pid}-${++prefixes}:` };
  // Started together, as a deployment would: both rotate token keys at once.
  const [a, b] = await Promise.all([
    startRelay({ store, args: [...LIMITS, ...extra] }),
    startRelay({ store, args: [...LIMITS, ...extra] }),
  ]);
  return [a, b];
}

const code = (body: Record<string, unknown>): unknown => (body.error as { code?: unknown } | undefined)?.code;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}

/**
 * Subscribes a mailbox over a WebSocket; resolves when the relay answered ok.
 * `onPush` is set before subscribing: the pending messages follow the ok at
 * once, possibly in the same read, before an await after it would resume.
 */
async function subscribe(url: string, mb: Mailbox, onPush?: (p: Pushed) => void): Promise<WsClient> {
  const ws = await WsClient.open(url);
  ws.onPush = onPush;
  const ok = await withTimeout(ws.request({ t: 'sub', ...mb }), 10_000);
  if (ok === 'timeout' || ok.t !== 'ok') throw new Error(`sub failed: ${JSON.stringify(ok)}`);
  return ws;
}

/** Group setup: mailboxes registered to one queue, through either instance. */
async function group(clients: RelayClient[], tokens: WireToken[], size: number): Promise<{ queue: string; members: Mailbox[] }> {
  const queue = randomQueue();
  const members: Mailbox[] = [];
  for (let i = 0; i < size; i++) {
    const c = clients[i % clients.length]!;
    const m = await c.mailbox(tokens.pop()!);
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
    members.push(m);
  }
  return { queue, members };
}

/**
 * A member's device as the app behaves: one WebSocket to some relay instance,
 * subscribed to its mailbox; when the socket drops it reconnects to another
 * instance (the load balancer's job) and subscribes again; it acknowledges
 * what it got and keeps messages by id (duplicates dropped).
 */
class Device {
  readonly got = new Map<string, string>();
  pushes = 0;
  reconnects = 0;
  private ws: WsClient | undefined;
  private stopped = false;
  private acks: string[] = [];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly urls: () => string[],
    private at: number,
    readonly mailbox: Mailbox,
  ) {
    this.timer = setInterval(() => this.flushAcks(), 50);
  }

  async connect(): Promise<void> {
    for (;;) {
      const urls = this.urls();
      const url = urls[this.at % urls.length]!;
      try {
        const ws = await subscribe(url, this.mailbox, (p) => {
          this.pushes++;
          const seen = this.got.get(p.id);
          if (seen !== undefined && seen !== p.payload) throw new Error(`message ${p.id} changed between deliveries`);
          this.got.set(p.id, p.payload);
          this.acks.push(p.id);
        });
        this.ws = ws;
        void ws.closed.then(() => {
          if (this.stopped) return;
          this.reconnects++;
          this.at++;
          void this.connect();
        });
        return;
      } catch {
        if (this.stopped) return;
        this.at++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private flushAcks(): void {
    if (this.acks.length === 0 || this.ws === undefined || this.ws.ws.readyState !== 1) return;
    const ids = this.acks.splice(0, 500);
    // An ack that fails (the instance just died) only means a later duplicate, which is dropped by id.
    this.ws.sendRaw(JSON.stringify({ t: 'ack', mailboxId: this.mailbox.mailboxId, ids }));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.ws?.close();
  }
}

/** Sends `count` messages to the queue over HTTP, alternating instances; a failed send is retried (new token) elsewhere. */
async function sendTraffic(
  urls: () => string[],
  queue: string,
  tokens: WireToken[],
  count: number,
  onProgress: (acked: number) => void,
): Promise<{ acked: Map<string, string>; attempted: Set<string>; failures: number }> {
  let failures = 0;
  const acked = new Map<string, string>();
  const attempted = new Set<string>();
  let next = 0;
  let turn = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const payload = b64u(new Uint8Array([...webcrypto.getRandomValues(new Uint8Array(16)), i & 0xff, i >> 8]));
      attempted.add(payload);
      for (;;) {
        const list = urls();
        const url = list[turn++ % list.length]!;
        let answer: Response | undefined;
        try {
          answer = await fetch(`${url}/v1/queues/send`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ queue, cap: capFor(queue), token: tokens.pop(), payload }),
            signal: AbortSignal.timeout(20_000),
          });
        } catch {
          answer = undefined; // no answer: not acknowledged (it may still have been stored)
        }
        if (answer?.status === 200) {
          const body = (await answer.json()) as { id: string };
          acked.set(body.id, payload);
          onProgress(acked.size);
          break;
        }
        if (answer !== undefined) await answer.arrayBuffer();
        failures++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { acked, attempted, failures };
}

/**
 * Waits until every device has every acknowledged message; on timeout, says
 * per device how many are missing and how many of those the store still holds
 * (pending = stored but never pushed; absent = lost).
 */
async function awaitDelivery(devices: Device[], acked: Map<string, string>, client: RelayClient): Promise<void> {
  const complete = (): boolean => devices.every((d) => [...acked.keys()].every((id) => d.got.has(id)));
  try {
    await waitFor(complete, 30_000, 'every device has every message');
  } catch (err) {
    const report: string[] = [];
    for (const d of devices) {
      const missing = [...acked.keys()].filter((id) => !d.got.has(id));
      if (missing.length === 0) continue;
      const pending = new Set((await client.fetchAll(d.mailbox)).map((m) => m.id));
      const stillStored = missing.filter((id) => pending.has(id)).length;
      report.push(`${d.mailbox.mailboxId}: ${missing.length} missing, ${stillStored} of them pending in the store, reconnects ${d.reconnects}`);
    }
    throw new Error(`${String(err)}\n${report.join('\n')}`);
  }
}

/** Every acknowledged message reached every device, with the payload that was sent; nothing foreign arrived. */
function expectAllDelivered(devices: Device[], acked: Map<string, string>, attempted: Set<string>): void {
  for (const d of devices) {
    const missing = [...acked.keys()].filter((id) => !d.got.has(id));
    expect(missing, `device ${d.mailbox.mailboxId} misses acknowledged messages`).toEqual([]);
    for (const [id, payload] of acked) expect(d.got.get(id)).toBe(payload);
    // Anything else it got was a send whose answer was lost (stored, not acknowledged).
    for (const [id, payload] of d.got) if (!acked.has(id)) expect(attempted.has(payload), `unexpected message ${id}`).toBe(true);
  }
}

describe('two relays on one Redis', () => {
  let redis: RedisProcess;
  let a: RelayProcess;
  let b: RelayProcess;
  let ca: RelayClient;
  let cb: RelayClient;
  let alice: Account;
  let tokens: WireToken[];

  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await cluster(redis);
    ca = new RelayClient(a.url);
    cb = new RelayClient(b.url);
    alice = await ca.register();
    tokens = await ca.tokens(alice.session, 400);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('publishes the same token keys on both instances; a token issued by B pays at A', async () => {
    const ka = (await ca.call('GET', '/v1/tokens/keys')).body.keys as { keyId: string }[];
    const kb = (await cb.call('GET', '/v1/tokens/keys')).body.keys as { keyId: string }[];
    expect(ka.map((k) => k.keyId)).toEqual(kb.map((k) => k.keyId));
    expect(ka).toHaveLength(1);
    // B's session store is the same Redis: Alice's session (made on A) works on B.
    const fromB = await cb.tokens(alice.session, 2);
    await ca.mailbox(fromB[0]!);
    expect(code((await ca.post('/v1/mailboxes', { token: fromB[0] })).body)).toBe('token_spent');
    expect(code((await cb.post('/v1/mailboxes', { token: fromB[0] })).body)).toBe('token_spent');
  });

  it('(a) a member on A receives in real time what a member on B sent, and the other way round', async () => {
    const g = await group([ca, cb], tokens, 2);
    const onA = await subscribe(a.url, g.members[0]!);
    const onB = await subscribe(b.url, g.members[1]!);
    try {
      for (const [from, to, sender] of [
        [cb, onA, 'B'],
        [ca, onB, 'A'],
      ] as const) {
        const payload = b64u(new TextEncoder().encode(`hello from ${sender}`));
        const t0 = Date.now();
        const sent = await from.ok('/v1/queues/send', { queue: g.queue, cap: capFor(g.queue), token: tokens.pop(), payload });
        // Real time: the socket only ever receives pushes (this client never fetches), so arriving at all is the
        // proof; the time is printed, not judged (it took 5.9 s at load 17 in a clean-clone CI).
        await waitFor(() => to.pushed.some((p) => p.id === sent.id), 20_000, `push from ${sender}`);
        console.log(`push across instances from ${sender}: ${Date.now() - t0} ms`);
        expect(to.pushed.find((p) => p.id === sent.id)?.payload).toBe(payload);
      }
      // Both members got both messages (the sender's own copy too, locally or across).
      await waitFor(() => onA.pushed.length === 2 && onB.pushed.length === 2, 20_000, 'both copies');
      // A Welcome sent through B to a mailbox watched on A.
      const welcome = await cb.ok('/v1/mailboxes/welcome', { mailboxId: g.members[0]!.mailboxId, token: tokens.pop(), payload: 'AQID' });
      await waitFor(() => onA.pushed.some((p) => p.id === welcome.id && p.kind === 'welcome'), 20_000, 'welcome across instances');
    } finally {
      onA.close();
      onB.close();
    }
  });

  it('(b) the same token spent at A and B at once pays exactly once (mailboxes and sends, many in parallel)', async () => {
    const g = await group([ca, cb], tokens, 1);
    const batch = tokens.splice(0, 120);
    const results = await Promise.all(
      batch.map(async (token, i) => {
        const body =
          i % 2 === 0
            ? { path: '/v1/mailboxes', body: { token } }
            : { path: '/v1/queues/send', body: { queue: g.queue, cap: capFor(g.queue), token, payload: 'AAAA' } };
        const [x, y] = await Promise.all([ca.post(body.path, body.body), cb.post(body.path, body.body)]);
        return [x, y];
      }),
    );
    for (const [x, y] of results) {
      expect([x!.status, y!.status].filter((s) => s === 200)).toHaveLength(1);
      const loser = x!.status === 200 ? y! : x!;
      expect(code(loser.body)).toBe('token_spent');
    }
    // Exactly the successful sends are stored: one message per token.
    const stored = await ca.fetchAll(g.members[0]!);
    expect(stored).toHaveLength(60);
  });

  it('(b) key-package claims through A and B hand out each one-time package exactly once, then the last resort', async () => {
    const bob = await cb.register();
    const kp = (i: number): string => b64u(new TextEncoder().encode(`key package ${i}`));
    const oneTime = Array.from({ length: 40 }, (_, i) => kp(i));
    await cb.ok('/v1/key-packages', { keyPackages: oneTime, lastResort: kp(999) }, bob.session);
    const claimers = await Promise.all([ca.register(), cb.register()]);
    const claims = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const c = i % 2 === 0 ? ca : cb;
        return c.post('/v1/key-packages/claim', { accountId: bob.accountId }, claimers[i % 2]!.session);
      }),
    );
    expect(claims.every((r) => r.status === 200)).toBe(true);
    const got = claims.map((r) => String(r.body.keyPackage));
    const oneTimeGot = got.filter((k) => k !== kp(999));
    // Every one-time package exactly once, then the last resort for everyone else.
    expect(oneTimeGot.sort()).toEqual([...oneTime].sort());
    expect(got.filter((k) => k === kp(999))).toHaveLength(60);
    expect((await ca.call('GET', '/v1/key-packages', undefined, bob.session)).body).toEqual({ oneTime: 0, lastResort: true });
  });
});

describe('token key rotation on two instances at once', () => {
  let redis: RedisProcess;
  let a: RelayProcess;
  let b: RelayProcess;

  beforeAll(async () => {
    redis = await startRedis();
    // A key issues for 2 s and is accepted 4 s more: several rotations within the test.
    [a, b] = await cluster(redis, ['--token-key-lifetime-seconds', '2', '--token-key-overlap-seconds', '4']);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  /** One token issued by `c` (the DLEQ proof is checked by tokens.test.ts; here only the key matters). */
  async function issueOne(c: RelayClient, session: string): Promise<WireToken> {
    const input = webcrypto.getRandomValues(new Uint8Array(32));
    const blind = ristretto255_oprf.voprf.blind(input);
    const res = await c.ok('/v1/tokens/issue', { blinded: [b64u(blind.blinded)] }, session);
    const evaluated = fromB64u((res.evaluated as string[])[0]!);
    return { keyId: String(res.keyId), input: b64u(input), output: b64u(ristretto255_oprf.oprf.finalize(input, blind.blind, evaluated)) };
  }

  it('every token either instance issues is published by both and pays at the other; never two issuing keys', async () => {
    const ca = new RelayClient(a.url);
    const cb = new RelayClient(b.url);
    const acct = await ca.register();
    const keyIds = new Set<string>();
    const deadline = Date.now() + 7_000;
    let spent = 0;
    while (Date.now() < deadline) {
      for (const [issuer, other] of [
        [ca, cb],
        [cb, ca],
      ] as const) {
        const token = await issueOne(issuer, acct.session);
        keyIds.add(token.keyId);
        for (const c of [ca, cb]) {
          const keys = (await c.call('GET', '/v1/tokens/keys')).body.keys as { keyId: string; issuing: boolean }[];
          expect(keys.map((k) => k.keyId), `${c.url} publishes the key a token was just issued under`).toContain(token.keyId);
          expect(keys.filter((k) => k.issuing).length).toBeLessThanOrEqual(1);
        }
        const paid = await other.post('/v1/mailboxes', { token });
        expect(paid.status, JSON.stringify(paid.body)).toBe(200);
        spent++;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Keys did rotate during the test, one at a time (7 s at 2 s per key: 3 to 5 keys, not twice as many).
    expect(keyIds.size).toBeGreaterThanOrEqual(3);
    expect(keyIds.size).toBeLessThanOrEqual(5);
    expect(spent).toBeGreaterThan(20);
  });
});

describe('kill -9 one relay instance mid-traffic', () => {
  let redis: RedisProcess;
  let a: RelayProcess;
  let b: RelayProcess;

  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await cluster(redis);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('(c) clients of the dead instance reconnect to the other; every acknowledged message reaches every member once', async () => {
    const MESSAGES = 400;
    const MEMBERS = 6;
    const ca = new RelayClient(a.url);
    const cb = new RelayClient(b.url);
    const acct = await ca.register();
    const tokens = await ca.tokens(acct.session, MESSAGES * 2 + MEMBERS + 10);
    const g = await group([ca, cb], tokens, MEMBERS);
    let aAlive = true;
    const urls = (): string[] => (aAlive ? [a.url, b.url] : [b.url]);
    // Half the members on A, half on B.
    const devices = g.members.map((m, i) => new Device(urls, i, m));
    await Promise.all(devices.map((d) => d.connect()));

    const traffic = sendTraffic(urls, g.queue, tokens, MESSAGES, (n) => {
      if (n >= MESSAGES / 3 && aAlive) {
        aAlive = false;
        a.kill9();
      }
    });
    const { acked, attempted } = await traffic;
    expect(acked.size).toBe(MESSAGES);
    await awaitDelivery(devices, acked, cb);
    for (const d of devices) d.stop();
    expectAllDelivered(devices, acked, attempted);
    // The members that were on A did reconnect (to B).
    expect(devices.filter((d) => d.reconnects > 0).length).toBeGreaterThanOrEqual(MEMBERS / 2);
  });
});

describe('kill -9 Redis (AOF on) mid-traffic', () => {
  let redis: RedisProcess;
  let a: RelayProcess;
  let b: RelayProcess;

  /**
   * appendfsync always: with everysec Redis writes the AOF before replying,
   * but when a background fsync runs long it postpones that write for up to
   * 2 s while still replying, so a kill -9 then can lose writes the relay
   * already acknowledged. `always` writes and fsyncs before every reply.
   */
  async function fsyncAlways(): Promise<void> {
    const c = createClient({ url: redis.url });
    c.on('error', () => {});
    await c.connect();
    await c.configSet('appendfsync', 'always');
    await c.close();
  }

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: true });
    await fsyncAlways();
    [a, b] = await cluster(redis);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('(d) everything acknowledged before and after the Redis restart is delivered; the relays recover without restarting', async () => {
    const MESSAGES = 300;
    const MEMBERS = 4;
    const ca = new RelayClient(a.url);
    const cb = new RelayClient(b.url);
    const acct = await ca.register();
    const tokens = await ca.tokens(acct.session, MESSAGES * 3 + MEMBERS + 10);
    const g = await group([ca, cb], tokens, MEMBERS);
    const urls = (): string[] => [a.url, b.url];
    const devices = g.members.map((m, i) => new Device(urls, i, m));
    await Promise.all(devices.map((d) => d.connect()));

    let restarted: Promise<void> | undefined;
    let ackedBeforeKill = 0;
    const { acked, attempted, failures } = await sendTraffic(urls, g.queue, tokens, MESSAGES, (n) => {
      if (n >= MESSAGES / 3 && restarted === undefined) {
        ackedBeforeKill = n;
        restarted = (async () => {
          await redis.kill9();
          await new Promise((r) => setTimeout(r, 500));
          await redis.restart();
          await fsyncAlways();
        })();
      }
    });
    await restarted;
    expect(acked.size).toBe(MESSAGES);
    // The kill really was mid-traffic: sends failed while Redis was away, and most were acknowledged after it came back.
    expect(failures).toBeGreaterThan(0);
    expect(ackedBeforeKill).toBeLessThan(MESSAGES / 2);
    await awaitDelivery(devices, acked, cb);
    expectAllDelivered(devices, acked, attempted);
    // The relay processes are the same ones: neither was restarted.
    expect(a.process.exitCode).toBeNull();
    expect(b.process.exitCode).toBeNull();
    // Real time still works across instances after the restart (the bus re-subscribed).
    const payload = b64u(new TextEncoder().encode('after the restart'));
    const sent = await cb.ok('/v1/queues/send', { queue: g.queue, cap: capFor(g.queue), token: tokens.pop(), payload });
    await waitFor(() => devices.every((d) => d.got.has(String(sent.id))), 5_000, 'push after the Redis restart');
    for (const d of devices) d.stop();
  });
});
