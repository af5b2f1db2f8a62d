/**
 * Deno entry for the relay: read configuration from env and flags, open the
 * store, serve the web-standard core with Deno.serve, and print one ready line
 * on stdout once listening. Everything else lives in the core (app.ts).
 *
 *   deno run --allow-net --allow-read --allow-write --allow-env relay/main.ts \
 *     --host 127.0.0.1 --port 0 --data-dir ./relay-data
 *   (or, for several instances sharing one Redis: --store redis --redis-url redis://host:6379)
 */

import { createRelay } from './app.ts';
import { openWakeBus } from './bus.ts';
import { ConfigError, loadConfig } from './config.ts';
import type { RelayStore } from './store.ts';
import { openStore } from './store-factory.ts';
import { openBlobStore } from './blobs/open.ts';
import type { BlobStore } from './blobs/store.ts';
import { openBackupStore } from './backups/open.ts';
import type { BackupStore } from './backups/store.ts';

/** The small part of the Deno namespace this entry uses (the repo type-checks with tsc, not deno). */
interface DenoApi {
  args: string[];
  env: { toObject(): Record<string, string> };
  exit(code: number): never;
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  mkdirSync(path: string, options: { recursive: boolean }): void;
  writeTextFileSync(path: string, data: string, options: { append: boolean }): void;
  serve(
    options: {
      hostname: string;
      port: number;
      onListen: (addr: { hostname: string; port: number }) => void;
      onError?: (error: unknown) => Response;
    },
    handler: (req: Request, info: { remoteAddr: { port: number } }) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
  upgradeWebSocket(req: Request, options?: { idleTimeout?: number }): { socket: WebSocket; response: Response };
}

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const log = (line: string): void => console.error(`[relay] ${line}`);

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(Deno.env.toObject(), Deno.args);
  } catch (err) {
    if (err instanceof ConfigError) {
      log(`configuration error: ${err.message}`);
      Deno.exit(2);
    }
    throw err;
  }
  let store: RelayStore;
  try {
    store = await openStore(config, log, (dir) => Deno.mkdirSync(dir, { recursive: true }));
  } catch (err) {
    // Never echo the Redis URL: it may carry a password.
    log(`cannot open the ${config.store} store: ${err instanceof Error ? err.message.slice(0, 200) : typeof err}`);
    return Deno.exit(1);
  }
  let blobs: BlobStore;
  try {
    blobs = await openBlobStore(config, log);
  } catch (err) {
    log(`cannot open the ${config.store} blob store: ${err instanceof Error ? err.message.slice(0, 200) : typeof err}`);
    await store.close();
    return Deno.exit(1);
  }
  let backups: BackupStore;
  try {
    backups = await openBackupStore(config, log);
  } catch (err) {
    log(`cannot open the ${config.store} backup store: ${err instanceof Error ? err.message.slice(0, 200) : typeof err}`);
    await blobs.close();
    await store.close();
    return Deno.exit(1);
  }
  // Test-only switches (never set in production; each says so on stderr when on):
  //   MICROCHAT_TEST_AUDIT_FILE=path        one line per request or frame: "<connection> <op kind>"
  //                                         (the connection is named by its client port; no address, no data)
  //   MICROCHAT_TEST_PARTITION_TOKEN_KEYS=1 behave like a relay that gives every account its own token key
  const env = Deno.env.toObject();
  const auditFile = env.MICROCHAT_TEST_AUDIT_FILE;
  const partitionTokenKeys = env.MICROCHAT_TEST_PARTITION_TOKEN_KEYS === '1';
  if (auditFile !== undefined && auditFile !== '') log('TEST MODE: writing a connection audit');
  if (partitionTokenKeys) log('TEST MODE: a separate token key per account (dishonest relay)');
  const audit =
    auditFile === undefined || auditFile === ''
      ? undefined
      : (connection: string, op: string): void => Deno.writeTextFileSync(auditFile, `${connection} ${op}\n`, { append: true });
  // With a shared Redis, instances wake each other's subscribers through it; alone, in process.
  const relay = createRelay({
    config,
    store,
    log,
    bus: openWakeBus(config, log),
    ...(audit === undefined ? {} : { audit }),
    partitionTokenKeys,
    blobs,
    backups,
  });
  await relay.start();
  const upgrade = (req: Request) => Deno.upgradeWebSocket(req, { idleTimeout: 60 });
  const server = Deno.serve(
    {
      hostname: config.host,
      port: config.port,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(':') ? `[${hostname}]` : hostname;
        console.log(`MicroChat relay listening on http://${host}:${port}`);
      },
      onError: () => new Response('internal error', { status: 500 }),
    },
    (req, info) => relay.fetch(req, upgrade, audit === undefined ? undefined : `c${info.remoteAddr.port}`),
  );

  // Metrics on their own listener (loopback by default), only when a port is given: the
  // public port never answers /metrics, so exposing them is always the operator's choice.
  const metricsServer =
    config.metricsPort === 0
      ? undefined
      : Deno.serve(
          {
            hostname: config.metricsHost,
            port: config.metricsPort,
            onListen: ({ hostname, port }) => log(`metrics on http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}/metrics`),
            onError: () => new Response('internal error', { status: 500 }),
          },
          (req) =>
            new URL(req.url).pathname === '/metrics' && req.method === 'GET'
              ? new Response(relay.metrics(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } })
              : new Response('not found', { status: 404 }),
        );

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    relay.closeConnections();
    void Promise.all([server.shutdown(), metricsServer?.shutdown()])
      .then(() => relay.close())
      .finally(() => Deno.exit(0));
  };
  Deno.addSignalListener('SIGINT', stop);
  Deno.addSignalListener('SIGTERM', stop);
  await server.finished;
}

await main();
