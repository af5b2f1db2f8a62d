/**
 * Starts the real relay (relay/main.ts under the repo's Deno from node_modules)
 * as a child process on a free loopback port with a temporary data directory,
 * for integration and e2e tests. No mocks: tests talk HTTP/WebSocket to it.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { denoExecutable } from '../../scripts/deno-executable.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DENO = denoExecutable(REPO_ROOT);
const ENTRY = join(REPO_ROOT, 'relay', 'main.ts');
const READY = /^MicroChat relay listening on (http:\/\/\S+?):(\d+)\s*$/m;

export interface StartRelayOptions {
  /** Extra flags, e.g. `['--message-ttl-seconds', '2']`. */
  args?: string[];
  /** Extra environment variables for the relay process. */
  env?: Record<string, string>;
  /** Use this data directory instead of a fresh temporary one (it is then never removed). */
  dataDir?: string;
  /** Keep the temporary data directory after stop(). */
  keepDataDir?: boolean;
  /** Fail if the relay is not ready within this many ms (default 30 s). */
  readyTimeoutMs?: number;
  /** Forward the relay's stderr to this process's stderr (default: only when RELAY_DEBUG is set). */
  verbose?: boolean;
  /**
   * Keep everything in this Redis instead of the embedded SQLite store
   * (`--store redis --redis-url … --redis-prefix …`); the data dir then stays empty.
   */
  store?: RedisStoreOption;
  /** Deno flags before the entry point, e.g. `['--inspect=127.0.0.1:9229']` for a CPU profile (benchmarks). */
  runtimeArgs?: string[];
}

export interface RedisStoreOption {
  redisUrl: string;
  /** Key prefix (default `mc:`); give each test its own so one Redis can host several. */
  prefix?: string;
}

/** The relay flags selecting a Redis store. */
export function redisStoreArgs(store: RedisStoreOption): string[] {
  return ['--store', 'redis', '--redis-url', store.redisUrl, ...(store.prefix === undefined ? [] : ['--redis-prefix', store.prefix])];
}

export interface RelayProcess {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The current child process (replaced by restart()). */
  readonly process: ChildProcess;
  /** Everything the relay wrote to stderr so far (operational log). */
  readonly stderr: () => string;
  /** Graceful stop (SIGTERM, then SIGKILL after 5 s); removes the temp data dir unless kept. */
  stop(): Promise<void>;
  /** Abrupt kill -9, for crash tests. Does not remove the data dir. */
  kill9(): void;
  /** Start again on the same port and data dir (after stop() without removal, halt() or kill9()). */
  restart(): Promise<void>;
  /** Graceful stop that keeps the data dir and the port for restart(): an outage, not the end. */
  halt(): Promise<void>;
}

interface Spawned {
  child: ChildProcess;
  port: number;
  url: string;
}

function spawnRelay(port: number, dataDir: string, opts: StartRelayOptions, log: string[]): Promise<Spawned> {
  const args = [
    'run',
    '--quiet',
    '--allow-net',
    '--allow-read',
    '--allow-write',
    '--allow-env',
    ...(opts.runtimeArgs ?? []),
    ENTRY,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    ...(opts.store === undefined ? [] : redisStoreArgs(opts.store)),
    ...(opts.args ?? []),
  ];
  const child = spawn(DENO, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const verbose = opts.verbose ?? process.env.RELAY_DEBUG !== undefined;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    log.push(chunk);
    if (verbose) process.stderr.write(chunk);
  });
  return new Promise<Spawned>((resolvePromise, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay not ready after ${opts.readyTimeoutMs ?? 30_000} ms; stderr:\n${log.join('')}`));
    }, opts.readyTimeoutMs ?? 30_000);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code} before ready; stderr:\n${log.join('')}`));
    };
    child.once('exit', onExit);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      const m = READY.exec(stdout);
      if (m !== null && m[1] !== undefined && m[2] !== undefined) {
        clearTimeout(timer);
        child.off('exit', onExit);
        const actualPort = Number(m[2]);
        resolvePromise({ child, port: actualPort, url: `${m[1]}:${actualPort}` });
      }
    });
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

export async function startRelay(opts: StartRelayOptions = {}): Promise<RelayProcess> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'microchat-relay-'));
  const log: string[] = [];
  let current = await spawnRelay(0, dataDir, opts, log);
  const port = current.port;

  const stopChild = async (): Promise<void> => {
    const child = current.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = waitExit(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    get url() {
      return current.url;
    },
    port,
    dataDir,
    get process() {
      return current.child;
    },
    stderr: () => log.join(''),
    async stop() {
      await stopChild();
      if (ownDir && opts.keepDataDir !== true) rmSync(dataDir, { recursive: true, force: true });
    },
    kill9() {
      current.child.kill('SIGKILL');
    },
    async halt() {
      await stopChild();
    },
    async restart() {
      await stopChild();
      await waitExit(current.child);
      // The port may linger briefly after a crash; retry a few times.
      let lastErr: unknown;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          current = await spawnRelay(port, dataDir, opts, log);
          return;
        } catch (err) {
          lastErr = err;
          await new Promise((r) => setTimeout(r, 300));
        }
      }
      throw lastErr;
    },
  };
}

/**
 * The relay's whole database as JSON via relay/dump.ts under Deno: for SQLite
 * table → rows (blobs as {hex}); for a Redis store (pass `store`) the same
 * shape with one "table" per kind of key (see dump.ts).
 */
export async function dumpRelayDatabase(
  dataDir: string,
  store?: RedisStoreOption,
): Promise<Record<string, Record<string, unknown>[]>> {
  const target = store === undefined ? [dataDir] : redisStoreArgs(store);
  const child = spawn(DENO, ['run', '--quiet', '--allow-read', '--allow-write', '--allow-net', '--allow-env', join(REPO_ROOT, 'relay', 'dump.ts'), ...target], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`dump failed (${code}): ${err}`);
  return JSON.parse(out) as Record<string, Record<string, unknown>[]>;
}
