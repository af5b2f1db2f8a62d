/**
 * Backups in the shared Redis store, under the relay's key prefix, one Lua
 * script per atomic operation (as redis-store.ts), on a client of their own.
 *
 * Keys (P = the prefix):
 *   P bk:<backupId>    hash h(ash of the access secret) a(ccount that last wrote it)
 *   P bkd:<backupId>   hash item → ciphertext
 *   P bks:<backupId>   hash item → its size (the quota reads sizes, not ciphertext)
 *   P abk:<account>    set of the backup ids the account wrote
 *
 * The account scripts of redis-store.ts do not know these keys: the relay
 * calls dropAccount before it deletes an account. Deletion reaches the AOF
 * through scrub() (BGREWRITEAOF after deletions, at most once per interval),
 * as for messages and blobs.
 */

import { RedisScripts, connectRelayRedis, buf, int, list, text, type Arg } from '../redis-scripts.ts';
import type { BackupCaps, BackupResult, BackupStore, StoredItem } from './store.ts';


/** Lua shared by the scripts: P is ARGV[1]; opens(id, hash) is whether the backup exists under that secret. */
const LIB = `
local P = ARGV[1]
local function opens(id, h)
  local v = redis.call('HGET', P .. 'bk:' .. id, 'h')
  return v and v == h
end
local function drop(id)
  local a = redis.call('HGET', P .. 'bk:' .. id, 'a')
  if a then redis.call('SREM', P .. 'abk:' .. a, id) end
  redis.call('DEL', P .. 'bk:' .. id, P .. 'bkd:' .. id, P .. 'bks:' .. id)
end
`;

const S = {
  // KEYS[1] = P bk:<id>. ARGV: P id secretHash account item data maxBytes maxItems. Answers {0, bytes}, {1} not_found, {2} quota.
  put: `
local P, id, sh, a, item = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local v = redis.call('HMGET', KEYS[1], 'h', 'a')
if v[1] and v[1] ~= sh then return {1} end
local count, used = 0, 0
local function add(b)
  local sizes = redis.call('HGETALL', P .. 'bks:' .. b)
  for i = 1, #sizes, 2 do
    if not (b == id and sizes[i] == item) then
      count = count + 1
      used = used + tonumber(sizes[i + 1])
    end
  end
end
local counted = false
for _, b in ipairs(redis.call('SMEMBERS', P .. 'abk:' .. a)) do
  add(b)
  if b == id then counted = true end
end
if not counted then add(id) end
local size = #ARGV[6]
if count + 1 > tonumber(ARGV[8]) or used + size > tonumber(ARGV[7]) then return {2} end
if v[2] and v[2] ~= a then redis.call('SREM', P .. 'abk:' .. v[2], id) end
redis.call('HSET', KEYS[1], 'h', sh, 'a', a)
redis.call('SADD', P .. 'abk:' .. a, id)
redis.call('HSET', P .. 'bkd:' .. id, item, ARGV[6])
redis.call('HSET', P .. 'bks:' .. id, item, size)
return {0, used + size}`,
  // KEYS[1] = P bk:<id>. ARGV: P id secretHash
  list: `${LIB}
if not opens(ARGV[2], ARGV[3]) then return false end
return redis.call('HGETALL', P .. 'bks:' .. ARGV[2])`,
  // KEYS[1] = P bk:<id>. ARGV: P id secretHash item
  get: `${LIB}
if not opens(ARGV[2], ARGV[3]) then return false end
return redis.call('HGET', P .. 'bkd:' .. ARGV[2], ARGV[4])`,
  // KEYS[1] = P bk:<id>. ARGV: P id secretHash item
  dropItem: `${LIB}
if not opens(ARGV[2], ARGV[3]) then return 0 end
redis.call('HDEL', P .. 'bks:' .. ARGV[2], ARGV[4])
return redis.call('HDEL', P .. 'bkd:' .. ARGV[2], ARGV[4])`,
  // KEYS[1] = P bk:<id>. ARGV: P id secretHash
  deleteBackup: `${LIB}
if not opens(ARGV[2], ARGV[3]) then return 0 end
drop(ARGV[2])
return 1`,
  // KEYS[1] = P abk:<account>. ARGV: P
  dropAccount: `${LIB}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do drop(id) end
redis.call('DEL', KEYS[1])
return 0`,
} as const;

type ScriptName = keyof typeof S;


export class RedisBackupStore implements BackupStore {
  private constructor(private readonly redis: RedisScripts<ScriptName>) {}

  static async open(options: { url: string; prefix: string; aofRewriteIntervalSeconds: number; log: (line: string) => void }): Promise<RedisBackupStore> {
    const client = await connectRelayRedis(options.url, options.log);
    return new RedisBackupStore(new RedisScripts(client, S, options.prefix, options.aofRewriteIntervalSeconds * 1000, options.log));
  }

  /** Runs a script on this store's key `key` (the prefix is added here). */
  private run(name: ScriptName, key: string, args: Arg[]): Promise<unknown> {
    return this.redis.run(name, this.redis.prefix + key, args);
  }

  async putItem(accountId: string, backupId: string, secretHash: string, item: string, data: Uint8Array, caps: BackupCaps): Promise<BackupResult<{ bytes: number }>> {
    const r = list(
      await this.run('put', `bk:${backupId}`, [
        backupId,
        secretHash,
        accountId,
        item,
        buf(data),
        String(caps.maxBytesPerAccount),
        String(caps.maxItemsPerAccount),
      ]),
    );
    const status = int(r[0]);
    if (status === 0) {
      // A replaced item's old value is still in the AOF until it is rewritten.
      this.redis.deleted();
      return { ok: true, value: { bytes: int(r[1]) } };
    }
    return { ok: false, reason: status === 2 ? 'quota' : 'not_found' };
  }

  async listItems(backupId: string, secretHash: string): Promise<StoredItem[] | null> {
    const r = await this.run('list', `bk:${backupId}`, [backupId, secretHash]);
    if (!Array.isArray(r)) return null;
    const out: StoredItem[] = [];
    for (let i = 0; i + 1 < r.length; i += 2) out.push({ item: text(r[i]), size: int(r[i + 1]) });
    return out.sort((a, b) => (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
  }

  async getItem(backupId: string, secretHash: string, item: string): Promise<Uint8Array | null> {
    const r = await this.run('get', `bk:${backupId}`, [backupId, secretHash, item]);
    return r instanceof Uint8Array ? new Uint8Array(r) : null;
  }

  async dropItem(backupId: string, secretHash: string, item: string): Promise<boolean> {
    const dropped = int(await this.run('dropItem', `bk:${backupId}`, [backupId, secretHash, item])) === 1;
    if (dropped) this.redis.deleted();
    return dropped;
  }

  async deleteBackup(backupId: string, secretHash: string): Promise<boolean> {
    const deleted = int(await this.run('deleteBackup', `bk:${backupId}`, [backupId, secretHash])) === 1;
    if (deleted) this.redis.deleted();
    return deleted;
  }

  async dropAccount(accountId: string): Promise<void> {
    await this.run('dropAccount', `abk:${accountId}`, []);
    this.redis.deleted();
  }

  /** As RedisStore.scrub: after deletions, at most once per interval, have the AOF rewritten without them. */
  async scrub(): Promise<void> {
    await this.redis.scrub();
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}
