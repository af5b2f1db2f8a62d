/**
 * Opens the store the configuration asks for: the embedded SQLite file in the
 * data directory (default), or a shared Redis (`--store redis`). Kept apart
 * from main.ts so tools (dump.ts, benchmarks) open stores the same way.
 */

import type { RelayConfig } from './config.ts';
import { RedisStore } from './redis-store.ts';
import { DB_FILE, SqliteStore } from './sqlite-store.ts';
import type { RelayStore } from './store.ts';

export async function openStore(
  config: Pick<RelayConfig, 'store' | 'dataDir' | 'redisUrl' | 'redisPrefix' | 'redisAofRewriteIntervalSeconds'>,
  log: (line: string) => void,
  mkdir: (path: string) => void,
): Promise<RelayStore> {
  if (config.store === 'redis') {
    return RedisStore.open({
      url: config.redisUrl,
      prefix: config.redisPrefix,
      aofRewriteIntervalSeconds: config.redisAofRewriteIntervalSeconds,
      log,
    });
  }
  mkdir(config.dataDir);
  return new SqliteStore(`${config.dataDir.replace(/\/+$/, '')}/${DB_FILE}`);
}
