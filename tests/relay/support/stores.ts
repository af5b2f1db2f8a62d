/**
 * Runs a relay test on either store: the embedded SQLite store (files in the
 * relay's data dir) or the Redis store on its own private redis-server (AOF
 * on, files in the server's dir). Tests written against `StoreRelay` check the
 * same promises on both: `rawFiles()` is every byte the store has on disk,
 * `dump()` everything it keeps as tables (relay/dump.ts), and on Redis
 * `inMemory()` searches every live value.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, RESP_TYPES } from 'redis';
import { startRedis, type RedisProcess } from '../../support/redis-process.ts';
import { redisHolds } from './redis-scan.ts';
import { dumpRelayDatabase, startRelay, type RelayProcess, type StartRelayOptions } from '../../support/relay-process.ts';

export type StoreKind = 'sqlite' | 'redis';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'redis'];

export interface StoreRelay extends RelayProcess {
  readonly kind: StoreKind;
  /** The Redis server behind a Redis-store relay (stopped with it). */
  readonly redis: RedisProcess | undefined;
  /** The directory holding the store's files (relay data dir, or Redis's dir with its AOF). */
  readonly storeDir: string;
  /** Paths of every file the store has on disk (recursively). */
  files(): string[];
  /** All of those files' bytes, concatenated. */
  rawFiles(): Buffer;
  dump(): Promise<Record<string, Record<string, unknown>[]>>;
  /** Redis: whether any live value under the relay's prefix contains these bytes. SQLite: not supported. */
  inMemory(bytes: Uint8Array): Promise<boolean>;
}

export interface StartOnOptions extends StartRelayOptions {
  /** Flags added only on the Redis store (e.g. `--redis-aof-rewrite-interval-seconds 0`). */
  redisArgs?: string[];
}

/**
 * Every byte of the files `list` names, read as one set: a file that goes
 * between listing and reading (Redis's AOF rewrite swaps its files) means the
 * set changed, so it is listed and read again rather than read in part.
 */
function readAll(list: () => string[]): Buffer {
  for (let attempt = 1; ; attempt++) {
    try {
      return Buffer.concat(list().map((f) => readFileSync(f)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
    }
  }
}

let prefixes = 0;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(p).isDirectory();
    } catch (err) {
      // Listed, then gone before we looked (Redis's AOF rewrite removes its temporary files): nothing to search.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (isDirectory) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

export async function startRelayOn(kind: StoreKind, opts: StartOnOptions = {}): Promise<StoreRelay> {
  const { redisArgs, ...relayOpts } = opts;
  let redis: RedisProcess | undefined;
  let relay: RelayProcess;
  const prefix = `t${process.pid}-${++prefixes}:`;
  if (kind === 'redis') {
    redis = await startRedis({ appendOnly: true });
    try {
      relay = await startRelay({
        ...relayOpts,
        store: { redisUrl: redis.url, prefix },
        args: [...(relayOpts.args ?? []), ...(redisArgs ?? [])],
      });
    } catch (err) {
      await redis.stop();
      throw err;
    }
  } else {
    relay = await startRelay(relayOpts);
  }
  const storeDir = redis?.dir ?? relay.dataDir;
  const files = (): string[] => listFiles(storeDir);
  return {
    kind,
    redis,
    storeDir,
    get url() {
      return relay.url;
    },
    port: relay.port,
    dataDir: relay.dataDir,
    get process() {
      return relay.process;
    },
    stderr: () => relay.stderr(),
    async stop() {
      await relay.stop();
      await redis?.stop();
    },
    kill9: () => relay.kill9(),
    restart: () => relay.restart(),
    halt: () => relay.halt(),
    files,
    rawFiles: () => readAll(files),
    dump: () => dumpRelayDatabase(relay.dataDir, redis === undefined ? undefined : { redisUrl: redis.url, prefix }),
    async inMemory(bytes: Uint8Array): Promise<boolean> {
      if (redis === undefined) throw new Error('inMemory() is for the Redis store');
      const client = createClient({ url: redis.url, commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } });
      await client.connect();
      try {
        return await redisHolds((args) => client.sendCommand(args), prefix, bytes);
      } finally {
        await client.close();
      }
    },
  };
}
