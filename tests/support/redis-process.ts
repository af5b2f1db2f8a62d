/**
 * Starts a private redis-server (Debian's /usr/bin/redis-server, or
 * REDIS_SERVER) for a test: a free loopback port (never 6379), a temporary
 * directory for its AOF/RDB files, no RDB snapshots, AOF on or off. Tests
 * own the server: stop() it in afterAll, and nothing is left running.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface StartRedisOptions {
  /** appendonly yes (fsync everysec) so a restart keeps what was written; default false. */
  appendOnly?: boolean;
  /** Use this directory (kept after stop()) instead of a fresh temporary one (removed by stop()). */
  dir?: string;
  /** Forward the server's output to this process's stderr (default: only when REDIS_DEBUG is set). */
  verbose?: boolean;
}

export interface RedisProcess {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Where the AOF (appendonlydir/) and any RDB live. */
  readonly dir: string;
  readonly process: ChildProcess;
  /** Graceful stop (SIGTERM: Redis flushes its AOF), then SIGKILL after 5 s; removes its own temp dir. */
  stop(): Promise<void>;
  /** Abrupt kill -9; keeps the dir. */
  kill9(): Promise<void>;
  /** Start again on the same port and dir (after kill9() or a stop without removal); resolves once it has loaded its AOF. */
  restart(): Promise<void>;
}

/** Whether redis-server is installed here (tests that need it fail loudly otherwise, they are not skipped). */
export function redisAvailable(): boolean {
  return existsSync(REDIS_SERVER);
}

/** A port the OS reports free on 127.0.0.1 right now (and never 6379). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr !== null ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port !== 6379 && port !== 0) return port;
  }
}

/**
 * Whether OUR server answers on the port, done loading: asks INFO over a raw
 * socket and checks the process id (another test's server could have taken a
 * port that looked free) and `loading:0` (a restarted server reads its AOF first).
 */
function ready(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    let buf = '';
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => s.write('INFO server persistence\r\n'));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.startsWith('-')) return done(false);
      const m = /^\$(\d+)\r\n/.exec(buf);
      if (m === null || buf.length < m[0].length + Number(m[1])) return;
      done(buf.includes(`\r\nprocess_id:${pid}\r\n`) && buf.includes('\r\nloading:0\r\n'));
    });
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

function spawnServer(port: number, dir: string, opts: StartRedisOptions, log: string[]): ChildProcess {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', opts.appendOnly === true ? 'yes' : 'no',
    '--appendfsync', 'everysec',
    // Uncompressed RDB (also the AOF's preamble after a rewrite), so tests can search the files byte for byte.
    '--rdbcompression', 'no',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--loglevel', 'warning',
  ];
  const child = spawn(REDIS_SERVER, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const verbose = opts.verbose ?? process.env.REDIS_DEBUG !== undefined;
  const onData = (chunk: Buffer): void => {
    log.push(chunk.toString('utf8'));
    if (verbose) process.stderr.write(chunk);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return child;
}

async function waitReady(child: ChildProcess, port: number, log: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before ready:\n${log.join('')}`);
    }
    if (await ready(port, child.pid)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server not ready on ${port}:\n${log.join('')}`);
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisProcess> {
  if (!redisAvailable()) throw new Error(`${REDIS_SERVER} not found (.ci/run installs redis-server from Debian)`);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'microchat-redis-'));
  const log: string[] = [];
  let port = 0;
  let child: ChildProcess | undefined;
  // A port free a moment ago may be taken by the time redis binds it: retry with another.
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = await freePort();
    const c = spawnServer(port, dir, opts, log);
    try {
      await waitReady(c, port, log);
      child = c;
    } catch (err) {
      c.kill('SIGKILL');
      await waitExit(c);
      if (attempt === 4) {
        if (ownDir) rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let current = child as ChildProcess;

  const stopChild = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    if (current.exitCode !== null || current.signalCode !== null) return;
    const exited = waitExit(current);
    current.kill(signal);
    const timer = setTimeout(() => current.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get process() {
      return current;
    },
    async stop() {
      await stopChild('SIGTERM');
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    async kill9() {
      await stopChild('SIGKILL');
    },
    async restart() {
      await stopChild('SIGTERM');
      let lastErr: unknown;
      for (let attempt = 0; attempt < 10; attempt++) {
        const c = spawnServer(port, dir, opts, log);
        try {
          await waitReady(c, port, log);
          current = c;
          return;
        } catch (err) {
          lastErr = err;
          c.kill('SIGKILL');
          await waitExit(c);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      throw lastErr;
    },
  };
}
