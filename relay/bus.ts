/**
 * The wake-up bus: how a relay instance that stored a message tells every
 * other instance with a live subscriber for one of its mailboxes to push it now.
 *
 *   instance A                              Redis                                  instance B
 *   store.postToQueue(...) commits ───────────────────────────────────────────▶ (message durable)
 *   bus.publish([m1..mk], msg) ──▶ script: who watches m1..mk? (wm:<mi> sets)
 *                                  PUBLISH <prefix>wake-instance:<B> "m2,m5\n{msg}" ──▶ B pushes to m2, m5
 *   (A pushes to its own sockets directly, without a round trip)
 *
 * Each instance registers in Redis which mailboxes it has sockets for (a set
 * per mailbox of instance tags, refreshed and expiring), so a message costs
 * one publication per interested instance, not one per recipient mailbox,
 * and an instance with no socket for any recipient hears nothing of it.
 *
 * A wake-up is only a hint: it is sent after the store committed the
 * message, so losing one (Redis restarting, a subscriber connection dropping,
 * Redis cutting a slow subscriber off) delays a push but loses nothing — the
 * message stays pending until acknowledged, a reconnecting client fetches it,
 * and this instance re-pushes everything pending to its sockets whenever its
 * subscriber connection comes back (`resync`), or when another instance had
 * to drop wake-ups it could not publish (it asks everyone to resync).
 *
 * Back-pressure: wake-ups Redis has not yet taken (in flight or queued while
 * Redis is away) are bounded; above the bound `admit()` refuses new sends
 * with the typed `try_again` before any token is spent, so the bus cannot
 * fall ever further behind the store.
 *
 * Two implementations: `LocalBus` (one relay process, the default; dispatch
 * in process) and `RedisBus` (several relays sharing one Redis, pub/sub).
 */

import type { Buffer } from 'node:buffer';
import { createClient } from 'redis';
import { PushFrame, type WireMessage } from './wire.ts';
import { ErrorCode, RelayError } from './errors.ts';
import type { Metrics } from './metrics.ts';

/** Delivery's side: push `frame` to the local sockets subscribed to these mailboxes. */
export type WakeHandler = (mailboxIds: readonly string[], frame: PushFrame) => void;

export interface WakeBus {
  /** Whether other relay processes may hold subscribers (false: every subscriber is in this process). */
  readonly crossInstance: boolean;
  /**
   * Where wake-ups go (Delivery), and what to do after wake-ups may have been
   * missed (re-push everything pending to local subscribers). Set once, before start().
   */
  connect(handler: WakeHandler, resync: () => Promise<void>, metrics?: Metrics): void;
  start(): Promise<void>;
  /**
   * Throws RelayError `try_again` when the bus is too far behind to take
   * another message now. Called before a send spends its token.
   */
  admit(): void;
  /** Wake-ups not yet taken by the bus (a gauge for /metrics). */
  backlog(): number;
  /**
   * Announce a message the store has already committed. Never throws and is
   * not awaited by the sender: the message is durable whether or not the
   * wake-up arrives.
   */
  publish(mailboxIds: readonly string[], message: WireMessage): void;
  /** Resolves once wake-ups for the mailbox reach this instance (so a fetch after it misses nothing). */
  watch(mailboxId: string): Promise<void>;
  /** This instance no longer has a subscriber for the mailbox. */
  unwatch(mailboxId: string): void;
  close(): Promise<void>;
}

/** One relay process: every subscriber is local, dispatch is a function call. */
export class LocalBus implements WakeBus {
  readonly crossInstance = false;
  private handler: WakeHandler = () => {};

  connect(handler: WakeHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {}

  admit(): void {}

  backlog(): number {
    return 0;
  }

  publish(mailboxIds: readonly string[], message: WireMessage): void {
    this.handler(mailboxIds, new PushFrame(message));
  }

  async watch(): Promise<void> {}

  unwatch(): void {}

  async close(): Promise<void> {}
}

export interface RedisBusOptions {
  url: string;
  /** Key prefix shared with the store (default `mc:`); see the key layout on RedisBus. */
  prefix: string;
  log: (line: string) => void;
  /** Wake-ups not yet taken by Redis above which `admit()` refuses (config busMaxBacklog). */
  maxBacklog?: number;
}

/**
 * Publishes one message to every instance that watches at least one of its
 * recipient mailboxes, once per instance, with the list of that instance's
 * mailboxes in front of the body. The payload is sent to Redis once.
 * KEYS: the recipients' interest sets. ARGV: prefix, own tag, body, then the
 * mailbox ids in KEYS order. An instance whose liveness key has expired (it
 * died without cleaning up) is dropped from the set on the way.
 */
const PUBLISH_INTERESTED = `
local prefix, origin, body = ARGV[1], ARGV[2], ARGV[3]
local targets, order, alive = {}, {}, {}
for i = 1, #KEYS do
  for _, inst in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if inst ~= origin then
      local ok = alive[inst]
      if ok == nil then
        ok = redis.call('EXISTS', prefix .. 'wi:' .. inst) == 1
        alive[inst] = ok
      end
      if ok then
        local t = targets[inst]
        if t == nil then
          t = {}
          targets[inst] = t
          order[#order + 1] = inst
        end
        t[#t + 1] = ARGV[3 + i]
      else
        redis.call('SREM', KEYS[i], inst)
      end
    end
  end
end
for _, inst in ipairs(order) do
  redis.call('PUBLISH', prefix .. 'wake-instance:' .. inst, table.concat(targets[inst], ',') .. '\\n' .. body)
end
return #order
`;

/** Adds this instance to the interest sets in KEYS and renews their expiry. ARGV: tag, ttl ms. */
const REGISTER = `
for i = 1, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return #KEYS
`;

/** Bytes of the random instance tag (hex). */
const TAG_HEX = 16;
/** An instance's interest and liveness outlive a missed refresh or two, and go soon after it dies. */
const INTEREST_TTL_MS = 120_000;
const INTEREST_REFRESH_MS = 40_000;
/** Interest sets renewed per script call (keeps one call short inside Redis). */
const REGISTER_BATCH = 500;
/** After the subscriber reconnects: how often, and how far apart, to try re-pushing pending messages. */
const RESYNC_ATTEMPTS = 20;
const RESYNC_RETRY_MS = 500;
/** Wake-ups kept while Redis cannot take them, and how often to retry sending them. */
const BACKLOG_MAX_BYTES = 32 * 1024 * 1024;
const BACKLOG_RETRY_MS = 250;
/** Wake-ups sent at once while draining the backlog (node-redis pipelines them on one connection). */
const FLUSH_BATCH = 64;
/** Most mailboxes one bus message may name (a queue holds at most maxMailboxesPerQueue, 1,000 by default). */
const MAX_TARGETS = 10_000;

type Client = ReturnType<typeof createClient>;

/**
 * Several relays on one Redis. Key layout (all under the store's prefix):
 *
 *   wm:<mailboxId>          set of instance tags with a socket for that mailbox (expires, renewed)
 *   wi:<tag>                an instance's liveness (expires, renewed)
 *   wake-instance:<tag>     pub/sub channel of one instance
 *   wake-resync             pub/sub channel: "resync everything" (after dropped wake-ups)
 *
 * Why per-instance channels with interest sets, rather than one channel per
 * mailbox: a message to a group of 50 spread over 2 instances used to cost 50
 * publications (and 50 copies of the payload in the subscribers' output
 * buffers, where Redis cut slow subscribers off under load); now it costs one
 * per instance that holds a member's socket. Rather than one shared channel:
 * an instance hears only messages for its own sockets.
 *
 * Why the payload travels in the wake-up instead of an id to fetch: messages
 * are 1–11 KiB, and fetching would add a Redis round trip per recipient
 * instance per message (and load the store); with the payload inline a remote
 * push costs one network hop more than a local one. A bus message is
 * `<mailbox ids, comma-separated>\n<JSON {id, kind, payload, at}>`, the
 * payload already in the base64url the push frame carries; `at` (sender's
 * clock, ms) feeds the bus-lag histogram only.
 *
 * What Redis learns from the interest sets: which mailboxes have a live
 * socket on some instance right now (mailbox ids are stored anyway); no
 * account, no address, no time but the renewal expiry.
 */
export class RedisBus implements WakeBus {
  readonly crossInstance = true;
  private readonly tag: string;
  private readonly pub: Client;
  private readonly sub: Client;
  private handler: WakeHandler = () => {};
  private resync: () => Promise<void> = async () => {};
  private metrics: Metrics | undefined;
  /** Mailboxes Delivery wants; the Redis interest follows this set through `ops`. */
  private readonly wanted = new Set<string>();
  private readonly registered = new Set<string>();
  /** Per mailbox, the tail of its register/unregister chain (so they apply in order). */
  private readonly ops = new Map<string, Promise<void>>();
  private publishSha: string | undefined;
  private registerSha: string | undefined;
  /** Wake-ups waiting for Redis (each the KEYS and ARGV of one PUBLISH_INTERESTED), oldest first. */
  private readonly queued: { keys: string[]; args: string[]; bytes: number }[] = [];
  private queuedBytes = 0;
  /** Wake-ups sent to Redis and not yet answered. */
  private inFlight = 0;
  private droppedWakeUps = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private flushing = false;
  private started = false;
  private closing = false;
  private readonly maxBacklog: number;
  private readonly listener = (message: Buffer): void => this.onMessage(message);
  /** Another instance dropped wake-ups (its backlog overflowed): push everything pending again. */
  private readonly resyncListener = (from: string): void => {
    if (from !== this.tag) void this.resyncSoon();
  };

  constructor(private readonly options: RedisBusOptions) {
    const bytes = crypto.getRandomValues(new Uint8Array(TAG_HEX / 2));
    this.tag = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    this.maxBacklog = options.maxBacklog ?? 5_000;
    // While Redis is away commands fail at once rather than queue: a wake-up
    // that cannot go now is kept in our own bounded backlog (see enqueue).
    // Named, so an operator (and the tests) can tell the bus's connections from the store's in CLIENT LIST.
    this.pub = createClient({
      url: options.url,
      name: 'microchat-bus-pub',
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000 },
      commandOptions: { timeout: 5_000 },
    });
    this.sub = this.pub.duplicate({ name: 'microchat-bus-sub' });
    // node-redis emits 'error' on every failed (re)connect; without a listener that would crash the process.
    let pubDown = false;
    this.pub.on('error', () => {
      if (!pubDown && !this.closing) options.log('wake-up bus: publisher connection lost, reconnecting');
      pubDown = true;
    });
    this.pub.on('ready', () => {
      pubDown = false;
      this.flushSoon(0);
    });
    let subDown = false;
    this.sub.on('error', () => {
      if (!subDown && !this.closing) options.log('wake-up bus: subscriber connection lost, reconnecting');
      subDown = true;
    });
    // node-redis re-subscribes our channels before 'ready'; wake-ups sent
    // meanwhile are gone, and Redis may have restarted without our interest
    // sets: register them again, then push what is pending to local sockets.
    this.sub.on('ready', () => {
      if (!subDown) return;
      subDown = false;
      if (this.closing) return;
      void this.resyncSoon();
    });
  }

  /** Renew interest, then re-push pending messages; retried while the store is still reconnecting (or Redis loading its AOF). */
  private async resyncSoon(): Promise<void> {
    for (let attempt = 0; attempt < RESYNC_ATTEMPTS && !this.closing; attempt++) {
      try {
        await this.refresh();
        await this.resync();
        this.metrics?.inc('busResyncs');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, RESYNC_RETRY_MS));
      }
    }
    if (!this.closing) this.options.log('wake-up bus: resync after reconnect failed; clients get pending messages on their next fetch');
  }

  private key(kind: 'wm' | 'wi', id: string): string {
    return `${this.options.prefix}${kind}:${id}`;
  }

  private get channel(): string {
    return `${this.options.prefix}wake-instance:${this.tag}`;
  }

  private get resyncChannel(): string {
    return `${this.options.prefix}wake-resync`;
  }

  connect(handler: WakeHandler, resync: () => Promise<void>, metrics?: Metrics): void {
    this.handler = handler;
    this.resync = resync;
    this.metrics = metrics;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    [this.publishSha, this.registerSha] = await Promise.all([this.pub.scriptLoad(PUBLISH_INTERESTED), this.pub.scriptLoad(REGISTER)]);
    // Our channel is subscribed before any interest is registered, so no wake-up meant for us is published to nobody.
    await this.sub.subscribe(this.channel, this.listener, true);
    await this.sub.subscribe(this.resyncChannel, this.resyncListener);
    await this.pub.set(this.key('wi', this.tag), '1', { PX: INTEREST_TTL_MS });
    this.refreshTimer = setInterval(() => {
      this.refresh().catch(() => {
        // Redis away: the subscriber's reconnect renews everything.
      });
    }, INTEREST_REFRESH_MS);
  }

  /** Renew this instance's liveness and every interest it holds. */
  private async refresh(): Promise<void> {
    await this.pub.set(this.key('wi', this.tag), '1', { PX: INTEREST_TTL_MS });
    const all = [...this.registered];
    for (let i = 0; i < all.length; i += REGISTER_BATCH) {
      await this.runScript('register', all.slice(i, i + REGISTER_BATCH).map((m) => this.key('wm', m)), [this.tag, String(INTEREST_TTL_MS)]);
    }
  }

  admit(): void {
    if (this.backlog() <= this.maxBacklog && this.queuedBytes <= BACKLOG_MAX_BYTES / 2) return;
    this.metrics?.inc('sendsRefusedBusy');
    throw new RelayError(ErrorCode.tryAgain, 'the relay is busy, try again shortly');
  }

  backlog(): number {
    return this.inFlight + this.queued.length;
  }

  publish(mailboxIds: readonly string[], message: WireMessage): void {
    if (mailboxIds.length === 0) return;
    // Local sockets first, without waiting for Redis.
    this.handler(mailboxIds, new PushFrame(message));
    const body = JSON.stringify({ id: message.id, kind: message.kind, payload: message.payload, at: Date.now() });
    const entry = { keys: mailboxIds.map((m) => this.key('wm', m)), args: [this.options.prefix, this.tag, body, ...mailboxIds], bytes: body.length };
    if (this.queued.length > 0) {
      // Keep order behind wake-ups still waiting for Redis.
      this.enqueue(entry);
      return;
    }
    this.send(entry).catch(() => this.enqueue(entry));
  }

  private async send(entry: { keys: string[]; args: string[] }): Promise<void> {
    this.inFlight++;
    try {
      await this.runScript('publish', entry.keys, entry.args);
      this.metrics?.inc('busPublished');
    } finally {
      this.inFlight--;
    }
  }

  /**
   * A wake-up that could not be published is kept and sent once Redis takes
   * it: another instance whose subscription outlived the outage would
   * otherwise never hear of a message stored meanwhile. Bounded: beyond
   * BACKLOG_MAX_BYTES wake-ups are dropped (sends are refused well before,
   * see admit), and once Redis is back every instance is asked to resync, so
   * a dropped wake-up delays a push by one resync, never until a later fetch.
   */
  private enqueue(entry: { keys: string[]; args: string[]; bytes: number }): void {
    if (this.closing) return;
    if (this.queuedBytes + entry.bytes > BACKLOG_MAX_BYTES) {
      if (!this.droppedWakeUps) this.options.log('wake-up bus: backlog full, dropping wake-ups until Redis is back');
      this.droppedWakeUps = true;
      this.flushSoon(BACKLOG_RETRY_MS);
      return;
    }
    this.queued.push(entry);
    this.queuedBytes += entry.bytes;
    this.flushSoon(BACKLOG_RETRY_MS);
  }

  private flushSoon(delayMs: number): void {
    if (this.flushTimer !== undefined || this.flushing || this.closing) return;
    if (this.queued.length === 0 && !this.droppedWakeUps) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, delayMs);
  }

  /** Drains the backlog in pipelined batches (one round trip per batch, not per wake-up). */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queued.length > 0 && !this.closing) {
        const batch = this.queued.slice(0, FLUSH_BATCH);
        const results = await Promise.allSettled(batch.map((e) => this.send(e)));
        // Keep what failed, in order; what Redis took is done.
        const failed = batch.filter((_, i) => results[i]!.status === 'rejected');
        this.queued.splice(0, batch.length, ...failed);
        this.queuedBytes = this.queued.reduce((n, e) => n + e.bytes, 0);
        if (failed.length > 0) throw new Error('Redis still away');
      }
      if (this.droppedWakeUps && !this.closing) {
        await this.pub.publish(this.resyncChannel, this.tag);
        this.droppedWakeUps = false;
      }
    } catch {
      // Redis still away or loading: try again shortly (or when the connection is ready again).
    } finally {
      this.flushing = false;
    }
    this.flushSoon(BACKLOG_RETRY_MS);
  }

  private async runScript(name: 'publish' | 'register', keys: string[], args: string[]): Promise<void> {
    if (this.closing) return;
    const sha = name === 'publish' ? this.publishSha : this.registerSha;
    if (sha !== undefined) {
      try {
        await this.pub.evalSha(sha, { keys, arguments: args });
        return;
      } catch (err) {
        // Redis restarted without its script cache: send the script itself (it is cached again).
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      }
    }
    await this.pub.eval(name === 'publish' ? PUBLISH_INTERESTED : REGISTER, { keys, arguments: args });
  }

  async watch(mailboxId: string): Promise<void> {
    this.wanted.add(mailboxId);
    try {
      await this.sync(mailboxId);
    } catch (cause) {
      // Redis away: the client is told to try again, like any store operation then.
      throw new RelayError(ErrorCode.capacity, 'wake-ups unavailable, try again', { cause });
    }
  }

  unwatch(mailboxId: string): void {
    this.wanted.delete(mailboxId);
    this.sync(mailboxId).catch(() => {
      // The interest stays until it expires; wake-ups for it are ignored meanwhile.
    });
  }

  /** Bring this instance's interest in one mailbox in line with `wanted`, after any earlier change. */
  private sync(mailboxId: string): Promise<void> {
    const prev = this.ops.get(mailboxId) ?? Promise.resolve();
    const next = prev
      .catch(() => {})
      .then(async () => {
        const want = this.wanted.has(mailboxId);
        if (want && !this.registered.has(mailboxId)) {
          await this.runScript('register', [this.key('wm', mailboxId)], [this.tag, String(INTEREST_TTL_MS)]);
          this.registered.add(mailboxId);
        } else if (!want && this.registered.has(mailboxId)) {
          this.registered.delete(mailboxId);
          try {
            await this.pub.sRem(this.key('wm', mailboxId), this.tag);
          } catch (err) {
            // Still registered (Redis away): the next watch/unwatch of this mailbox tries again.
            this.registered.add(mailboxId);
            throw err;
          }
        }
      });
    this.ops.set(mailboxId, next);
    void next.finally(() => {
      if (this.ops.get(mailboxId) === next) this.ops.delete(mailboxId);
    }).catch(() => {});
    return next;
  }

  /** A wake-up from Redis. It comes from our own relays, but is parsed strictly all the same. */
  private onMessage(message: Buffer): void {
    const nl = message.indexOf(0x0a);
    if (nl <= 0) return this.malformed();
    const targets = message.subarray(0, nl).toString('latin1').split(',');
    if (targets.length > MAX_TARGETS || !targets.every((m) => ID.test(m))) return this.malformed();
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.subarray(nl + 1).toString('utf8'));
    } catch {
      return this.malformed();
    }
    const wire = toWireMessage(parsed);
    if (wire === null) return this.malformed();
    const at = (parsed as { at?: unknown }).at;
    if (typeof at === 'number') this.metrics?.busLag.observe(Math.max(0, Date.now() - at) / 1000);
    this.metrics?.inc('busReceived');
    const mine = targets.filter((m) => this.wanted.has(m));
    if (mine.length > 0) this.handler(mine, new PushFrame(wire));
  }

  private malformed(): void {
    this.options.log('wake-up bus: dropped a malformed message');
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    if (!this.started) return;
    // Best effort: others stop publishing to us at once (else when our liveness expires).
    await this.pub.del(this.key('wi', this.tag)).catch(() => {});
    await Promise.allSettled([this.sub.close(), this.pub.close()]);
  }
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const B64U = /^[A-Za-z0-9_-]*$/;

/** The keys a wake-up carries (publish above); any other is refused, as at the relay's own edges. */
const BUS_KEYS: ReadonlySet<string> = new Set(['id', 'kind', 'payload', 'at']);

function toWireMessage(v: unknown): WireMessage | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  if (Object.keys(v).some((k) => !BUS_KEYS.has(k))) return null;
  const { id, kind, payload } = v as Record<string, unknown>;
  if (typeof id !== 'string' || !ID.test(id)) return null;
  if (kind !== 'group' && kind !== 'welcome') return null;
  if (typeof payload !== 'string' || !B64U.test(payload)) return null;
  return { id, kind, payload };
}

/** The bus a relay needs for its store: Redis pub/sub when relays share a Redis, else in-process. */
export function openWakeBus(
  config: { store: string; redisUrl: string; redisPrefix: string; busMaxBacklog?: number },
  log: (line: string) => void,
): WakeBus {
  return config.store === 'redis'
    ? new RedisBus({ url: config.redisUrl, prefix: config.redisPrefix, log, ...(config.busMaxBacklog === undefined ? {} : { maxBacklog: config.busMaxBacklog }) })
    : new LocalBus();
}
