/**
 * Operator tool: print everything the relay keeps as JSON (blobs as hex),
 * e.g. to audit it. Used by the privacy test.
 *
 *   deno run --allow-read --allow-write relay/dump.ts <data-dir>
 *   deno run --allow-net --allow-env relay/dump.ts --store redis --redis-url redis://… [--redis-prefix mc:]
 *
 * SQLite: table → rows. Redis: the same shape, one "table" per kind of key
 * (see the key list in redis-store.ts), one row per entry; a key under the
 * prefix that the store does not know lands in `unknown`, so nothing is hidden
 * from the audit.
 */

import { Buffer } from 'node:buffer';
import { DatabaseSync } from 'node:sqlite';
import { loadConfig } from './config.ts';
import { createRelayRedisClient } from './redis-scripts.ts';
import { DB_FILE } from './sqlite-store.ts';

interface DenoArgs {
  args: string[];
}
type Row = Record<string, unknown>;
type Dump = Record<string, Row[]>;

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function dumpSqlite(dir: string): Dump {
  const db = new DatabaseSync(`${dir.replace(/\/+$/, '')}/${DB_FILE}`);
  const out: Dump = {};
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
  for (const t of tables) {
    const name = String(t.name);
    out[name] = db
      .prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`)
      .all()
      .map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? { hex: hex(v) } : typeof v === 'bigint' ? String(v) : v]),
        ),
      );
  }
  db.close();
  return out;
}

/** Escapes glob characters so SCAN MATCH takes the prefix literally. */
const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

async function dumpRedis(url: string, prefix: string): Promise<Dump> {
  const client = createRelayRedisClient(url, (line) => console.error(line));
  await client.connect();
  // Every table the store can fill is present, empty or not, as SQLite's are.
  const TABLES = [
    'ceremonies', 'ceremony_expiries', 'accounts', 'credentials', 'sessions', 'session_expiries', 'key_packages', 'key_package_retire', 'quotas',
    'token_keys', 'spent', 'mailboxes', 'mailbox_queues', 'registrations', 'queues', 'queue_messages', 'messages', 'recipients',
    'deliveries', 'message_expiries', 'counters', 'invites',
    'blobs', 'blob_chunks', 'blob_recipients', 'queue_blobs', 'blob_expiries',
    'backups', 'backup_items',
  ];
  const out: Dump = Object.fromEntries(TABLES.map((t) => [t, []]));
  const add = (table: string, row: Row): void => {
    (out[table] ??= []).push(row);
  };
  const cmd = async (args: string[]): Promise<unknown> => client.sendCommand(args);
  const str = (v: unknown): string => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v));
  const blob = (v: unknown): { hex: string } => ({ hex: v instanceof Uint8Array ? hex(v) : '' });
  const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  /** HGETALL as field → raw value (node-redis answers an object, or a flat array). */
  const hash = async (key: string): Promise<Map<string, unknown>> => {
    const reply = await cmd(['HGETALL', key]);
    const m = new Map<string, unknown>();
    if (Array.isArray(reply)) {
      for (let i = 0; i + 1 < reply.length; i += 2) m.set(str(reply[i]), reply[i + 1]);
    } else if (typeof reply === 'object' && reply !== null) {
      for (const [k, v] of Object.entries(reply)) m.set(k, v);
    }
    return m;
  };
  const members = async (key: string): Promise<string[]> => arr(await cmd(['SMEMBERS', key])).map(str);
  /** ZRANGE WITHSCORES as [member, score] pairs (node-redis answers pairs, or a flat array). */
  const zset = async (key: string): Promise<[string, string][]> => {
    const reply = arr(await cmd(['ZRANGE', key, '0', '-1', 'WITHSCORES']));
    const pairs: [string, string][] = [];
    if (reply.every(Array.isArray)) {
      for (const p of reply) pairs.push([str(arr(p)[0]), str(arr(p)[1])]);
    } else {
      for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([str(reply[i]), str(reply[i + 1])]);
    }
    return pairs;
  };
  const expireTime = async (key: string): Promise<number> => Number(str(await cmd(['EXPIRETIME', key])));

  const keys: string[] = [];
  let cursor = '0';
  do {
    const r = arr(await cmd(['SCAN', cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', '1000']));
    cursor = str(r[0]);
    for (const k of arr(r[1])) keys.push(str(k));
  } while (cursor !== '0');
  keys.sort();

  for (const key of keys) {
    const rest = key.slice(prefix.length);
    const colon = rest.indexOf(':');
    const kind = colon < 0 ? rest : rest.slice(0, colon);
    const id = colon < 0 ? '' : rest.slice(colon + 1);
    switch (colon < 0 ? kind : `${kind}:`) {
      case 'cer:': {
        const v = JSON.parse(str(await cmd(['GET', key]))) as Row;
        add('ceremonies', { id, kind: v.kind, challenge: v.challenge, account_id: v.accountId, expires_at: v.expiresAt });
        break;
      }
      case 'cerexp':
        for (const [m, score] of await zset(key)) add('ceremony_expiries', { id: m, expires_at: Number(score) });
        break;
      case 'acct:':
        add('accounts', { account_id: id });
        break;
      case 'cred:': {
        const h = await hash(key);
        add('credentials', {
          credential_id: id,
          account_id: str(h.get('a')),
          public_key: blob(h.get('k')),
          counter: Number(str(h.get('c'))),
          transports: str(h.get('t')),
        });
        break;
      }
      case 'sess:': {
        const h = await hash(key);
        add('sessions', { token_hash: id, account_id: str(h.get('a')), expires_at: Number(str(h.get('e'))) });
        break;
      }
      case 'sessexp':
        for (const [m, score] of await zset(key)) add('session_expiries', { token_hash: m, expires_at: Number(score) });
        break;
      case 'acred:':
        for (const m of await members(key)) add('account_credentials', { account_id: id, credential_id: m });
        break;
      case 'asess:':
        for (const m of await members(key)) add('account_sessions', { account_id: id, token_hash: m });
        break;
      case 'kp:':
        for (const v of arr(await cmd(['LRANGE', key, '0', '-1']))) add('key_packages', { account_id: id, last_resort: 0, data: blob(v) });
        break;
      case 'kplr:':
        add('key_packages', { account_id: id, last_resort: 1, data: blob(await cmd(['GET', key])) });
        break;
      case 'kprh:': {
        const h = await hash(key);
        add('key_package_retire', { account_id: id, hash: blob(h.get('h')), retired: Number(str(h.get('r'))) });
        break;
      }
      case 'quota:':
        add('quotas', { bucket: id, used: Number(str(await cmd(['GET', key]))), expires_at: await expireTime(key) });
        break;
      case 'tkeys': {
        for (const v of (await hash(key)).values()) {
          const o = JSON.parse(str(v)) as Row;
          add('token_keys', {
            key_id: o.keyId,
            secret_key: { hex: hex(Buffer.from(String(o.secretKey), 'base64')) },
            public_key: { hex: hex(Buffer.from(String(o.publicKey), 'base64')) },
            issue_until: o.issueUntil,
            accept_until: o.acceptUntil,
          });
        }
        break;
      }
      case 'spent:':
        for (const m of await members(key)) add('spent', { key_id: id, input_hash: m });
        break;
      case 'mb:':
        add('mailboxes', { mailbox_id: id, secret_hash: str(await cmd(['GET', key])) });
        break;
      case 'mbexp':
        for (const [m, score] of await zset(key)) add('mailbox_idle', { mailbox_id: m, idle_until: Number(score) });
        break;
      case 'sz':
        for (const [m, v] of await hash(key)) add('message_sizes', { message_id: m, size_scope: str(v) });
        break;
      case 'use':
      case 'use:': {
        const h = await hash(key);
        add('usage', { scope: id, messages: Number(str(h.get('n'))), bytes: Number(str(h.get('b'))) });
        break;
      }
      case 'mbq:':
        for (const m of await members(key)) add('mailbox_queues', { mailbox_id: id, queue_hash: m });
        break;
      case 'q:':
        for (const m of await members(key)) add('registrations', { queue_hash: id, mailbox_id: m });
        break;
      case 'qc:': {
        const h = await hash(key);
        add('queues', { queue_hash: id, cap_hash: str(h.get('c')), prev_cap_hash: h.has('p') ? str(h.get('p')) : null });
        break;
      }
      case 'qm:':
        for (const m of await members(key)) add('queue_messages', { queue_hash: id, message_id: m });
        break;
      case 'msg:': {
        const h = await hash(key);
        const q = str(h.get('q'));
        add('messages', {
          message_id: id,
          queue_hash: q === '' ? null : q,
          payload: blob(h.get('p')),
          expires_at: Number(str(h.get('e'))),
          seq: Number(str(h.get('s'))),
        });
        break;
      }
      case 'to:':
        for (const m of await members(key)) add('recipients', { message_id: id, mailbox_id: m });
        break;
      case 'inbox:':
        for (const [m, score] of await zset(key)) add('deliveries', { mailbox_id: id, message_id: m, seq: Number(score) });
        break;
      case 'exp':
        for (const [m, score] of await zset(key)) {
          const bar = m.indexOf('|');
          add('message_expiries', { message_id: m.slice(0, bar), queue_hash: m.slice(bar + 1) || null, expires_at: Number(score) });
        }
        break;
      case 'seq':
        add('counters', { name: 'seq', value: Number(str(await cmd(['GET', key]))) });
        break;
      case 'inv:': {
        const h = await hash(key);
        add('invites', {
          invite_hash: id,
          write_key_hash: str(h.get('w')),
          ciphertext: blob(h.get('c')),
          expires_at: Number(str(h.get('e'))),
          one_time: Number(str(h.get('o'))),
        });
        break;
      }
      // Blobs (relay/blobs/redis-blobs.ts).
      case 'blob:': {
        const h = await hash(key);
        add('blobs', {
          blob_id: id,
          queue_hash: str(h.get('q')),
          write_key_hash: str(h.get('w')),
          size: Number(str(h.get('s'))),
          chunks: Number(str(h.get('n'))),
          received: Number(str(h.get('r'))),
          expires_at: Number(str(h.get('e'))),
        });
        break;
      }
      case 'blobc:': {
        const colon2 = id.lastIndexOf(':');
        add('blob_chunks', { blob_id: id.slice(0, colon2), idx: Number(id.slice(colon2 + 1)), data: blob(await cmd(['GET', key])) });
        break;
      }
      case 'blobto:':
        for (const m of await members(key)) add('blob_recipients', { blob_id: id, mailbox_id: m });
        break;
      case 'qb:':
        for (const m of await members(key)) add('queue_blobs', { queue_hash: id, blob_id: m });
        break;
      case 'blobexp':
        for (const [m, score] of await zset(key)) add('blob_expiries', { blob_id: m, expires_at: Number(score) });
        break;
      case 'blobuse':
        add('usage', { scope: 'blobs', messages: 0, bytes: Number(str(await cmd(['GET', key]))) });
        break;
      // Backups (relay/backups/redis-backups.ts): the same two tables as SQLite's.
      case 'bk:': {
        const h = await hash(key);
        add('backups', { backup_id: id, secret_hash: str(h.get('h')), account_id: str(h.get('a')) });
        break;
      }
      case 'bkd:':
        for (const [item, data] of await hash(key)) add('backup_items', { backup_id: id, item, data: blob(data) });
        break;
      case 'bks:':
        for (const [item, size] of await hash(key)) add('backup_sizes', { backup_id: id, item, size: Number(str(size)) });
        break;
      case 'abk:':
        for (const m of await members(key)) add('account_backups', { account_id: id, backup_id: m });
        break;
      case 'wm:':
        // Wake-up bus (relay/bus.ts): which instances have a socket for this mailbox right now.
        for (const m of await members(key)) add('wake_interest', { mailbox_id: id, instance: m });
        break;
      case 'wi:':
        add('wake_instances', { instance: id });
        break;
      default:
        add('unknown', { key, type: str(await cmd(['TYPE', key])), value: blob(await cmd(['DUMP', key])) });
    }
  }
  await client.close();
  return out;
}

const args = (globalThis as unknown as { Deno: DenoArgs }).Deno.args;
const first = args[0];
if (first === undefined) throw new Error('usage: dump.ts <data-dir> | dump.ts --store redis --redis-url <url> [--redis-prefix <p>]');
if (first.startsWith('--')) {
  const config = loadConfig({}, args);
  if (config.store !== 'redis') throw new Error('dump.ts: flags select a Redis store (--store redis --redis-url …)');
  console.log(JSON.stringify(await dumpRedis(config.redisUrl, config.redisPrefix)));
} else {
  console.log(JSON.stringify(dumpSqlite(first)));
}
