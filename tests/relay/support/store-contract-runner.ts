/**
 * Runs the store contract (store-contract-cases.ts) under Deno against one
 * store kind, each case on fresh data with two store instances:
 *
 *   deno run -A store-contract-runner.ts --store sqlite --dir <tmp>
 *   deno run -A store-contract-runner.ts --store redis --redis-url redis://127.0.0.1:<port>
 *
 * Prints one JSON line per case: {"name", "ok", "error"?}.
 */

import { Buffer } from 'node:buffer';
import { DatabaseSync } from 'node:sqlite';
import { createClient, RESP_TYPES } from 'redis';
import { RedisStore } from '../../../relay/redis-store.ts';
import { SqliteStore } from '../../../relay/sqlite-store.ts';
import { CASES, prepare, type ContractContext } from './store-contract-cases.ts';
import { redisHolds } from './redis-scan.ts';

const argv = (globalThis as unknown as { Deno: { args: string[] } }).Deno.args;
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const kind = flag('store');
const only = flag('case');

async function sqliteContext(dir: string, n: number): Promise<{ ctx: ContractContext; close: () => Promise<void> }> {
  const path = `${dir}/contract-${n}.db`;
  const a = new SqliteStore(path);
  const b = new SqliteStore(path);
  const probe = new DatabaseSync(path);
  const rows = probe.prepare('SELECT COUNT(*) AS n FROM messages');
  const q = probe.prepare(
    'SELECT 1 FROM messages WHERE payload = ? UNION ALL SELECT 1 FROM invites WHERE ciphertext = ? UNION ALL SELECT 1 FROM key_packages WHERE data = ? ' +
      'UNION ALL SELECT 1 FROM credentials WHERE public_key = ?',
  );
  return {
    ctx: {
      kind: 'sqlite',
      a,
      b,
      holds: async (bytes) => q.all(bytes, bytes, bytes, bytes).length > 0,
      leftovers: async () => Number(rows.get()?.n ?? 0),
    },
    close: async () => {
      probe.close();
      await a.close();
      await b.close();
    },
  };
}

async function redisContext(url: string, n: number): Promise<{ ctx: ContractContext; close: () => Promise<void> }> {
  const prefix = `contract${n}-${Date.now()}:`;
  const open = (): Promise<RedisStore> => RedisStore.open({ url, prefix, aofRewriteIntervalSeconds: 0, log: () => {} });
  const a = await open();
  const b = await open();
  const probe = createClient({ url, commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } });
  await probe.connect();
  const cmd = (args: string[]): Promise<unknown> => probe.sendCommand(args);
  const holds = (bytes: Uint8Array): Promise<boolean> => redisHolds(cmd, prefix, bytes);
  /** Message payloads, recipient sets, inboxes, queue message sets, and the expiry index. */
  const leftovers = async (): Promise<number> => {
    let n = Number(await cmd(['ZCARD', `${prefix}exp`]));
    for (const kind of ['msg:', 'to:', 'inbox:', 'qm:']) {
      let cursor = '0';
      do {
        const r = (await cmd(['SCAN', cursor, 'MATCH', `${prefix}${kind}*`, 'COUNT', '1000'])) as unknown[];
        cursor = String(r[0]);
        n += ((r[1] as unknown[]) ?? []).length;
      } while (cursor !== '0');
    }
    return n;
  };
  return {
    ctx: { kind: 'redis', a, b, holds, leftovers },
    close: async () => {
      await probe.close();
      await a.close();
      await b.close();
    },
  };
}

let n = 0;
for (const [name, run] of Object.entries(CASES)) {
  if (only !== undefined && name !== only) continue;
  n++;
  const { ctx, close } =
    kind === 'sqlite' ? await sqliteContext(flag('dir') ?? '.', n) : await redisContext(flag('redis-url') ?? '', n);
  try {
    await prepare(ctx.a);
    await run(ctx);
    console.log(JSON.stringify({ name, ok: true }));
  } catch (err) {
    console.log(JSON.stringify({ name, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }));
  } finally {
    await close();
  }
}
