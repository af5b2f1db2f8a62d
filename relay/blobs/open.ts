/**
 * Opens the blob store beside the message store the configuration names: the
 * same SQLite file (after the message store created its tables), or the same
 * Redis under the same prefix.
 */

import type { RelayConfig } from '../config.ts';
import { DB_FILE } from '../sqlite-store.ts';
import { RedisBlobStore } from './redis-blobs.ts';
import { SqliteBlobStore } from './sqlite-blobs.ts';
import type { BlobStore } from './store.ts';

export async function openBlobStore(
  config: Pick<RelayConfig, 'store' | 'dataDir' | 'redisUrl' | 'redisPrefix' | 'redisAofRewriteIntervalSeconds'>,
  log: (line: string) => void,
): Promise<BlobStore> {
  if (config.store === 'redis') {
    return RedisBlobStore.open({
      url: config.redisUrl,
      prefix: config.redisPrefix,
      aofRewriteIntervalSeconds: config.redisAofRewriteIntervalSeconds,
      log,
    });
  }
  return new SqliteBlobStore(`${config.dataDir.replace(/\/+$/, '')}/${DB_FILE}`);
}
