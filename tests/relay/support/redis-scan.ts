/**
 * Test probe shared by the Node tests and the Deno contract runner: does any
 * value stored under a key prefix contain these bytes? Every key is read by
 * its type (not DUMP, which may compress). `send` is a node-redis
 * `sendCommand` whose blob strings come back as Buffers.
 */
import { Buffer } from 'node:buffer';

/** Arrays, and HGETALL's field → value object, flattened to their byte strings. */
function flat(v: unknown): Uint8Array[] {
  if (Array.isArray(v)) return v.flatMap(flat);
  if (v instanceof Uint8Array) return [v];
  if (typeof v === 'object' && v !== null) return Object.values(v).flatMap(flat);
  return [];
}

const text = (v: unknown): string => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v));

export async function redisHolds(send: (args: string[]) => Promise<unknown>, prefix: string, needle: Uint8Array): Promise<boolean> {
  const probe = Buffer.from(needle);
  let cursor = '0';
  do {
    const r = (await send(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as unknown[];
    cursor = text(r[0]);
    for (const raw of (r[1] as unknown[]) ?? []) {
      const key = text(raw);
      const type = text(await send(['TYPE', key]));
      const read: Record<string, string[]> = {
        string: ['GET', key],
        hash: ['HGETALL', key],
        list: ['LRANGE', key, '0', '-1'],
        set: ['SMEMBERS', key],
        zset: ['ZRANGE', key, '0', '-1'],
      };
      const command = read[type];
      if (command === undefined) continue;
      if (flat(await send(command)).some((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).indexOf(probe) >= 0)) return true;
    }
  } while (cursor !== '0');
  return false;
}
