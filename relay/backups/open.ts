/**
 * Opens the backup store beside the message store the configuration names:
 * the same SQLite file (after the message store created its tables), or the
 * same Redis under the same prefix.
 */

import type { RelayConfig } from '../config.ts';
import { DB_FILE } from '../sqlite-store.ts';
import { RedisBackupStore } from './redis-backups.ts';
import { SqliteBackupStore } from './sqlite-backups.ts';
import type { BackupStore } from './store.ts';

export async function openBackupStore(
  config: Pick<RelayConfig, 'store' | 'dataDir' | 'redisUrl' | 'redisPrefix' | 'redisAofRewriteIntervalSeconds'>,
  log: (line: string) => void,
): Promise<BackupStore> {
  if (config.store === 'redis') {
    return RedisBackupStore.open({
      url: config.redisUrl,
      prefix: config.redisPrefix,
      aofRewriteIntervalSeconds: config.redisAofRewriteIntervalSeconds,
      log,
    });
  }
  return new SqliteBackupStore(`${config.dataDir.replace(/\/+$/, '')}/${DB_FILE}`);
}
