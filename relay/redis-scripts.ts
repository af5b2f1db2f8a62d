/**
 * What every Redis-backed store of the relay shares (the message store,
 * blobs, backups): the client set up for the relay, Lua scripts run by SHA,
 * outages answered as a typed 503, and the AOF kept free of deleted data.
 *
 * Each store owns one RedisScripts over its own scripts. A script is called
 * by SHA and loaded on NOSCRIPT (after Redis restarted); a Redis that cannot
 * serve right now (LOADING, READONLY, OOM, ...) or does not answer within
 * COMMAND_TIMEOUT_MS is `capacity` ("try again"), never a crash. After a
 * store deleted something it calls `deleted()`; `scrub()` then has Redis
 * rewrite its append-only file at most once per interval, so what was
 * deleted does not stay readable in the file.
 */

import { Buffer } from 'node:buffer';
import { sha1 } from '@noble/hashes/legacy.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ErrorReply, RESP_TYPES, createClient } from 'redis';
import { ErrorCode, RelayError } from './errors.ts';

/** How long one command may go unanswered before the store reports the outage. */
export const COMMAND_TIMEOUT_MS = 5_000;
/** Commands queued while the connection is busy; past it a call fails at once rather than piling up. */
const MAX_QUEUED_COMMANDS = 10_000;

/** Replies that mean "Redis cannot serve right now", not a bug of ours. */
export const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|MISCONF|OOM|NOREPLICAS)\b/;

export type Arg = string | Buffer;

/** A Redis client set up for the relay: binary replies, no offline queue, bounded commands. */
export function createRelayRedisClient(url: string, log: (line: string) => void) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
    socket: { connectTimeout: 5_000 },
    commandOptions: { timeout: COMMAND_TIMEOUT_MS, typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } },
  });
  // Without a listener an 'error' event would end the process; log the kind only, once per outage.
  let down = false;
  client.on('error', (err: unknown) => {
    if (down) return;
    down = true;
    log(`redis unreachable (${err instanceof Error ? err.name : typeof err}); reconnecting`);
  });
  client.on('ready', () => {
    if (down) log('redis reachable again');
    down = false;
  });
  return client;
}

export type RelayRedisClient = ReturnType<typeof createRelayRedisClient>;

export function unavailable(cause: unknown): RelayError {
  return new RelayError(ErrorCode.capacity, 'storage unavailable, try again', { cause });
}

/** Settles like `p`, or rejects once Redis has not answered within COMMAND_TIMEOUT_MS. */
export async function bounded<T>(p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

// Reply decoding: with BLOB_STRING mapped to Buffer, data comes as Buffer, counts as number, nil as null.
export const bytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? new Uint8Array(v) : new Uint8Array(0));
export const text = (v: unknown): string => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v));
export const int = (v: unknown): number => (typeof v === 'number' ? v : Number(text(v)));
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Connects, failing on a Redis that does not answer (the client is destroyed then). */
export async function connectRelayRedis(url: string, log: (line: string) => void): Promise<RelayRedisClient> {
  const client = createRelayRedisClient(url, log);
  try {
    await bounded(client.connect());
  } catch (err) {
    client.destroy();
    throw err;
  }
  return client;
}

export class RedisScripts<N extends string> {
  private readonly shas = new Map<N, string>();
  /** Something was deleted since the last AOF rewrite was started. */
  private dirty = false;
  private lastRewrite = 0;

  constructor(
    readonly client: RelayRedisClient,
    private readonly scripts: Readonly<Record<N, string>>,
    /** Key prefix, e.g. `mc:`; every script gets it as ARGV[1]. */
    readonly prefix: string,
    private readonly rewriteIntervalMs: number,
    private readonly log: (line: string) => void,
  ) {
    for (const name of Object.keys(scripts) as N[]) this.shas.set(name, bytesToHex(sha1(new TextEncoder().encode(scripts[name]))));
  }

  /** Runs a script on `key` (a full key) by SHA, loading it on NOSCRIPT; maps outages to 503. */
  async run(name: N, key: string, args: Arg[]): Promise<unknown> {
    const options = { keys: [key], arguments: [this.prefix, ...args] };
    try {
      try {
        return await bounded(this.client.evalSha(this.shas.get(name) ?? '', options));
      } catch (err) {
        if (!(err instanceof ErrorReply && err.message.startsWith('NOSCRIPT'))) throw err;
        return await bounded(this.client.eval(this.scripts[name], options));
      }
    } catch (err) {
      if (err instanceof ErrorReply && !TRANSIENT_REPLY.test(err.message)) throw err;
      throw unavailable(err);
    }
  }

  /** The store deleted something: the next scrub rewrites the AOF without it. */
  deleted(): void {
    this.dirty = true;
  }

  /** After deletions, at most once per interval, have the AOF rewritten without them. */
  async scrub(): Promise<void> {
    if (!this.dirty || Date.now() - this.lastRewrite < this.rewriteIntervalMs) return;
    let info: string;
    try {
      info = text(await bounded(this.client.sendCommand(['INFO', 'persistence'])));
    } catch {
      return; // unreachable now; try again next time (still dirty)
    }
    this.dirty = false;
    if (!/^aof_enabled:1\s*$/m.test(info)) return;
    if (/^aof_rewrite_in_progress:1\s*$/m.test(info)) {
      // A rewrite that began before our deletion may still contain it: ask again later.
      this.dirty = true;
      return;
    }
    try {
      await bounded(this.client.sendCommand(['BGREWRITEAOF']));
      this.lastRewrite = Date.now();
    } catch (err) {
      this.dirty = true;
      this.log(`aof rewrite not started (${err instanceof Error ? err.name : typeof err})`);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }
}
