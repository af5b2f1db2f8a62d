/**
 * Blobs in the shared Redis store, under the relay's key prefix, one Lua
 * script per atomic operation (as redis-store.ts), on a client of their own.
 *
 * Keys (P = the prefix):
 *   P blob:<id>         hash q(ueue hash) w(rite key hash) s(ize) n (chunks) r(eceived) e(xpiry)
 *   P blobc:<id>:<i>    chunk i (ciphertext), EXAT the blob's expiry
 *   P blobto:<id>       set of mailboxes that still have to read it
 *   P qb:<queueHash>    set of the queue's blob ids
 *   P blobexp           zset blob id → expiry (the sweep deletes what passed)
 *   P blobuse           bytes of every blob together (for the relay-wide cap)
 *
 * The message scripts do not know these keys, so what SQLite's triggers do
 * is done here when a blob is read: a fetch checks that the mailbox is still
 * registered to the queue (an unregistered or deleted mailbox, or a deleted
 * queue, reads nothing), a release drops recipients that left the queue and
 * deletes the blob when none is left, and Delivery's queue deletion calls
 * dropQueue. Deletion reaches the AOF through scrub() (BGREWRITEAOF after
 * deletions, at most once per interval), as for messages.
 */

import { BLOB_CHUNK_BYTES } from '../../lib/protocol/relay-blobs.ts';
import { RedisScripts, connectRelayRedis, buf, int, list, type Arg } from '../redis-scripts.ts';
import type { Spend } from '../store.ts';
import type { BlobCaps, BlobRefusal, BlobResult, BlobStore, FetchedChunk, NewBlob } from './store.ts';

const SWEEP_BATCH = 200;

// Script results that are not data (index into REFUSALS; 0 is success).
const REFUSALS: readonly BlobRefusal[] = ['not_found', 'spent', 'stale', 'quota', 'full', 'invalid', 'conflict'];
const code = (r: BlobRefusal): number => REFUSALS.indexOf(r) + 1;

/** Lua shared by the scripts: P is ARGV[1]. */
const LIB = `
local P = ARGV[1]
-- The blob, its chunks, recipients, index entries and its share of the total.
local function drop(id)
  local bk = P .. 'blob:' .. id
  local v = redis.call('HMGET', bk, 'q', 's', 'n')
  if not v[1] then return 0 end
  for i = 0, tonumber(v[3]) - 1 do redis.call('DEL', P .. 'blobc:' .. id .. ':' .. i) end
  redis.call('DEL', bk, P .. 'blobto:' .. id)
  redis.call('SREM', P .. 'qb:' .. v[1], id)
  redis.call('ZREM', P .. 'blobexp', id)
  redis.call('DECRBY', P .. 'blobuse', v[2])
  return 1
end
`;

const S = {
  // KEYS[1] = P q:<queueHash>. ARGV: P qh cap keyId inputHash id writeKeyHash size chunks expiry maxQueueBytes maxQueueBlobs maxTotal
  create: `${LIB}
local qh = ARGV[2]
local c = redis.call('HMGET', P .. 'qc:' .. qh, 'c', 'p')
if not c[1] then return ${code('not_found')} end
if c[1] ~= ARGV[3] then
  if c[2] and c[2] == ARGV[3] then return ${code('stale')} end
  return ${code('not_found')}
end
local regs = redis.call('SMEMBERS', KEYS[1])
if #regs == 0 then return ${code('not_found')} end
local size = tonumber(ARGV[8])
local qb = P .. 'qb:' .. qh
local count, used = 0, 0
for _, id in ipairs(redis.call('SMEMBERS', qb)) do
  local s = redis.call('HGET', P .. 'blob:' .. id, 's')
  if s then
    count = count + 1
    used = used + tonumber(s)
  else
    redis.call('SREM', qb, id)
  end
end
if count + 1 > tonumber(ARGV[12]) or used + size > tonumber(ARGV[11]) then return ${code('quota')} end
if tonumber(redis.call('GET', P .. 'blobuse') or '0') + size > tonumber(ARGV[13]) then return ${code('full')} end
if redis.call('HEXISTS', P .. 'tkeys', ARGV[4]) == 0 or redis.call('SADD', P .. 'spent:' .. ARGV[4], ARGV[5]) == 0 then
  return ${code('spent')}
end
local id = ARGV[6]
redis.call('HSET', P .. 'blob:' .. id, 'q', qh, 'w', ARGV[7], 's', ARGV[8], 'n', ARGV[9], 'r', 0, 'e', ARGV[10])
local to = P .. 'blobto:' .. id
for i = 1, #regs, 1000 do redis.call('SADD', to, unpack(regs, i, math.min(i + 999, #regs))) end
redis.call('SADD', qb, id)
redis.call('ZADD', P .. 'blobexp', ARGV[10], id)
redis.call('INCRBY', P .. 'blobuse', ARGV[8])
return 0`,
  // KEYS[1] = P blob:<id>. ARGV: P id writeKeyHash index keyId inputHash data completeExpiry now
  put: `
local P, id = ARGV[1], ARGV[2]
local v = redis.call('HMGET', KEYS[1], 'w', 's', 'n', 'r', 'e')
if not v[1] or v[1] ~= ARGV[3] or tonumber(v[5]) <= tonumber(ARGV[9]) then return {${code('not_found')}} end
local idx, size, n = tonumber(ARGV[4]), tonumber(v[2]), tonumber(v[3])
if idx >= n or #ARGV[7] ~= math.min(${BLOB_CHUNK_BYTES}, size - idx * ${BLOB_CHUNK_BYTES}) then return {${code('invalid')}} end
local ck = P .. 'blobc:' .. id .. ':' .. idx
if redis.call('EXISTS', ck) == 1 then return {${code('conflict')}} end
if redis.call('HEXISTS', P .. 'tkeys', ARGV[5]) == 0 or redis.call('SADD', P .. 'spent:' .. ARGV[5], ARGV[6]) == 0 then
  return {${code('spent')}}
end
redis.call('SET', ck, ARGV[7], 'EXAT', v[5])
local r = redis.call('HINCRBY', KEYS[1], 'r', 1)
if r < n then return {0, 0} end
local e = ARGV[8]
redis.call('HSET', KEYS[1], 'e', e)
redis.call('ZADD', P .. 'blobexp', e, id)
for i = 0, n - 1 do redis.call('EXPIREAT', P .. 'blobc:' .. id .. ':' .. i, e) end
return {0, 1}`,
  // KEYS[1] = P blob:<id>. ARGV: P id mailbox index now
  fetch: `
local P, id, mb = ARGV[1], ARGV[2], ARGV[3]
local v = redis.call('HMGET', KEYS[1], 'q', 's', 'n', 'r', 'e')
if not v[1] or v[3] ~= v[4] or tonumber(v[5]) <= tonumber(ARGV[5]) then return false end
if redis.call('SISMEMBER', P .. 'blobto:' .. id, mb) == 0 then return false end
if redis.call('SISMEMBER', P .. 'q:' .. v[1], mb) == 0 then return false end
local d = redis.call('GET', P .. 'blobc:' .. id .. ':' .. ARGV[4])
if not d then return false end
return {v[2], d}`,
  // KEYS[1] = P blobto:<id>. ARGV: P id mailbox
  release: `${LIB}
local id = ARGV[2]
if redis.call('SREM', KEYS[1], ARGV[3]) == 0 then return 0 end
local q = redis.call('HGET', P .. 'blob:' .. id, 'q')
if q then
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if redis.call('SISMEMBER', P .. 'q:' .. q, m) == 0 then redis.call('SREM', KEYS[1], m) end
  end
end
if redis.call('SCARD', KEYS[1]) == 0 then drop(id) end
return 1`,
  // KEYS[1] = P blob:<id>. ARGV: P id writeKeyHash
  deleteByWriter: `${LIB}
local w = redis.call('HGET', KEYS[1], 'w')
if not w or w ~= ARGV[3] then return 0 end
return drop(ARGV[2])`,
  // KEYS[1] = P qb:<queueHash>
  dropQueue: `${LIB}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do drop(id) end
redis.call('DEL', KEYS[1])
return 0`,
  // KEYS[1] = P blobexp. ARGV: P now batch
  sweep: `${LIB}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  drop(id)
  redis.call('ZREM', KEYS[1], id)
end
return #ids`,
} as const;

type ScriptName = keyof typeof S;


function result<T>(r: number, value: T): BlobResult<T> {
  if (r === 0) return { ok: true, value };
  return { ok: false, reason: REFUSALS[r - 1] ?? 'not_found' };
}

export class RedisBlobStore implements BlobStore {
  private constructor(private readonly redis: RedisScripts<ScriptName>) {}

  static async open(options: { url: string; prefix: string; aofRewriteIntervalSeconds: number; log: (line: string) => void }): Promise<RedisBlobStore> {
    const client = await connectRelayRedis(options.url, options.log);
    return new RedisBlobStore(new RedisScripts(client, S, options.prefix, options.aofRewriteIntervalSeconds * 1000, options.log));
  }

  /** Runs a script on this store's key `key` (the prefix is added here). */
  private run(name: ScriptName, key: string, args: Arg[]): Promise<unknown> {
    return this.redis.run(name, this.redis.prefix + key, args);
  }

  async createBlob(spend: Spend, b: NewBlob, caps: BlobCaps): Promise<BlobResult<null>> {
    const r = await this.run('create', `q:${b.queueHash}`, [
      b.queueHash,
      b.capHash,
      spend.keyId,
      spend.inputHash,
      b.blobId,
      b.writeKeyHash,
      String(b.size),
      String(b.chunks),
      String(b.expiresAt),
      String(caps.maxBytesPerQueue),
      String(caps.maxBlobsPerQueue),
      String(caps.maxTotalBytes),
    ]);
    return result(int(r), null);
  }

  async putChunk(
    spend: Spend,
    blobId: string,
    writeKeyHash: string,
    index: number,
    data: Uint8Array,
    completeExpiresAt: number,
    now: number,
  ): Promise<BlobResult<{ complete: boolean }>> {
    const r = list(
      await this.run('put', `blob:${blobId}`, [
        blobId,
        writeKeyHash,
        String(index),
        spend.keyId,
        spend.inputHash,
        buf(data),
        String(completeExpiresAt),
        String(now),
      ]),
    );
    return result(int(r[0]), { complete: int(r[1]) === 1 });
  }

  async fetchChunk(blobId: string, mailboxId: string, index: number, now: number): Promise<FetchedChunk | null> {
    const r = list(await this.run('fetch', `blob:${blobId}`, [blobId, mailboxId, String(index), String(now)]));
    const data = r[1];
    if (r.length < 2 || !(data instanceof Uint8Array)) return null;
    return { size: int(r[0]), data: new Uint8Array(data) };
  }

  async release(blobId: string, mailboxId: string): Promise<boolean> {
    const released = int(await this.run('release', `blobto:${blobId}`, [blobId, mailboxId])) === 1;
    if (released) this.redis.deleted();
    return released;
  }

  async deleteByWriter(blobId: string, writeKeyHash: string): Promise<boolean> {
    const deleted = int(await this.run('deleteByWriter', `blob:${blobId}`, [blobId, writeKeyHash])) === 1;
    if (deleted) this.redis.deleted();
    return deleted;
  }

  async dropQueue(queueHash: string): Promise<void> {
    await this.run('dropQueue', `qb:${queueHash}`, []);
    this.redis.deleted();
  }

  async sweep(now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const n = int(await this.run('sweep', 'blobexp', [String(now), String(SWEEP_BATCH)]));
      total += n;
      if (n < SWEEP_BATCH) break;
    }
    if (total > 0) this.redis.deleted();
    return total;
  }

  /** As RedisStore.scrub: after deletions, at most once per interval, have the AOF rewritten without them. */
  async scrub(): Promise<void> {
    await this.redis.scrub();
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}
