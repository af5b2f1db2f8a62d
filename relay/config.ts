/**
 * Relay configuration: defaults, overridden by environment variables
 * (RELAY_*), overridden by command-line flags (--kebab-case value). Pure:
 * takes the env and argv as plain values so it runs and tests the same under
 * Deno and Node.
 */

import { BACKUP_MAX_ITEMS } from '../lib/protocol/relay-backups.ts';

export interface RelayConfig {
  host: string;
  /** 0 asks the OS for a free port. */
  port: number;
  /** Embedded SQLite in dataDir (default), or a shared Redis (several relay instances behind a load balancer). */
  store: 'sqlite' | 'redis';
  /** redis:// or rediss:// URL (may carry credentials: never logged); required with store redis. */
  redisUrl: string;
  /** Prefix of every Redis key, so one Redis can host several relays (a hash tag such as `{mc}:` suits Redis Cluster). */
  redisPrefix: string;
  /**
   * Redis store: at most one AOF rewrite (BGREWRITEAOF, which drops deleted
   * ciphertext from the append-only file) per this many seconds, and only after deletions.
   */
  redisAofRewriteIntervalSeconds: number;
  dataDir: string;
  /** WebAuthn relying-party ID; defaults to the host the relay listens on. */
  rpId: string;
  /** Further RP IDs accepted in ceremonies (e.g. an extension ID when the client uses its own origin). */
  extraRpIds: string[];
  rpName: string;
  /**
   * Origins accepted in WebAuthn ceremonies and for CORS, in addition to any
   * chrome-extension:// or moz-extension:// origin when `allowAnyExtension`.
   */
  origins: string[];
  allowAnyExtension: boolean;
  sessionTtlSeconds: number;
  ceremonyTtlSeconds: number;
  messageTtlSeconds: number;
  sweepIntervalSeconds: number;
  /** How often freed pages are flushed out of the WAL (deletion guarantee). */
  scrubIntervalMs: number;
  maxFrameBytes: number;
  maxMessageBytes: number;
  maxMessagesPerSecond: number;
  /** Consecutive rate-limited seconds before the socket is closed with 1008. */
  rateLimitStrikes: number;
  maxConnections: number;
  maxMailboxesPerConnection: number;
  tokenBatchMax: number;
  tokenDailyQuota: number;
  /** Web Workers checking spent tokens in parallel (0: on the main thread). */
  tokenWorkers: number;
  /** Issuance requests per account per rolling minute. */
  tokenIssueRequestsPerMinute: number;
  tokenKeyLifetimeSeconds: number;
  tokenKeyOverlapSeconds: number;
  keyPackagesMaxPerAccount: number;
  /** Key package claims per claiming account per rolling minute. */
  keyPackageClaimsPerMinute: number;
  keyPackageMaxBytes: number;
  maxMailboxesPerQueue: number;
  /** Queues one mailbox may be registered to at once (one mailbox cannot listen to the whole relay). */
  maxQueuesPerMailbox: number;
  /** Pending messages one queue (or one mailbox's Welcomes) may hold; a send above it is refused with `capacity`. */
  maxPendingMessagesPerQueue: number;
  /** Pending payload bytes one queue (or one mailbox's Welcomes) may hold. */
  maxPendingBytesPerQueue: number;
  /** Payload bytes of all stored messages together; a send above it is refused with `capacity`. */
  maxStoredBytes: number;
  /** WebAuthn ceremonies (started, not finished) kept at once; starting one more evicts the oldest. */
  maxPendingCeremonies: number;
  /** Output a WebSocket may have queued (bufferedAmount) before the relay closes it as a slow reader. */
  maxBufferedBytes: number;
  fetchBatchMax: number;
  /** Largest encrypted GroupInfo an invite may hold (it carries the ratchet tree). */
  inviteMaxBytes: number;
  /** Longest an invite may live. */
  inviteMaxTtlSeconds: number;
  /**
   * New invites per UTC day, all clients together. Each also costs a
   * sealed-sender token (so an account's share is bounded by its token quota);
   * with the byte cap and the longest TTL this bounds invite storage.
   */
  inviteUploadsPerDay: number;
  /** Bytes of new invite ciphertext per UTC day, all clients together. */
  inviteUploadBytesPerDay: number;
  /** How long a device-link code can be claimed after the new device opened its slot (relay/links.ts). */
  linkCodeTtlSeconds: number;
  /** How long a claimed link slot lives at most (the handover with history runs in it). */
  linkSessionTtlSeconds: number;
  /** Live link slots the relay keeps at once (all accounts together). */
  linkMaxSlots: number;
  /** Encrypted attachments (relay/blobs/): ciphertext bytes of one blob (25 MiB of file plus the encryption's overhead). */
  maxBlobBytes: number;
  /** Bytes of the blobs one queue holds at once. */
  maxBlobBytesPerQueue: number;
  /** Blobs one queue holds at once. */
  maxBlobsPerQueue: number;
  /** Bytes of every blob together. */
  maxBlobStoredBytes: number;
  /** Encrypted account backups (relay/backups/): ciphertext bytes of one backup item. */
  maxBackupItemBytes: number;
  /** Bytes of every backup item an account writes. */
  maxBackupBytesPerAccount: number;
  /** Backup items an account writes (at most BACKUP_MAX_ITEMS). */
  maxBackupItemsPerAccount: number;
  /**
   * Port of the separate Prometheus listener (`GET /metrics`); 0, the
   * default, serves no metrics. Off unless asked for: a second open port is
   * something an operator should choose, and the public port never serves them.
   */
  metricsPort: number;
  /** Address of the metrics listener; loopback unless the operator widens it. */
  metricsHost: string;
  /**
   * Wake-ups (Redis bus) not yet taken by Redis above which sends are refused
   * with `try_again`, so the bus cannot fall ever further behind the store.
   */
  busMaxBacklog: number;
}

export const DEFAULT_CONFIG: RelayConfig = {
  host: '127.0.0.1',
  port: 8787,
  dataDir: './relay-data',
  store: 'sqlite',
  redisUrl: '',
  redisPrefix: 'mc:',
  redisAofRewriteIntervalSeconds: 60,
  rpId: '',
  extraRpIds: [],
  rpName: 'MicroChat',
  origins: [],
  allowAnyExtension: true,
  sessionTtlSeconds: 30 * 24 * 3600,
  ceremonyTtlSeconds: 300,
  messageTtlSeconds: 30 * 24 * 3600,
  sweepIntervalSeconds: 600,
  scrubIntervalMs: 1000,
  maxFrameBytes: 16 * 1024,
  // Leaves room in one 16 KiB frame for base64 (4/3) plus the JSON and token around it.
  maxMessageBytes: 11 * 1024,
  maxMessagesPerSecond: 30,
  rateLimitStrikes: 3,
  maxConnections: 10_000,
  maxMailboxesPerConnection: 256,
  tokenBatchMax: 100,
  tokenDailyQuota: 5_000,
  tokenIssueRequestsPerMinute: 10,
  tokenWorkers: 1,
  tokenKeyLifetimeSeconds: 7 * 24 * 3600,
  tokenKeyOverlapSeconds: 2 * 24 * 3600,
  keyPackagesMaxPerAccount: 200,
  keyPackageClaimsPerMinute: 60,
  keyPackageMaxBytes: 8 * 1024,
  maxMailboxesPerQueue: 1_000,
  maxQueuesPerMailbox: 64,
  maxPendingMessagesPerQueue: 5_000,
  maxPendingBytesPerQueue: 32 * 1024 * 1024,
  maxStoredBytes: 2 * 1024 * 1024 * 1024,
  maxPendingCeremonies: 10_000,
  // Two full fetch pages (500 pushes of up to ~15 KiB each) on top of what the kernel buffers.
  maxBufferedBytes: 16 * 1024 * 1024,
  fetchBatchMax: 500,
  inviteMaxBytes: 512 * 1024,
  inviteMaxTtlSeconds: 30 * 24 * 3600,
  // At most 30 days × 256 MiB of live invite ciphertext.
  inviteUploadsPerDay: 20_000,
  inviteUploadBytesPerDay: 256 * 1024 * 1024,
  linkCodeTtlSeconds: 300,
  linkSessionTtlSeconds: 900,
  linkMaxSlots: 4_096,
  maxBlobBytes: 25 * 1024 * 1024 + 64 * 1024,
  maxBlobBytesPerQueue: 128 * 1024 * 1024,
  maxBlobsPerQueue: 64,
  maxBlobStoredBytes: 8 * 1024 * 1024 * 1024,
  maxBackupItemBytes: 4 * 1024 * 1024,
  maxBackupBytesPerAccount: 256 * 1024 * 1024,
  maxBackupItemsPerAccount: 2048,
  metricsPort: 0,
  metricsHost: '127.0.0.1',
  busMaxBacklog: 5_000,
};

type NumericKey = {
  [K in keyof RelayConfig]: RelayConfig[K] extends number ? K : never;
}[keyof RelayConfig];

const NUMERIC_KEYS: readonly NumericKey[] = [
  'port',
  'sessionTtlSeconds',
  'ceremonyTtlSeconds',
  'messageTtlSeconds',
  'sweepIntervalSeconds',
  'scrubIntervalMs',
  'maxFrameBytes',
  'maxMessageBytes',
  'maxMessagesPerSecond',
  'rateLimitStrikes',
  'maxConnections',
  'maxMailboxesPerConnection',
  'tokenBatchMax',
  'tokenDailyQuota',
  'tokenIssueRequestsPerMinute',
  'tokenWorkers',
  'tokenKeyLifetimeSeconds',
  'tokenKeyOverlapSeconds',
  'keyPackagesMaxPerAccount',
  'keyPackageClaimsPerMinute',
  'keyPackageMaxBytes',
  'maxMailboxesPerQueue',
  'maxQueuesPerMailbox',
  'maxPendingMessagesPerQueue',
  'maxPendingBytesPerQueue',
  'maxStoredBytes',
  'maxPendingCeremonies',
  'maxBufferedBytes',
  'fetchBatchMax',
  'inviteMaxBytes',
  'inviteMaxTtlSeconds',
  'inviteUploadsPerDay',
  'inviteUploadBytesPerDay',
  'redisAofRewriteIntervalSeconds',
  'linkCodeTtlSeconds',
  'linkSessionTtlSeconds',
  'linkMaxSlots',
  'maxBlobBytes',
  'maxBlobBytesPerQueue',
  'maxBlobsPerQueue',
  'maxBlobStoredBytes',
  'maxBackupItemBytes',
  'maxBackupBytesPerAccount',
  'maxBackupItemsPerAccount',
  'metricsPort',
  'busMaxBacklog',
];

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const envName = (key: string): string => 'RELAY_' + kebab(key).replace(/-/g, '_').toUpperCase();

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function parseNumber(key: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n)) {
    throw new ConfigError(`${key}: expected a non-negative integer, got "${raw}"`);
  }
  return n;
}

function parseStore(raw: string): RelayConfig['store'] {
  if (raw === 'sqlite' || raw === 'redis') return raw;
  throw new ConfigError(`store: expected sqlite or redis, got "${raw}"`);
}

/** Checks a Redis URL without ever echoing it (it may carry a password). */
function parseRedisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('redisUrl: not a URL (expected redis://host:port or rediss://host:port)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('redisUrl: the scheme must be redis:// or rediss://');
  }
  if (url.hostname === '') throw new ConfigError('redisUrl: missing host');
  if (url.search !== '' || url.hash !== '') throw new ConfigError('redisUrl: no query or fragment allowed');
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d{1,2}$/.test(url.pathname)) {
    throw new ConfigError('redisUrl: the path may only be a database number');
  }
  return raw;
}

function parseRedisPrefix(raw: string): string {
  // Printable ASCII without spaces: it becomes part of every key and of the pub/sub channel names.
  if (!/^[\x21-\x7e]{1,64}$/.test(raw)) throw new ConfigError('redisPrefix: 1 to 64 printable ASCII characters, no spaces');
  return raw;
}

function parseBool(key: string, raw: string): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${key}: expected true or false, got "${raw}"`);
}

/**
 * Build the configuration. Flags: `--port 0`, `--data-dir ./x`,
 * `--origin chrome-extension://abc` (repeatable), `--host`, `--rp-id`, and
 * every numeric setting in kebab case (`--message-ttl-seconds 60`).
 * Env: RELAY_PORT, RELAY_DATA_DIR, RELAY_ORIGINS (comma-separated), ...
 */
export function loadConfig(env: Record<string, string | undefined>, argv: readonly string[]): RelayConfig {
  const config: RelayConfig = { ...DEFAULT_CONFIG, origins: [], extraRpIds: [] };
  const set = (key: string, raw: string, fromFlag: boolean): void => {
    switch (key) {
      case 'host':
      case 'metricsHost':
      case 'dataDir':
      case 'rpId':
      case 'rpName':
        config[key] = raw;
        return;
      case 'extraRpIds': {
        config.extraRpIds = raw.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
        return;
      }
      case 'origins':
      case 'origin': {
        const list = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
        config.origins = fromFlag ? [...config.origins, ...list] : list;
        return;
      }
      case 'allowAnyExtension':
        config.allowAnyExtension = parseBool(key, raw);
        return;
      case 'store':
        config.store = parseStore(raw);
        return;
      case 'redisUrl':
        config.redisUrl = parseRedisUrl(raw);
        return;
      case 'redisPrefix':
        config.redisPrefix = parseRedisPrefix(raw);
        return;
      default:
        if ((NUMERIC_KEYS as readonly string[]).includes(key)) {
          config[key as NumericKey] = parseNumber(key, raw);
          return;
        }
        throw new ConfigError(`unknown setting "${key}"`);
    }
  };

  for (const key of [...NUMERIC_KEYS, 'host', 'metricsHost', 'dataDir', 'rpId', 'rpName', 'origins', 'extraRpIds', 'allowAnyExtension', 'store', 'redisUrl', 'redisPrefix']) {
    const raw = env[envName(key)];
    if (raw !== undefined && raw !== '') set(key, raw, false);
  }

  let flagOrigins = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`flag --${name} needs a value`);
    const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if ((key === 'origin' || key === 'origins') && !flagOrigins) {
      // Flags replace env origins rather than adding to them.
      config.origins = [];
      flagOrigins = true;
    }
    set(key, value, true);
    value = undefined;
  }

  if (config.rpId === '') {
    const local = ['127.0.0.1', '::1', '0.0.0.0', '::'].includes(config.host);
    config.rpId = local ? 'localhost' : config.host;
  }
  if (config.port > 65535) throw new ConfigError('port: must be at most 65535');
  if (config.metricsPort > 65535) throw new ConfigError('metricsPort: must be at most 65535');
  if (config.metricsPort !== 0 && config.metricsPort === config.port) throw new ConfigError('metricsPort: must differ from the public port');
  if (config.store === 'redis' && config.redisUrl === '') throw new ConfigError('store redis needs redisUrl (--redis-url)');
  if (config.store === 'sqlite' && config.redisUrl !== '') {
    throw new ConfigError('redisUrl is set but store is sqlite (add --store redis)');
  }
  if (Math.ceil((config.maxMessageBytes * 4) / 3) + 1024 > config.maxFrameBytes) {
    throw new ConfigError('maxMessageBytes must fit one frame in base64 with 1 KiB to spare');
  }
  // A client reads at most BACKUP_MAX_ITEMS items of a backup (lib/protocol/relay-backups.ts).
  if (config.maxBackupItemsPerAccount > BACKUP_MAX_ITEMS) throw new ConfigError(`maxBackupItemsPerAccount: at most ${BACKUP_MAX_ITEMS}`);
  return config;
}
