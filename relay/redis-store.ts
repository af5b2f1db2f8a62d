/**
 * The shared store: everything the relay keeps, in one Redis, so several
 * relay instances behind a load balancer serve the same accounts, mailboxes
 * and queues. Selected with `--store redis --redis-url redis://… [--redis-prefix mc:]`.
 *
 * Atomicity across instances comes from Redis alone: every operation that is
 * atomic in store.ts is ONE Lua script (Redis runs a script with nothing
 * interleaved), so a token is spent exactly once together with the message it
 * pays for, and a one-time key package is handed out exactly once, whichever
 * instance asks. No in-process state takes part in a decision.
 *
 * Keys (P = the prefix; every key of the store starts with it):
 *   P cer:<id>        ceremony (JSON), EXAT expiry     P cerexp   zset id → expiry
 *   P acct:<account>  "1"                             P cred:<credentialId>  hash a k c t
 *   P sess:<hash>     hash a e, EXAT expiry            P sessexp  zset hash → expiry
 *   P kp:<account>    list of one-time key packages    P kplr:<account>  last-resort one
 *   P acred:<account> set of its credential ids        P asess:<account> set of its session hashes
 *                     (so deleteAccount finds them; a session that expired is pruned at the next putSession)
 *   P quota:<bucket>  counter, EXAT expiry             P tkeys    hash keyId → JSON
 *   P spent:<keyId>   set of spent input hashes (deleted with the key; a spend under a
 *                     key no longer in P tkeys is refused, so an instance whose clock
 *                     still accepts a retired key cannot spend a token twice)
 *   P mb:<mailbox>    secret hash                      P mbq:<mailbox>  set of its queue hashes
 *   P q:<queueHash>   set of registered mailboxes      P qm:<queueHash> set of its message ids
 *   P qc:<queueHash>  hash c(apability hash) p(revious one, answered 'stale')
 *   P msg:<id>        hash p(ayload) q(ueue hash, "" for a Welcome) e(xpiry) s(eq), EXAT expiry
 *   P to:<id>         set of mailboxes that still have to acknowledge it
 *   P inbox:<mailbox> zset message id by seq (oldest first, per-queue order kept)
 *   P seq             message sequence counter        P exp  zset "id|queueHash" → expiry
 *   P mbexp           zset mailbox → idle expiry (pushed forward when it is read; the sweep drops it after)
 *   P sz              hash message id → "<bytes> <scope>" (scope q:<queueHash>, or m:<mailbox> for a Welcome)
 *   P use             hash n(messages) b(ytes) of everything pending   P use:<scope>  the same per scope
 *
 * Expiry: keys that expire whole (ceremonies, sessions, quota buckets,
 * invites, messages) carry a Redis expiry, so they are gone at their time
 * even if no sweep runs. What lives inside shared structures (inbox entries,
 * queue message sets, recipient sets, the expiry indexes) is cleaned by
 * sweep(), which counts like SQLite's: messages, sessions and ceremonies
 * whose expiry passed.
 *
 * Deletion: a deleted key's value leaves Redis memory at once, but the
 * append-only file still holds the command that wrote it until the AOF is
 * rewritten. scrub() therefore asks for BGREWRITEAOF when something was
 * deleted since the last rewrite, at most once per
 * `redisAofRewriteIntervalSeconds`. (RDB snapshots, if the operator enables
 * them, hold only what was live when taken; the next snapshot drops it. Freed
 * memory is not zeroed by Redis's allocator, as with any process heap.)
 *
 * Outages: commands never wait for a reconnect (offline queue disabled), and
 * an operation Redis does not answer within COMMAND_TIMEOUT_MS (a hung or
 * partitioned server: node-redis's own command timeout stops at the write)
 * fails, so while Redis is unreachable, hung or loading every operation fails
 * with a 503 `capacity` RelayError; node-redis reconnects in the background
 * and the relay carries on afterwards. A write that timed out may still have
 * been applied when Redis comes back (as with any lost answer): a client that
 * retries a send with the same token gets `token_spent`, and the message is
 * delivered once anyway.
 *
 * Redis Cluster: every script touches many keys, so all keys must hash to one
 * slot; a prefix with a hash tag (`{mc}:`) does that (one shard holds the store).
 */

import { Buffer } from 'node:buffer';
import { ErrorReply } from 'redis';
import { RedisScripts, TRANSIENT_REPLY, bounded, bytes, createRelayRedisClient, int, list, text, type Arg } from './redis-scripts.ts';
import type {
  Ceremony,
  KeyPackageCounts,
  NewMessage,
  RelayStore,
  Spend,
  SpendResult,
  StoredCredential,
  StoredInvite,
  StoredMessage,
  StorageCaps,
  SweepResult,
  TokenKey,
} from './store.ts';

/** Expired entries cleaned per sweep script, so one script never blocks Redis for long. */
const SWEEP_BATCH = 500;
/** Recipient sets outlive their message by this much, so a sweep that runs late still finds the inboxes to clean. */
const RECIPIENTS_GRACE_SECONDS = 86_400;

// Script results that are not data.
const OK = 0;
const NOT_FOUND = 1;
const FULL = 2;
const SPENT = 3;
const STALE = 4;

/**
 * Lua: the presented capability hash ARGV[capArg] against queue qh's:
 * ${OK}, ${STALE} (the previous one), ${NOT_FOUND}, or -1 when there is no such queue.
 */
const CAP = `
local function capcheck(qh, c)
  local v = redis.call('HMGET', ARGV[1] .. 'qc:' .. qh, 'c', 'p')
  if not v[1] then return -1 end
  if v[1] == c then return ${OK} end
  if v[2] and v[2] == c then return ${STALE} end
  return ${NOT_FOUND}
end
-- A refusal's code: the previous capability is 'stale', anything else (no queue included) 'not_found'.
local function refused(cc) if cc == ${STALE} then return ${STALE} end return ${NOT_FOUND} end
`;

/** Lua helpers shared by the scripts that drop deliveries. */
const LIB = `
local P = ARGV[1]
-- Stops counting a message (once, whichever path drops it first).
local function unuse(id)
  local v = redis.call('HGET', P .. 'sz', id)
  if not v then return end
  redis.call('HDEL', P .. 'sz', id)
  local sp = string.find(v, ' ', 1, true)
  local bytes, uk = tonumber(string.sub(v, 1, sp - 1)), P .. 'use:' .. string.sub(v, sp + 1)
  redis.call('HINCRBY', P .. 'use', 'n', -1)
  redis.call('HINCRBY', P .. 'use', 'b', -bytes)
  if redis.call('HINCRBY', uk, 'n', -1) <= 0 then redis.call('DEL', uk) else redis.call('HINCRBY', uk, 'b', -bytes) end
end
-- The message is gone with its last delivery: payload, recipients, queue and expiry entries.
local function drop(id)
  local mk = P .. 'msg:' .. id
  local q = redis.call('HGET', mk, 'q')
  unuse(id)
  redis.call('DEL', mk, P .. 'to:' .. id)
  if not q then return 0 end -- Redis already expired it; sweep() removes its expiry entry
  redis.call('ZREM', P .. 'exp', id .. '|' .. q)
  if q ~= '' then redis.call('SREM', P .. 'qm:' .. q, id) end
  return 1
end
-- One mailbox no longer waits for the message; returns 1 if that dropped it.
local function release(id, mb)
  local to = P .. 'to:' .. id
  if redis.call('SREM', to, mb) == 0 then return -1 end
  if redis.call('EXISTS', to) == 1 then return 0 end
  return drop(id)
end
-- The mailbox, its registrations and its deliveries (messages nobody else reads go); returns how many messages went.
local function dropMailbox(mb)
  local inbox = P .. 'inbox:' .. mb
  local dropped = 0
  for _, id in ipairs(redis.call('ZRANGE', inbox, 0, -1)) do
    if release(id, mb) == 1 then dropped = dropped + 1 end
  end
  for _, q in ipairs(redis.call('SMEMBERS', P .. 'mbq:' .. mb)) do redis.call('SREM', P .. 'q:' .. q, mb) end
  redis.call('DEL', inbox, P .. 'mbq:' .. mb, P .. 'mb:' .. mb)
  redis.call('ZREM', P .. 'mbexp', mb)
  return dropped
end
`;

/**
 * Lua: 1 when one more message of ARGV[6]'s length fits scope `sc` and the
 * global cap (ARGV[8..10]: per-scope messages, per-scope bytes, total bytes).
 */
const FITS = `
local function fits(sc, bytes)
  local mine = redis.call('HMGET', P .. 'use:' .. sc, 'n', 'b')
  if tonumber(mine[1] or '0') + 1 > tonumber(ARGV[8]) then return false end
  if tonumber(mine[2] or '0') + bytes > tonumber(ARGV[9]) then return false end
  return tonumber(redis.call('HGET', P .. 'use', 'b') or '0') + bytes <= tonumber(ARGV[10])
end
local function use(id, sc, bytes)
  redis.call('HSET', P .. 'sz', id, bytes .. ' ' .. sc)
  redis.call('HINCRBY', P .. 'use', 'n', 1)
  redis.call('HINCRBY', P .. 'use', 'b', bytes)
  redis.call('HINCRBY', P .. 'use:' .. sc, 'n', 1)
  redis.call('HINCRBY', P .. 'use:' .. sc, 'b', bytes)
end
`;

const S = {
  // At the cap, the ceremonies that expire first make room.
  putCeremony: `
local idx = ARGV[1] .. 'cerexp'
local over = redis.call('ZCARD', idx) - tonumber(ARGV[5]) + 1
if over > 0 then
  local popped = redis.call('ZPOPMIN', idx, over)
  for i = 1, #popped, 2 do redis.call('DEL', ARGV[1] .. 'cer:' .. popped[i]) end
end
redis.call('SET', KEYS[1], ARGV[2], 'EXAT', ARGV[3])
redis.call('ZADD', idx, ARGV[3], ARGV[4])
return 0`,
  takeCeremony: `
redis.call('ZREM', ARGV[1] .. 'cerexp', ARGV[2])
return redis.call('GETDEL', KEYS[1])`,
  createAccount: `
local ck = ARGV[1] .. 'cred:' .. ARGV[3]
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', ck) == 1 then return 0 end
redis.call('SET', KEYS[1], '1')
redis.call('HSET', ck, 'a', ARGV[2], 'k', ARGV[4], 'c', ARGV[5], 't', ARGV[6])
redis.call('SADD', ARGV[1] .. 'acred:' .. ARGV[2], ARGV[3])
return 1`,
  // Everything under the account id; KEYS[1] is acct:<account>.
  deleteAccount: `
local P, a = ARGV[1], ARGV[2]
local existed = redis.call('DEL', KEYS[1])
for _, c in ipairs(redis.call('SMEMBERS', P .. 'acred:' .. a)) do redis.call('DEL', P .. 'cred:' .. c) end
for _, h in ipairs(redis.call('SMEMBERS', P .. 'asess:' .. a)) do
  redis.call('DEL', P .. 'sess:' .. h)
  redis.call('ZREM', P .. 'sessexp', h)
end
redis.call('DEL', P .. 'acred:' .. a, P .. 'asess:' .. a, P .. 'kp:' .. a, P .. 'kplr:' .. a, P .. 'kprh:' .. a)
return existed`,
  getCredential: `return redis.call('HMGET', KEYS[1], 'a', 'k', 'c', 't')`,
  updateCounter: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'c', ARGV[2])
return 1`,
  exists: `return redis.call('EXISTS', KEYS[1])`,
  get: `return redis.call('GET', KEYS[1])`,
  putSession: `
redis.call('HSET', KEYS[1], 'a', ARGV[2], 'e', ARGV[3])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
redis.call('ZADD', ARGV[1] .. 'sessexp', ARGV[3], ARGV[4])
local idx = ARGV[1] .. 'asess:' .. ARGV[2]
for _, h in ipairs(redis.call('SMEMBERS', idx)) do
  if redis.call('EXISTS', ARGV[1] .. 'sess:' .. h) == 0 then redis.call('SREM', idx, h) end
end
redis.call('SADD', idx, ARGV[4])
return 0`,
  getSession: `
local v = redis.call('HMGET', KEYS[1], 'a', 'e')
if not v[1] or tonumber(v[2]) <= tonumber(ARGV[2]) then return false end
return v`,
  deleteSession: `
local a = redis.call('HGET', KEYS[1], 'a')
if a then redis.call('SREM', ARGV[1] .. 'asess:' .. a, ARGV[2]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'sessexp', ARGV[2])
return 0`,
  addKeyPackages: `
local lr = ARGV[1] .. 'kplr:' .. ARGV[2]
if redis.call('LLEN', KEYS[1]) + (#ARGV - 5) > tonumber(ARGV[3]) then return {${FULL}} end
for i = 6, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
if ARGV[4] == '1' then redis.call('SET', lr, ARGV[5]) end
return {${OK}, redis.call('LLEN', KEYS[1]), redis.call('EXISTS', lr)}`,
  // RFC 9420 §16.8: a one-time package is handed out once; the last-resort one stays.
  claimKeyPackage: `
local v = redis.call('LPOP', KEYS[1])
if v then return {1, v} end
v = redis.call('GET', ARGV[1] .. 'kplr:' .. ARGV[2])
if v then return {0, v} end
return {}`,
  countKeyPackages: `return {redis.call('LLEN', KEYS[1]), redis.call('EXISTS', ARGV[1] .. 'kplr:' .. ARGV[2])}`,
  // KEYS[1] = kprh:<account>: h(ash of the retire secret), r(etired).
  setKeyPackageRetireHash: `
if redis.call('HGET', KEYS[1], 'r') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'h', ARGV[2], 'r', '0')
return 1`,
  retireKeyPackages: `
local h = redis.call('HGET', KEYS[1], 'h')
if not h or h ~= ARGV[2] then return 0 end
redis.call('DEL', ARGV[1] .. 'kp:' .. ARGV[3], ARGV[1] .. 'kplr:' .. ARGV[3])
redis.call('HSET', KEYS[1], 'r', '1')
return 1`,
  keyPackagesRetired: `return redis.call('HGET', KEYS[1], 'r') == '1' and 1 or 0`,
  consumeQuota: `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[2])
redis.call('EXPIREAT', KEYS[1], ARGV[4])
return 1`,
  listTokenKeys: `return redis.call('HVALS', KEYS[1])`,
  putTokenKey: `return redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])`,
  retireTokenKey: `
redis.call('HDEL', KEYS[1], ARGV[2])
return redis.call('DEL', ARGV[1] .. 'spent:' .. ARGV[2])`,
  spend: `
if redis.call('HEXISTS', ARGV[1] .. 'tkeys', ARGV[3]) == 0 then return 0 end
return redis.call('SADD', KEYS[1], ARGV[2])`,
  createMailbox: `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('mailbox id taken') end
if redis.call('HEXISTS', ARGV[1] .. 'tkeys', ARGV[2]) == 0 or redis.call('SADD', ARGV[1] .. 'spent:' .. ARGV[2], ARGV[3]) == 0 then
  return ${SPENT}
end
redis.call('SET', KEYS[1], ARGV[4])
redis.call('ZADD', ARGV[1] .. 'mbexp', ARGV[5], ARGV[6])
return ${OK}`,
  touchMailbox: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local idx = ARGV[1] .. 'mbexp'
local cur = redis.call('ZSCORE', idx, ARGV[2])
if cur and tonumber(cur) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', idx, ARGV[3], ARGV[2])
return 1`,
  deleteMailbox: `${LIB}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
return {1, dropMailbox(ARGV[2])}`,
  // Mailboxes whose idle expiry passed, a batch at a time.
  sweepMailboxes: `${LIB}
local mbs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local dropped = 0
for _, mb in ipairs(mbs) do dropped = dropped + dropMailbox(mb) end
return {#mbs, dropped}`,
  registerMailbox: `${CAP}
local cc = capcheck(ARGV[2], ARGV[6])
if cc ~= ${OK} and cc ~= -1 then return refused(cc) end
local mbq = ARGV[1] .. 'mbq:' .. ARGV[3]
if redis.call('EXISTS', ARGV[1] .. 'mb:' .. ARGV[3]) == 0 then return ${NOT_FOUND} end
if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then return ${OK} end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[4]) then return ${FULL} end
if redis.call('SCARD', mbq) >= tonumber(ARGV[5]) then return ${FULL} end
if cc == -1 then redis.call('HSET', ARGV[1] .. 'qc:' .. ARGV[2], 'c', ARGV[6]) end
redis.call('SADD', KEYS[1], ARGV[3])
redis.call('SADD', mbq, ARGV[2])
return ${OK}`,
  // A removed member's mailbox keeps nothing of the queue: what waited for it goes too.
  unregisterMailbox: `${LIB}${CAP}
local qh, mb = ARGV[2], ARGV[3]
local cc = capcheck(qh, ARGV[4])
if cc ~= ${OK} then return refused(cc) end
if redis.call('SREM', KEYS[1], mb) == 0 then return ${NOT_FOUND} end
redis.call('SREM', P .. 'mbq:' .. mb, qh)
local inbox = P .. 'inbox:' .. mb
for _, id in ipairs(redis.call('SMEMBERS', P .. 'qm:' .. qh)) do
  if redis.call('ZREM', inbox, id) == 1 then release(id, mb) end
end
return ${OK}`,
  deleteQueue: `${LIB}${CAP}
local qh = ARGV[2]
local cc = capcheck(qh, ARGV[3])
if cc ~= ${OK} then return refused(cc) end
local qm = P .. 'qm:' .. qh
local ids = redis.call('SMEMBERS', qm)
for _, id in ipairs(ids) do
  local to = P .. 'to:' .. id
  for _, mb in ipairs(redis.call('SMEMBERS', to)) do redis.call('ZREM', P .. 'inbox:' .. mb, id) end
  unuse(id)
  redis.call('DEL', P .. 'msg:' .. id, to)
  redis.call('ZREM', P .. 'exp', id .. '|' .. qh)
end
local regs = redis.call('SMEMBERS', KEYS[1])
for _, mb in ipairs(regs) do redis.call('SREM', P .. 'mbq:' .. mb, qh) end
redis.call('DEL', qm, KEYS[1], P .. 'qc:' .. qh)
return ${OK}`,
  // One script: the spend, the message and one delivery per registered mailbox, or nothing.
  postToQueue: `${CAP}
local P, qh, id, e = ARGV[1], ARGV[2], ARGV[5], tonumber(ARGV[7])
${FITS}
local cc = capcheck(qh, ARGV[11])
if cc ~= ${OK} then return {refused(cc)} end
local regs = redis.call('SMEMBERS', KEYS[1])
if #regs == 0 then return {${NOT_FOUND}} end
if not fits('q:' .. qh, #ARGV[6]) then return {${FULL}} end
if redis.call('HEXISTS', P .. 'tkeys', ARGV[3]) == 0 or redis.call('SADD', P .. 'spent:' .. ARGV[3], ARGV[4]) == 0 then
  return {${SPENT}}
end
local seq = redis.call('INCR', P .. 'seq')
local mk = P .. 'msg:' .. id
redis.call('HSET', mk, 'p', ARGV[6], 'q', qh, 'e', e, 's', seq)
redis.call('EXPIREAT', mk, e)
local to = P .. 'to:' .. id
for i = 1, #regs, 1000 do redis.call('SADD', to, unpack(regs, i, math.min(i + 999, #regs))) end
redis.call('EXPIREAT', to, e + ${RECIPIENTS_GRACE_SECONDS})
redis.call('SADD', P .. 'qm:' .. qh, id)
redis.call('ZADD', P .. 'exp', e, id .. '|' .. qh)
use(id, 'q:' .. qh, #ARGV[6])
for _, mb in ipairs(regs) do redis.call('ZADD', P .. 'inbox:' .. mb, seq, id) end
if ARGV[12] ~= '' then redis.call('HSET', P .. 'qc:' .. qh, 'p', ARGV[11], 'c', ARGV[12]) end
return {${OK}, regs}`,
  postToMailbox: `
local P, mb, id, e = ARGV[1], ARGV[2], ARGV[5], tonumber(ARGV[7])
${FITS}
if redis.call('EXISTS', KEYS[1]) == 0 then return ${NOT_FOUND} end
if not fits('m:' .. mb, #ARGV[6]) then return ${FULL} end
if redis.call('HEXISTS', P .. 'tkeys', ARGV[3]) == 0 or redis.call('SADD', P .. 'spent:' .. ARGV[3], ARGV[4]) == 0 then
  return ${SPENT}
end
local seq = redis.call('INCR', P .. 'seq')
local mk = P .. 'msg:' .. id
redis.call('HSET', mk, 'p', ARGV[6], 'q', '', 'e', e, 's', seq)
redis.call('EXPIREAT', mk, e)
local to = P .. 'to:' .. id
redis.call('SADD', to, mb)
redis.call('EXPIREAT', to, e + ${RECIPIENTS_GRACE_SECONDS})
redis.call('ZADD', P .. 'exp', e, id .. '|')
use(id, 'm:' .. mb, #ARGV[6])
redis.call('ZADD', P .. 'inbox:' .. mb, seq, id)
return ${OK}`,
  // Oldest first; entries whose message is gone (expired in Redis, queue deleted) are dropped on the way.
  fetchMailbox: `
local P, limit, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out, stale, n, start = {}, {}, 0, 0
while n < limit do
  local ids = redis.call('ZRANGE', KEYS[1], start, start + limit - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local v = redis.call('HMGET', P .. 'msg:' .. id, 'p', 'q', 'e')
    if not v[1] then
      stale[#stale + 1] = id
    elseif tonumber(v[3]) > now then
      out[#out + 1] = id
      out[#out + 1] = v[1]
      out[#out + 1] = v[2]
      n = n + 1
      if n >= limit then break end
    end
  end
  start = start + #ids
end
for i = 1, #stale, 1000 do redis.call('ZREM', KEYS[1], unpack(stale, i, math.min(i + 999, #stale))) end
return out`,
  // Removes this mailbox's deliveries only; a message goes with its last one.
  ack: `${LIB}
local mb, removed, dropped = ARGV[2], 0, 0
for i = 3, #ARGV do
  local id = ARGV[i]
  redis.call('ZREM', KEYS[1], id)
  local r = release(id, mb)
  if r >= 0 then removed = removed + 1 end
  if r == 1 then dropped = dropped + 1 end
end
return {removed, dropped}`,
  putInvite: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'w', ARGV[2], 'c', ARGV[3], 'e', ARGV[4], 'o', ARGV[5])
redis.call('EXPIREAT', KEYS[1], ARGV[4])
return 1`,
  updateInvite: `
local v = redis.call('HMGET', KEYS[1], 'w', 'e')
if v[1] ~= ARGV[2] or tonumber(v[2]) <= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'c', ARGV[3])
return 1`,
  readInvite: `
local v = redis.call('HMGET', KEYS[1], 'c', 'e', 'o')
if not v[1] or v[1] == '' or tonumber(v[2]) <= tonumber(ARGV[2]) then return false end
if v[3] == '1' then
  redis.call('HSET', KEYS[1], 'c', '', 'w', '')
  return {v[1], 1}
end
return {v[1], 0}`,
  deleteInvite: `
local w = redis.call('HGET', KEYS[1], 'w')
if not w or w == '' or w ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'c', '', 'w', '')
return 1`,
  // Messages whose expiry passed: their inbox entries, recipients, payload and queue entry.
  sweepMessages: `${LIB}
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(members) do
  local bar = string.find(m, '|', 1, true)
  local id, q = string.sub(m, 1, bar - 1), string.sub(m, bar + 1)
  local to = P .. 'to:' .. id
  for _, mb in ipairs(redis.call('SMEMBERS', to)) do redis.call('ZREM', P .. 'inbox:' .. mb, id) end
  unuse(id)
  redis.call('DEL', to, P .. 'msg:' .. id)
  if q ~= '' then redis.call('SREM', P .. 'qm:' .. q, id) end
  redis.call('ZREM', KEYS[1], m)
end
return #members`,
  // Sessions or ceremonies (ARGV[4] names the kind) whose expiry passed; Redis may have expired the keys already.
  sweepIndex: `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[1] .. ARGV[4] .. id)
  redis.call('ZREM', KEYS[1], id)
end
return #ids`,
} as const;

type ScriptName = keyof typeof S;

/** The script arguments of a spend and the message it pays for (postToQueue, postToMailbox). */
const spendAndMessage = (spend: Spend, m: NewMessage): Arg[] => [
  spend.keyId,
  spend.inputHash,
  m.messageId,
  Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength),
  String(m.expiresAt),
];

/** The script arguments of the storage caps (ARGV[8..10] of postToQueue and postToMailbox). */
const capArgs = (caps: StorageCaps): Arg[] => [
  String(caps.maxMessagesPerScope),
  String(caps.maxBytesPerScope),
  String(caps.maxTotalBytes),
];

export class RedisStore implements RelayStore {
  private constructor(private readonly redis: RedisScripts<ScriptName>) {}

  /** Key prefix, e.g. `mc:`. */
  get prefix(): string {
    return this.redis.prefix;
  }

  /** Connects (failing after `connectTimeoutMs` if Redis does not answer) and returns the store. */
  static async open(options: {
    url: string;
    prefix: string;
    aofRewriteIntervalSeconds: number;
    log: (line: string) => void;
    connectTimeoutMs?: number;
  }): Promise<RedisStore> {
    const client = createRelayRedisClient(options.url, options.log);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      client.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    // A Redis that just restarted answers LOADING until its AOF is read: wait for it rather than fail the start.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await bounded(client.sendCommand(['EXISTS', `${options.prefix}tkeys`]));
        break;
      } catch (err) {
        if (Date.now() > deadline || !(err instanceof ErrorReply && TRANSIENT_REPLY.test(err.message))) {
          client.destroy();
          throw err;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return new RedisStore(new RedisScripts(client, S, options.prefix, options.aofRewriteIntervalSeconds * 1000, options.log));
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  private run(name: ScriptName, key: string, args: Arg[]): Promise<unknown> {
    return this.redis.run(name, key, args);
  }

  async putCeremony(id: string, c: Ceremony, max: number): Promise<void> {
    const value = JSON.stringify({ kind: c.kind, challenge: c.challenge, accountId: c.accountId, expiresAt: c.expiresAt });
    await this.run('putCeremony', this.key('cer', id), [value, String(c.expiresAt), id, String(max)]);
  }

  async takeCeremony(id: string, now: number): Promise<Ceremony | null> {
    const raw = await this.run('takeCeremony', this.key('cer', id), [id]);
    if (raw === null || raw === undefined) return null;
    let v: unknown;
    try {
      v = JSON.parse(text(raw));
    } catch {
      return null;
    }
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    if (typeof o.challenge !== 'string' || typeof o.expiresAt !== 'number' || o.expiresAt <= now) return null;
    return {
      kind: o.kind === 'register' ? 'register' : 'login',
      challenge: o.challenge,
      accountId: typeof o.accountId === 'string' ? o.accountId : null,
      expiresAt: o.expiresAt,
    };
  }

  async createAccount(accountId: string, c: StoredCredential): Promise<void> {
    const created = await this.run('createAccount', this.key('acct', accountId), [
      accountId,
      c.credentialId,
      Buffer.from(c.publicKey),
      String(c.counter),
      JSON.stringify(c.transports),
    ]);
    // As the SQLite store's primary keys do: an existing account or credential is never overwritten.
    if (int(created) !== 1) throw new Error('account or credential already exists');
  }

  async getCredential(credentialId: string): Promise<StoredCredential | null> {
    const [a, k, c, t] = list(await this.run('getCredential', this.key('cred', credentialId), []));
    if (a === null || a === undefined) return null;
    let transports: string[] = [];
    try {
      const parsed: unknown = JSON.parse(text(t));
      if (Array.isArray(parsed)) transports = parsed.filter((x): x is string => typeof x === 'string');
    } catch {
      transports = [];
    }
    return { credentialId, accountId: text(a), publicKey: bytes(k), counter: int(c), transports };
  }

  async updateCredentialCounter(credentialId: string, counter: number): Promise<void> {
    await this.run('updateCounter', this.key('cred', credentialId), [String(counter)]);
  }

  async accountExists(accountId: string): Promise<boolean> {
    return int(await this.run('exists', this.key('acct', accountId), [])) === 1;
  }

  async deleteAccount(accountId: string): Promise<boolean> {
    const existed = int(await this.run('deleteAccount', this.key('acct', accountId), [accountId])) === 1;
    this.redis.deleted();
    return existed;
  }

  async putSession(tokenHash: string, accountId: string, expiresAt: number): Promise<void> {
    await this.run('putSession', this.key('sess', tokenHash), [accountId, String(expiresAt), tokenHash]);
  }

  async getSession(tokenHash: string, now: number): Promise<{ accountId: string; expiresAt: number } | null> {
    const r = await this.run('getSession', this.key('sess', tokenHash), [String(now)]);
    if (!Array.isArray(r)) return null;
    return { accountId: text(r[0]), expiresAt: int(r[1]) };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.run('deleteSession', this.key('sess', tokenHash), [tokenHash]);
  }

  async addKeyPackages(
    accountId: string,
    oneTime: Uint8Array[],
    lastResort: Uint8Array | undefined,
    maxOneTime: number,
  ): Promise<SpendResult<KeyPackageCounts>> {
    const r = list(
      await this.run('addKeyPackages', this.key('kp', accountId), [
        accountId,
        String(maxOneTime),
        lastResort === undefined ? '0' : '1',
        lastResort === undefined ? '' : Buffer.from(lastResort),
        ...oneTime.map((kp) => Buffer.from(kp)),
      ]),
    );
    if (int(r[0]) !== OK) return { ok: false, reason: 'full' };
    return { ok: true, value: { oneTime: int(r[1]), lastResort: int(r[2]) === 1 } };
  }

  async claimKeyPackage(accountId: string): Promise<Uint8Array | null> {
    const r = list(await this.run('claimKeyPackage', this.key('kp', accountId), [accountId]));
    if (r.length < 2) return null;
    if (int(r[0]) === 1) this.redis.deleted();
    return bytes(r[1]);
  }

  async countKeyPackages(accountId: string): Promise<KeyPackageCounts> {
    const r = list(await this.run('countKeyPackages', this.key('kp', accountId), [accountId]));
    return { oneTime: int(r[0]), lastResort: int(r[1]) === 1 };
  }

  async setKeyPackageRetireHash(accountId: string, hash: Uint8Array): Promise<boolean> {
    return int(await this.run('setKeyPackageRetireHash', this.key('kprh', accountId), [Buffer.from(hash)])) === 1;
  }

  async retireKeyPackages(accountId: string, hash: Uint8Array): Promise<boolean> {
    const done = int(await this.run('retireKeyPackages', this.key('kprh', accountId), [Buffer.from(hash), accountId])) === 1;
    if (done) this.redis.deleted();
    return done;
  }

  async keyPackagesRetired(accountId: string): Promise<boolean> {
    return int(await this.run('keyPackagesRetired', this.key('kprh', accountId), [])) === 1;
  }

  async consumeQuota(bucket: string, amount: number, max: number, expiresAt: number): Promise<boolean> {
    const r = await this.run('consumeQuota', this.key('quota', bucket), [String(amount), String(max), String(expiresAt)]);
    return int(r) === 1;
  }

  async listTokenKeys(): Promise<TokenKey[]> {
    const out: TokenKey[] = [];
    for (const raw of list(await this.run('listTokenKeys', `${this.prefix}tkeys`, []))) {
      const o = JSON.parse(text(raw)) as Record<string, unknown>;
      out.push({
        keyId: String(o.keyId),
        secretKey: new Uint8Array(Buffer.from(String(o.secretKey), 'base64')),
        publicKey: new Uint8Array(Buffer.from(String(o.publicKey), 'base64')),
        issueUntil: Number(o.issueUntil),
        acceptUntil: Number(o.acceptUntil),
      });
    }
    return out;
  }

  async putTokenKey(k: TokenKey): Promise<void> {
    const value = JSON.stringify({
      keyId: k.keyId,
      secretKey: Buffer.from(k.secretKey).toString('base64'),
      publicKey: Buffer.from(k.publicKey).toString('base64'),
      issueUntil: k.issueUntil,
      acceptUntil: k.acceptUntil,
    });
    await this.run('putTokenKey', `${this.prefix}tkeys`, [k.keyId, value]);
  }

  async retireTokenKey(keyId: string): Promise<void> {
    await this.run('retireTokenKey', `${this.prefix}tkeys`, [keyId]);
    this.redis.deleted();
  }

  async spend(spend: Spend): Promise<boolean> {
    return int(await this.run('spend', this.key('spent', spend.keyId), [spend.inputHash, spend.keyId])) === 1;
  }

  async createMailbox(spend: Spend, mailboxId: string, secretHash: string, idleUntil: number): Promise<SpendResult<null>> {
    const r = int(
      await this.run('createMailbox', this.key('mb', mailboxId), [spend.keyId, spend.inputHash, secretHash, String(idleUntil), mailboxId]),
    );
    return r === OK ? { ok: true, value: null } : { ok: false, reason: 'spent' };
  }

  async touchMailbox(mailboxId: string, idleUntil: number): Promise<void> {
    await this.run('touchMailbox', this.key('mb', mailboxId), [mailboxId, String(idleUntil)]);
  }

  async getMailboxSecretHash(mailboxId: string): Promise<string | null> {
    const r = await this.run('get', this.key('mb', mailboxId), []);
    return r === null || r === undefined ? null : text(r);
  }

  async deleteMailbox(mailboxId: string): Promise<boolean> {
    const r = list(await this.run('deleteMailbox', this.key('mb', mailboxId), [mailboxId]));
    this.redis.deleted();
    return int(r[0]) === 1;
  }

  async registerMailbox(queueHash: string, capHash: string, mailboxId: string, maxPerQueue: number, maxPerMailbox: number): Promise<SpendResult<null>> {
    const r = int(
      await this.run('registerMailbox', this.key('q', queueHash), [queueHash, mailboxId, String(maxPerQueue), String(maxPerMailbox), capHash]),
    );
    if (r === OK) return { ok: true, value: null };
    return { ok: false, reason: r === FULL ? 'full' : r === STALE ? 'stale' : 'not_found' };
  }

  async unregisterMailbox(queueHash: string, capHash: string, mailboxId: string): Promise<SpendResult<null>> {
    const r = int(await this.run('unregisterMailbox', this.key('q', queueHash), [queueHash, mailboxId, capHash]));
    if (r !== OK) return { ok: false, reason: r === STALE ? 'stale' : 'not_found' };
    this.redis.deleted();
    return { ok: true, value: null };
  }

  async deleteQueue(queueHash: string, capHash: string): Promise<SpendResult<null>> {
    const r = int(await this.run('deleteQueue', this.key('q', queueHash), [queueHash, capHash]));
    this.redis.deleted();
    if (r !== OK) return { ok: false, reason: r === STALE ? 'stale' : 'not_found' };
    return { ok: true, value: null };
  }

  async postToQueue(spend: Spend, queueHash: string, capHash: string, m: NewMessage, rotateTo: string | null, caps: StorageCaps): Promise<SpendResult<string[]>> {
    const r = list(
      await this.run('postToQueue', this.key('q', queueHash), [queueHash, ...spendAndMessage(spend, m), ...capArgs(caps), capHash, rotateTo ?? '']),
    );
    const code = int(r[0]);
    if (code === OK) return { ok: true, value: list(r[1]).map(text) };
    return { ok: false, reason: code === SPENT ? 'spent' : code === FULL ? 'full' : code === STALE ? 'stale' : 'not_found' };
  }

  async postToMailbox(spend: Spend, mailboxId: string, m: NewMessage, caps: StorageCaps): Promise<SpendResult<null>> {
    const code = int(
      await this.run('postToMailbox', this.key('mb', mailboxId), [mailboxId, ...spendAndMessage(spend, m), ...capArgs(caps)]),
    );
    if (code === OK) return { ok: true, value: null };
    return { ok: false, reason: code === SPENT ? 'spent' : code === FULL ? 'full' : 'not_found' };
  }

  async fetchMailbox(mailboxId: string, limit: number, now: number): Promise<StoredMessage[]> {
    if (limit <= 0) return [];
    const flat = list(await this.run('fetchMailbox', this.key('inbox', mailboxId), [String(limit), String(now)]));
    const out: StoredMessage[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const q = flat[i + 2];
      const welcome = q instanceof Uint8Array ? q.length === 0 : text(q) === '';
      out.push({ messageId: text(flat[i]), payload: bytes(flat[i + 1]), kind: welcome ? 'welcome' : 'group' });
    }
    return out;
  }

  async ack(mailboxId: string, messageIds: string[]): Promise<number> {
    if (messageIds.length === 0) return 0;
    const r = list(await this.run('ack', this.key('inbox', mailboxId), [mailboxId, ...messageIds]));
    if (int(r[1]) > 0) this.redis.deleted();
    return int(r[0]);
  }

  async putInvite(inviteHash: string, invite: StoredInvite): Promise<boolean> {
    const r = await this.run('putInvite', this.key('inv', inviteHash), [
      invite.writeKeyHash,
      Buffer.from(invite.ciphertext),
      String(invite.expiresAt),
      invite.oneTime ? '1' : '0',
    ]);
    return int(r) === 1;
  }

  async updateInvite(inviteHash: string, writeKeyHash: string, ciphertext: Uint8Array, now: number): Promise<boolean> {
    const r = await this.run('updateInvite', this.key('inv', inviteHash), [writeKeyHash, Buffer.from(ciphertext), String(now)]);
    const changed = int(r) === 1;
    // The old ciphertext is still in the AOF: let scrub() rewrite it away.
    if (changed) this.redis.deleted();
    return changed;
  }

  async readInvite(inviteHash: string, now: number): Promise<Uint8Array | null> {
    const r = list(await this.run('readInvite', this.key('inv', inviteHash), [String(now)]));
    if (r.length < 2) return null;
    // A one-time invite was deleted by this read.
    if (int(r[1]) === 1) this.redis.deleted();
    return bytes(r[0]);
  }

  async deleteInvite(inviteHash: string, writeKeyHash: string): Promise<boolean> {
    const deleted = int(await this.run('deleteInvite', this.key('inv', inviteHash), [writeKeyHash])) === 1;
    if (deleted) this.redis.deleted();
    return deleted;
  }

  /** Runs one sweep script until a batch comes back short; returns the total. */
  private async sweepAll(name: 'sweepMessages' | 'sweepIndex', key: string, args: Arg[]): Promise<number> {
    let total = 0;
    for (;;) {
      const n = int(await this.run(name, key, args));
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }

  async sweep(now: number): Promise<SweepResult> {
    const t = String(now);
    const b = String(SWEEP_BATCH);
    const messages = await this.sweepAll('sweepMessages', `${this.prefix}exp`, [t, b]);
    const sessions = await this.sweepAll('sweepIndex', `${this.prefix}sessexp`, [t, b, 'sess:']);
    const ceremonies = await this.sweepAll('sweepIndex', `${this.prefix}cerexp`, [t, b, 'cer:']);
    let mailboxes = 0;
    for (;;) {
      const r = list(await this.run('sweepMailboxes', `${this.prefix}mbexp`, [t, b]));
      mailboxes += int(r[0]);
      if (int(r[0]) < SWEEP_BATCH) break;
    }
    // Redis expires invites and quota buckets on its own, unseen by this instance: rewrite after every sweep.
    this.redis.deleted();
    return { messages, sessions, ceremonies, mailboxes };
  }

  /**
   * Drops freed ciphertext from the append-only file: BGREWRITEAOF writes a
   * fresh AOF from what is live and removes the old files. Only after
   * deletions, at most once per interval; a no-op when AOF is off.
   */
  async scrub(): Promise<void> {
    await this.redis.scrub();
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}
