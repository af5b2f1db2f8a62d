/**
 * Relay benchmark (`npm run bench:relay`): our relay (persistence and token
 * checks on) against a bare `ws` broadcast server, with the same clients:
 * 50 WebSocket connections, 10 of them sending 1 KiB messages, every message
 * delivered to all 50. Reports deliveries/s, p50/p99 latency, the ratios to
 * the baseline, server CPU time per message and memory per idle connection;
 * writes bench-results/relay.json. For context it also runs the same bare
 * broadcast on Deno's own WebSocket server (bench/deno-broadcast.ts): the
 * floor of the runtime the relay runs on.
 *
 * The servers run as separate processes and are measured in interleaved
 * rounds (BENCH_ROUNDS, default 3; BENCH_MESSAGES per round, default 2000;
 * BENCH_WINDOW sends in flight per sender, default 8; BENCH_IDLE_CONNECTIONS
 * for the memory figure, default 2000; BENCH_RESULTS_DIR, default bench-results);
 * ratios are medians over back-to-back rounds, since this machine is shared.
 * Run with tsx. `tsx bench/relay.ts --baseline-server` is the baseline server
 * itself. `npm run bench:relay -- --store redis --instances 2` runs the same
 * workload on 2 relays sharing one private Redis, side by side with the
 * embedded store and the baseline, into bench-results/relay-redis.json, with
 * each round's slowest delivery, the deliveries later than 2 s, and the bus
 * lag p50/p99 of each round (issue #23's targets and verdicts included).
 * BENCH_PROFILE=1 (embedded run) adds a CPU profile of the relay's main
 * thread over the last round (bench/relay-profile.ts, relay-profile.json).
 * Tokens are issued with the bench's cheap blinding (bench/relay-tokens.ts);
 * every send is verified and spent in full.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webcrypto } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { createServer } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startRelay } from '../tests/support/relay-process.ts';
import { startRedis } from '../tests/support/redis-process.ts';
import { denoExecutable } from '../scripts/deno-executable.ts';
import { RelayClient, capFor, randomQueue, type Mailbox } from '../tests/relay/support/client.ts';
import { RelayProfiler } from './relay-profile.ts';
import { benchTokens } from './relay-tokens.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONNECTIONS = 50;
const SENDERS = 10;
const PAYLOAD_BYTES = 1024;
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 8); // in-flight sends per sender
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 2000);
const RESULTS_DIR = resolve(process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench-results'));

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) * 1024;
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((res, rej) => {
    ws.once('open', () => res(ws));
    ws.once('error', rej);
  });
}

/** CPU time (user + system) in ms from a /proc `stat` file: of a process (all threads) or of one thread; 100 ticks/s. */
function cpuMsOfStat(path: string): number {
  const fields = readFileSync(path, 'utf8').replace(/^.*\) /s, '').split(' ');
  // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time (user + system, all threads) a process has used so far, in ms; Linux /proc. */
function cpuMsOf(pid: number): number {
  return cpuMsOfStat(`/proc/${pid}/stat`);
}

/**
 * CPU time per thread group of a Deno process, in ms: its main thread (the
 * JavaScript event loop), its Web Workers (the token checks) and the rest
 * (runtime and GC helper threads). Linux /proc, 100 ticks/s.
 */
function threadCpuMsOf(pid: number): { main: number; workers: number } {
  const out = { main: 0, workers: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ms = cpuMsOfStat(`/proc/${pid}/task/${tid}/stat`);
      if (tid === String(pid)) out.main += ms;
      else if (comm.startsWith('worker')) out.workers += ms;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Median of a few RSS samples, to smooth out GC and allocator noise. */
async function settledRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssOf(pid));
    await new Promise((r) => setTimeout(r, 200));
  }
  return samples.sort((a, b) => a - b)[2]!;
}

async function idleMemory(pid: number, url: string): Promise<number> {
  const before = await settledRss(pid);
  const idle: WebSocket[] = [];
  for (let i = 0; i < IDLE_CONNECTIONS; i++) {
    const ws = await open(url);
    idle.push(ws);
  }
  const after = await settledRss(pid);
  for (const ws of idle) ws.close();
  await new Promise((r) => setTimeout(r, 500));
  return Math.max(0, Math.round((after - before) / IDLE_CONNECTIONS));
}

/**
 * Drive one run. `frame(i, sentAt)` builds sender frame number i; `onFrame`
 * parses what a client receives and returns the send timestamp when it is a
 * delivery. Flow control: each sender keeps WINDOW sends in flight, a send
 * completing when its own copy comes back (baseline) or its `sent` answer
 * arrives (relay).
 */
async function drive(
  sockets: WebSocket[],
  frame: (i: number, sentAt: number, sender: number) => string,
  parse: (data: string, socketIndex: number) => { deliveredAt?: number; sentDone?: boolean },
): Promise<{ latencies: number[]; seconds: number; clientCpuMsPerMessage: number }> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  let delivered = 0;
  const expected = MESSAGES * CONNECTIONS;
  let next = 0;
  const start = performance.now();
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const inflight = new Array<number>(SENDERS).fill(0);
  const pump = (s: number): void => {
    while (inflight[s]! < WINDOW && next < MESSAGES) {
      inflight[s]!++;
      sockets[s]!.send(frame(next++, performance.now(), s));
    }
  };
  sockets.forEach((ws, idx) => {
    ws.on('message', (data) => {
      const r = parse(String(data), idx);
      if (r.deliveredAt !== undefined) {
        latencies.push(performance.now() - r.deliveredAt);
        if (++delivered === expected) resolveDone();
      }
      if (r.sentDone === true && idx < SENDERS) {
        inflight[idx]!--;
        pump(idx);
      }
    });
  });
  for (let s = 0; s < SENDERS; s++) pump(s);
  const timeout = setTimeout(() => resolveDone(), 120_000);
  await done;
  clearTimeout(timeout);
  const seconds = (performance.now() - start) / 1000;
  if (delivered < expected) console.warn(`only ${delivered}/${expected} deliveries before timeout`);
  const cpu = process.cpuUsage(cpuBefore);
  const clientCpuMsPerMessage = Number(((cpu.user + cpu.system) / 1000 / MESSAGES).toFixed(3));
  return { latencies, seconds, clientCpuMsPerMessage };
}

interface Round {
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  deliveries: number;
  seconds: number;
  /** The slowest delivery of the round, ms. */
  maxMs: number;
  /** Deliveries that took longer than LATE_MS (the bound for a stalled delivery). */
  lateDeliveries: number;
  /**
   * Server CPU time per message sent (all its threads, token workers
   * included; on Redis, the redis-server's too), in ms: what the server costs, independent of how busy the
   * shared machine was. Set by the caller after summarize().
   */
  serverCpuMsPerMessage?: number;
  /**
   * This process's CPU time per message while it drives the round: the 50
   * clients (parsing every delivery, and for the relay its acknowledgements).
   * They share the machine's cores with the server, so on a saturated
   * machine deliveries/s follow server + client CPU per message.
   */
  clientCpuMsPerMessage: number;
  /** Of that, the relay's main thread and its token-check workers (one relay process only). */
  mainThreadCpuMsPerMessage?: number;
  workerCpuMsPerMessage?: number;
  /**
   * Several instances only: latency of deliveries to a socket on the
   * sender's instance (pushed directly) and on another one (through the
   * Redis wake-up bus).
   */
  split?: { localP50Ms: number; localP99Ms: number; remoteP50Ms: number; remoteP99Ms: number };
  /**
   * Several instances only: the wake-up bus's own lag in this round (publish
   * on one instance to receipt on another), from the relays'
   * `microchat_relay_bus_lag_seconds` histograms scraped before and after the
   * round; p50/p99 interpolated within the histogram's buckets.
   */
  bus?: { wakeUps: number; p50Ms: number; p99Ms: number };
}

/** A delivery later than this is a stall (issue #23: no delivery later than 2 s). */
const LATE_MS = 2000;

function summarize({ latencies, seconds, clientCpuMsPerMessage }: Awaited<ReturnType<typeof drive>>): Round {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    clientCpuMsPerMessage,
    deliveriesPerSecond: Math.round(latencies.length / seconds),
    p50Ms: Number(percentile(sorted, 50).toFixed(2)),
    p99Ms: Number(percentile(sorted, 99).toFixed(2)),
    deliveries: latencies.length,
    seconds: Number(seconds.toFixed(2)),
    maxMs: Number((sorted[sorted.length - 1] ?? NaN).toFixed(2)),
    lateDeliveries: sorted.length - lowerBound(sorted, LATE_MS + Number.EPSILON),
  };
}

/** Index of the first element ≥ x in an ascending array. */
function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A free loopback port (for a relay's metrics listener). */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
      server.close(() => res(port));
    });
  });
}

/** Cumulative bucket counts of the bus-lag histogram, summed over relays: upper bound (s) → count. */
type Buckets = Map<number, number>;

async function busLagBuckets(metricsUrls: string[]): Promise<Buckets> {
  const out: Buckets = new Map();
  for (const url of metricsUrls) {
    const text = await (await fetch(url)).text();
    for (const m of text.matchAll(/^microchat_relay_bus_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      out.set(le, (out.get(le) ?? 0) + Number(m[2]));
    }
  }
  return out;
}

/**
 * Quantiles of the wake-ups observed between two scrapes, interpolated
 * linearly inside a bucket (as Prometheus' histogram_quantile does); a
 * quantile in the +Inf bucket is reported as the largest finite bound.
 */
function busLagBetween(before: Buckets, after: Buckets): { wakeUps: number; p50Ms: number; p99Ms: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cum = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = cum[cum.length - 1] ?? 0;
  const quantile = (q: number): number => {
    if (total === 0) return NaN;
    const rank = q * total;
    for (let i = 0; i < bounds.length; i++) {
      if (cum[i]! < rank) continue;
      const hi = bounds[i]!;
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      if (hi === Infinity) return lo * 1000;
      const below = i === 0 ? 0 : cum[i - 1]!;
      const inBucket = cum[i]! - below;
      return (lo + (hi - lo) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 1000;
    }
    return NaN;
  };
  return { wakeUps: total, p50Ms: Number(quantile(0.5).toFixed(2)), p99Ms: Number(quantile(0.99).toFixed(2)) };
}

const payloadOf = (i: number, sentAt: number): string => {
  // 1 KiB payload; the first bytes carry the send time for latency.
  const body = new Uint8Array(PAYLOAD_BYTES);
  webcrypto.getRandomValues(body);
  new DataView(body.buffer).setFloat64(0, sentAt);
  new DataView(body.buffer).setUint32(8, i);
  return b64u(body);
};
// Only the first 8 bytes (12 base64 chars) are needed; DataView wrote them big-endian.
const sentAtOf = (payload: string): number => Buffer.from(payload.slice(0, 12), 'base64url').readDoubleBE(0);
// Bytes 8..11 carry the message number (chars 8..15 of base64 hold bytes 6..11).
const indexOf = (payload: string): number => Buffer.from(payload.slice(8, 16), 'base64url').readUInt32BE(2);

/** A server under test, set up once; `round()` runs one measured fan-out with fresh connections. */
interface Target {
  round(): Promise<Round>;
  stop(): Promise<void>;
  /** The relay's CPU profiler (one relay started with BENCH_PROFILE set). */
  profiler?: RelayProfiler;
}

/**
 * A bare broadcast server: `ws` on Node (the baseline the targets are set
 * against), or Deno's own WebSocket server (the floor of the runtime the relay
 * runs on, for context).
 */
async function baselineTarget(runtime: 'node' | 'deno' = 'node'): Promise<Target & { idleBytesPerConnection(): Promise<number> }> {
  const child: ChildProcess =
    runtime === 'deno'
      ? spawn(denoExecutable(ROOT), ['run', '--quiet', '--allow-net', join(ROOT, 'bench', 'deno-broadcast.ts')], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
        })
      : spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--baseline-server'], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  const port = await new Promise<number>((res) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const m = /baseline listening on (\d+)/.exec(d);
      if (m !== null) res(Number(m[1]));
    });
  });
  const url = `ws://127.0.0.1:${port}`;
  return {
    async round() {
      const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => open(url)));
      const cpuBefore = cpuMsOf(child.pid!);
      const driven = await drive(
        sockets,
        (i, sentAt, sender) => JSON.stringify({ t: 'send', from: sender, payload: payloadOf(i, sentAt) }),
        (data, idx) => {
          const f = JSON.parse(data) as { from: number; payload: string };
          return { deliveredAt: sentAtOf(f.payload), sentDone: f.from === idx };
        },
      );
      const cpu = cpuMsOf(child.pid!) - cpuBefore;
      for (const ws of sockets) ws.close();
      return { ...summarize(driven), serverCpuMsPerMessage: Number((cpu / MESSAGES).toFixed(3)) };
    },
    idleBytesPerConnection: () => idleMemory(child.pid!, url),
    async stop() {
      child.kill('SIGTERM');
    },
  };
}

const RELAY_ARGS = [
  '--max-messages-per-second', '1000000',
  '--token-daily-quota', '10000000',
  '--token-issue-requests-per-minute', '1000000',
  '--max-connections', '100000',
];

/**
 * The relay under test: one process on the embedded store, or `instances`
 * processes sharing one Redis (`redisUrl`), with connection i on instance
 * i mod N (as a load balancer spreads them), senders included.
 */
async function relayTarget(rounds: number, redis?: { url: string; instances: number; serverPid: number }, profile = false): Promise<Target> {
  const prefix = `bench-${process.pid}:`;
  const inspectPort = profile ? await freePort() : undefined;
  // Several instances: each serves /metrics on its own loopback port, for the bus-lag histogram.
  const metricsPorts = redis === undefined ? [] : await Promise.all(Array.from({ length: redis.instances }, () => freePort()));
  const relays = await Promise.all(
    Array.from({ length: redis?.instances ?? 1 }, (_, i) =>
      startRelay({
        args: [...RELAY_ARGS, ...(redis === undefined ? [] : ['--metrics-port', String(metricsPorts[i])])],
        store: redis === undefined ? undefined : { redisUrl: redis.url, prefix },
        ...(inspectPort === undefined ? {} : { runtimeArgs: [`--inspect=127.0.0.1:${inspectPort}`] }),
      }),
    ),
  );
  const profiler = inspectPort === undefined ? undefined : await RelayProfiler.attach(inspectPort);
  const metricsUrls = metricsPorts.map((p) => `http://127.0.0.1:${p}/metrics`);
  const relay = relays[0]!;
  const c = new RelayClient(relay.url);
  const account = await c.register();
  const needed = MESSAGES * rounds + CONNECTIONS;
  process.stdout.write(`  issuing ${needed} tokens for the relay runs...\n`);
  const tokens = await benchTokens(c, account.session, needed);
  const queue = randomQueue();
  const mailboxes: Mailbox[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const m = await c.mailbox(tokens.pop()!);
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
    mailboxes.push(m);
  }
  const urls = relays.map((r) => r.url.replace(/^http/, 'ws') + '/v1/ws');
  const subscribe = (ws: WebSocket, mb: Mailbox): Promise<void> =>
    new Promise<void>((res) => {
      ws.once('message', () => res());
      ws.send(JSON.stringify({ t: 'sub', ...mb }));
    });

  return {
    ...(profiler === undefined ? {} : { profiler }),
    async round() {
      const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => open(urls[i % urls.length]!)));
      await Promise.all(sockets.map((ws, i) => subscribe(ws, mailboxes[i]!)));
      // Receivers acknowledge in batches, as a client would.
      const pendingAcks: string[][] = sockets.map(() => []);
      const flush = (i: number): void => {
        const ids = pendingAcks[i]!;
        if (ids.length === 0) return;
        pendingAcks[i] = [];
        sockets[i]!.send(JSON.stringify({ t: 'ack', mailboxId: mailboxes[i]!.mailboxId, ids }));
      };
      const ackTimer = setInterval(() => sockets.forEach((_, i) => flush(i)), 20);
      // Which sender sent message i (its socket, hence its instance), to split local from remote deliveries.
      const senderOf = new Int32Array(MESSAGES);
      const local: number[] = [];
      const remote: number[] = [];
      // With Redis, the redis-server's CPU is the store's and counts as the relay's.
      const relaysCpuMs = (): number =>
        relays.reduce((sum, r) => sum + cpuMsOf(r.process.pid!), 0) + (redis === undefined ? 0 : cpuMsOf(redis.serverPid));
      const cpuBefore = relaysCpuMs();
      // The split by thread is for one relay process.
      const threadsOf = (): { main: number; workers: number } | undefined =>
        relays.length === 1 ? threadCpuMsOf(relay.process.pid!) : undefined;
      const threadsBefore = threadsOf();
      const busBefore = metricsUrls.length > 0 ? await busLagBuckets(metricsUrls) : undefined;
      const driven = await drive(
        sockets,
        (i, sentAt, sender) => {
          senderOf[i] = sender;
          return JSON.stringify({ t: 'send', queue, cap: capFor(queue), token: tokens.pop(), payload: payloadOf(i, sentAt) });
        },
        (data, idx) => {
          const f = JSON.parse(data) as { t: string; id?: string; payload?: string; code?: string };
          if (f.t === 'msg' && f.payload !== undefined && f.id !== undefined) {
            pendingAcks[idx]!.push(f.id);
            if (pendingAcks[idx]!.length >= 100) flush(idx);
            const sentAt = sentAtOf(f.payload);
            if (urls.length > 1) {
              const sameInstance = senderOf[indexOf(f.payload)]! % urls.length === idx % urls.length;
              (sameInstance ? local : remote).push(performance.now() - sentAt);
            }
            return { deliveredAt: sentAt };
          }
          if (f.t === 'error') throw new Error(`relay error during bench: ${f.code}`);
          return { sentDone: f.t === 'sent' };
        },
      );
      clearInterval(ackTimer);
      sockets.forEach((_, i) => flush(i));
      await new Promise((r) => setTimeout(r, 200));
      // Includes the last acknowledgements (and 200 ms of idle), so every message's whole cost is counted.
      const cpu = relaysCpuMs() - cpuBefore;
      for (const ws of sockets) ws.close();
      const threadsAfter = threadsOf();
      const perMessage = (ms: number): number => Number((ms / MESSAGES).toFixed(3));
      const round: Round = { ...summarize(driven), serverCpuMsPerMessage: perMessage(cpu) };
      if (threadsBefore !== undefined && threadsAfter !== undefined) {
        round.mainThreadCpuMsPerMessage = perMessage(threadsAfter.main - threadsBefore.main);
        round.workerCpuMsPerMessage = perMessage(threadsAfter.workers - threadsBefore.workers);
      }
      if (busBefore !== undefined) round.bus = busLagBetween(busBefore, await busLagBuckets(metricsUrls));
      if (urls.length > 1) {
        const l = [...local].sort((a, b) => a - b);
        const r = [...remote].sort((a, b) => a - b);
        const ms = (x: number): number => Number(x.toFixed(2));
        round.split = {
          localP50Ms: ms(percentile(l, 50)),
          localP99Ms: ms(percentile(l, 99)),
          remoteP50Ms: ms(percentile(r, 50)),
          remoteP99Ms: ms(percentile(r, 99)),
        };
      }
      return round;
    },
    stop: async () => {
      profiler?.close();
      await Promise.all(relays.map((r) => r.stop()));
    },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** `--store redis --instances N`: also measure N relays sharing one Redis, side by side. */
function parseArgs(argv: string[]): { redisInstances: number | null } {
  let store = 'sqlite';
  let instances = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--store' && (value === 'redis' || value === 'sqlite')) store = value;
    else if (arg === '--instances' && value !== undefined && /^[1-9]\d?$/.test(value)) instances = Number(value);
    else throw new Error(`usage: bench/relay.ts [--store redis [--instances N]] (got ${arg} ${value ?? ''})`);
    i++;
  }
  if (store !== 'redis' && instances !== 1) throw new Error('--instances needs --store redis');
  return { redisInstances: store === 'redis' ? instances : null };
}

async function main(): Promise<void> {
  const { redisInstances } = parseArgs(process.argv.slice(2));
  if (redisInstances !== null) return mainRedis(redisInstances);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`);
  console.log(
    `relay bench: ${CONNECTIONS} connections, ${SENDERS} senders, ${PAYLOAD_BYTES} B messages, ${MESSAGES} messages → ` +
      `${MESSAGES * CONNECTIONS} deliveries per round, ${rounds} interleaved rounds`,
  );
  const baseline = await baselineTarget();
  const denoFloor = await baselineTarget('deno');
  // BENCH_PROFILE=1: a CPU profile of the relay's main thread over the last round (it slows that round a little).
  const profile = process.env.BENCH_PROFILE !== undefined && process.env.BENCH_PROFILE !== '';
  const relay = await relayTarget(rounds, undefined, profile);
  const pairs: { baseline: Round; denoFloor: Round; relay: Round }[] = [];
  const line = (r: Round): string =>
    `${r.deliveriesPerSecond}/s p99 ${r.p99Ms} ms max ${r.maxMs} ms cpu ${r.serverCpuMsPerMessage} ms/msg (clients ${r.clientCpuMsPerMessage})` +
    (r.mainThreadCpuMsPerMessage === undefined ? '' : ` (main ${r.mainThreadCpuMsPerMessage}, token workers ${r.workerCpuMsPerMessage})`);
  try {
    for (let r = 0; r < rounds; r++) {
      // Back to back, so all sides of a round see about the same machine load.
      const b = await baseline.round();
      const d = await denoFloor.round();
      const profiled = relay.profiler !== undefined && r === rounds - 1;
      if (profiled) await relay.profiler!.start();
      const q = await relay.round();
      if (profiled) {
        const p = await relay.profiler!.stop();
        const out = join(RESULTS_DIR, 'relay-profile.json');
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), loadAverage: loadavg(), messages: MESSAGES, round: q, ...p }, null, 2) + '\n');
        console.log(
          `relay main thread, round ${r + 1} (profiled): ${p.sampledMs} ms sampled, ${p.busyMs} ms busy ` +
            `(${p.inspectorMs} ms of the inspector's own frame reporting left out); self time by function, share of busy:`,
        );
        for (const row of p.top) console.log(`  ${row.ms.toFixed(1).padStart(8)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.fn}`);
        console.log(`wrote ${out}`);
      }
      pairs.push({ baseline: b, denoFloor: d, relay: q });
      console.log(`round ${r + 1}: baseline (ws) ${line(b)} | deno broadcast ${line(d)} | relay ${line(q)}`);
    }
    await denoFloor.stop();
    // Idle memory on fresh server processes, so garbage from the rounds does not blur it.
    const freshBaseline = await baselineTarget();
    const baselineIdle = await freshBaseline.idleBytesPerConnection();
    await freshBaseline.stop();
    const freshRelay = await startRelay({ args: ['--max-connections', '100000'] });
    const relayIdle = await idleMemory(freshRelay.process.pid!, freshRelay.url.replace(/^http/, 'ws') + '/v1/ws');
    await freshRelay.stop();
    const summary = {
      baseline: sideOf(pairs.map((p) => p.baseline), baselineIdle),
      relay: sideOf(pairs.map((p) => p.relay), relayIdle),
      // Context, not a target: the same broadcast on Deno's WebSocket server, the stack the relay runs on.
      denoBroadcast: sideOf(pairs.map((p) => p.denoFloor)),
    };
    const ratios = {
      ...compare(pairs, (p) => p.relay, (p) => p.baseline),
      memoryPerIdleConnection: Number((relayIdle / Math.max(1, baselineIdle)).toFixed(3)),
      // How far Deno's own bare broadcast gets against the ws baseline, and the relay against it.
      denoBroadcastToBaseline: compare(pairs, (p) => p.denoFloor, (p) => p.baseline),
      relayToDenoBroadcast: compare(pairs, (p) => p.relay, (p) => p.denoFloor),
    };
    // Issue #23's targets for the embedded relay against the bare ws broadcast.
    const targets = { deliveriesPerSecondRatioAtLeast: 0.8, p99RatioAtMost: 1.5 };
    const verdict = {
      deliveriesPerSecond: ratios.deliveriesPerSecond >= targets.deliveriesPerSecondRatioAtLeast,
      p99: ratios.p99 <= targets.p99RatioAtMost,
    };
    console.log(JSON.stringify({ ...summary, ratios, targets, verdict }, null, 2));
    const out = join(RESULTS_DIR, 'relay.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          // Context for the figures: this machine's cores and how busy it was (others share it).
          machine: { cpus: cpus().length, loadAverage1m: Number(loadavg()[0]!.toFixed(2)) },
          shape: { connections: CONNECTIONS, senders: SENDERS, payloadBytes: PAYLOAD_BYTES, messagesPerRound: MESSAGES, window: WINDOW, rounds },
          ...summary,
          ratios,
          targets,
          verdict,
          rounds: pairs,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`wrote ${out}`);
  } finally {
    await baseline.stop();
    await denoFloor.stop();
    await relay.stop();
  }
}

/** One server's figures in relay.json (medians over the rounds). */
export type Side = {
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMsPerMessage: number;
  clientCpuMsPerMessage: number;
  mainThreadCpuMsPerMessage?: number;
  workerCpuMsPerMessage?: number;
  bytesPerIdleConnection?: number;
};

/** One server's medians over the rounds (idle memory measured separately, when it was). */
function sideOf(rounds: Round[], idle?: number): Side {
  return {
    deliveriesPerSecond: Math.round(median(rounds.map((r) => r.deliveriesPerSecond))),
    p50Ms: Number(median(rounds.map((r) => r.p50Ms)).toFixed(2)),
    p99Ms: Number(median(rounds.map((r) => r.p99Ms)).toFixed(2)),
    serverCpuMsPerMessage: Number(median(rounds.map((r) => r.serverCpuMsPerMessage ?? NaN)).toFixed(3)),
    clientCpuMsPerMessage: Number(median(rounds.map((r) => r.clientCpuMsPerMessage)).toFixed(3)),
    ...(rounds[0]?.mainThreadCpuMsPerMessage === undefined
      ? {}
      : {
          mainThreadCpuMsPerMessage: Number(median(rounds.map((r) => r.mainThreadCpuMsPerMessage ?? NaN)).toFixed(3)),
          workerCpuMsPerMessage: Number(median(rounds.map((r) => r.workerCpuMsPerMessage ?? NaN)).toFixed(3)),
        }),
    ...(idle === undefined ? {} : { bytesPerIdleConnection: idle }),
  };
}

/**
 * Server `a` against server `b`: the ratio per back-to-back round, then the
 * median (robust to load changing between rounds).
 */
function compare<T>(
  rows: T[],
  a: (row: T) => Round,
  b: (row: T) => Round,
): { deliveriesPerSecond: number; p99: number; machineCpuPerMessage: number } {
  const ratio = (f: (row: T) => number): number => Number(median(rows.map(f)).toFixed(3));
  const machineCpu = (r: Round): number => (r.serverCpuMsPerMessage ?? NaN) + r.clientCpuMsPerMessage;
  return {
    deliveriesPerSecond: ratio((r) => a(r).deliveriesPerSecond / b(r).deliveriesPerSecond),
    p99: ratio((r) => a(r).p99Ms / b(r).p99Ms),
    // Server and clients together: on a saturated machine, deliveries/s go about as its inverse.
    machineCpuPerMessage: ratio((r) => machineCpu(a(r)) / machineCpu(b(r))),
  };
}

/**
 * `--store redis --instances N`: the same workload against the baseline, the
 * embedded store (one relay) and N relays on one private redis-server (AOF
 * on, appendfsync everysec, as docs/scale-out.md recommends), in interleaved
 * rounds; writes bench-results/relay-redis.json. Idle memory is per
 * connection on one Redis-backed instance.
 */
async function mainRedis(instances: number): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`);
  console.log(
    `relay bench (redis, ${instances} instances): ${CONNECTIONS} connections, ${SENDERS} senders, ${PAYLOAD_BYTES} B messages, ` +
      `${MESSAGES} messages → ${MESSAGES * CONNECTIONS} deliveries per round, ${rounds} interleaved rounds`,
  );
  const redis = await startRedis({ appendOnly: true });
  const baseline = await baselineTarget();
  const embedded = await relayTarget(rounds);
  const shared = await relayTarget(rounds, { url: redis.url, instances, serverPid: redis.process.pid! });
  const triples: { baseline: Round; embedded: Round; redis: Round }[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const b = await baseline.round();
      const e = await embedded.round();
      const q = await shared.round();
      triples.push({ baseline: b, embedded: e, redis: q });
      console.log(
        `round ${r + 1} (load ${loadavg()[0]!.toFixed(2)}): baseline ${b.deliveriesPerSecond}/s p99 ${b.p99Ms} ms | ` +
          `embedded ${e.deliveriesPerSecond}/s p99 ${e.p99Ms} ms max ${e.maxMs} ms | ` +
          `redis×${instances} ${q.deliveriesPerSecond}/s p99 ${q.p99Ms} ms max ${q.maxMs} ms` +
          (q.split === undefined ? '' : ` (same instance p50/p99 ${q.split.localP50Ms}/${q.split.localP99Ms} ms, across ${q.split.remoteP50Ms}/${q.split.remoteP99Ms} ms)`) +
          (q.bus === undefined ? '' : ` bus p50/p99 ${q.bus.p50Ms}/${q.bus.p99Ms} ms over ${q.bus.wakeUps} wake-ups`) +
          (q.lateDeliveries + e.lateDeliveries > 0 ? ` LATE: ${e.lateDeliveries} embedded, ${q.lateDeliveries} redis deliveries over ${LATE_MS} ms` : ''),
      );
    }
    await embedded.stop();
    await shared.stop();
    const freshBaseline = await baselineTarget();
    const baselineIdle = await freshBaseline.idleBytesPerConnection();
    await freshBaseline.stop();
    const freshEmbedded = await startRelay({ args: ['--max-connections', '100000'] });
    const embeddedIdle = await idleMemory(freshEmbedded.process.pid!, freshEmbedded.url.replace(/^http/, 'ws') + '/v1/ws');
    await freshEmbedded.stop();
    const freshRedis = await startRelay({ args: ['--max-connections', '100000'], store: { redisUrl: redis.url, prefix: `bench-idle-${process.pid}:` } });
    const redisIdle = await idleMemory(freshRedis.process.pid!, freshRedis.url.replace(/^http/, 'ws') + '/v1/ws');
    await freshRedis.stop();

    const summary = {
      baseline: sideOf(triples.map((t) => t.baseline), baselineIdle),
      embedded: sideOf(triples.map((t) => t.embedded), embeddedIdle),
      redis: {
        instances,
        ...sideOf(triples.map((t) => t.redis), redisIdle),
        // Medians over rounds: deliveries on the sender's instance vs through the wake-up bus.
        split: {
          localP50Ms: Number(median(triples.map((t) => t.redis.split?.localP50Ms ?? NaN)).toFixed(2)),
          localP99Ms: Number(median(triples.map((t) => t.redis.split?.localP99Ms ?? NaN)).toFixed(2)),
          remoteP50Ms: Number(median(triples.map((t) => t.redis.split?.remoteP50Ms ?? NaN)).toFixed(2)),
          remoteP99Ms: Number(median(triples.map((t) => t.redis.split?.remoteP99Ms ?? NaN)).toFixed(2)),
        },
      },
    };
    const ratios = {
      redisToBaseline: compare(triples, (t) => t.redis, (t) => t.baseline),
      redisToEmbedded: compare(triples, (t) => t.redis, (t) => t.embedded),
      embeddedToBaseline: compare(triples, (t) => t.embedded, (t) => t.baseline),
    };
    // Stalls and the bus over the rounds: the slowest delivery of each round, and whether the
    // bus lag grows (median p99 of the last 5 rounds against the first 5).
    const busP99 = triples.map((t) => t.redis.bus?.p99Ms ?? NaN);
    const stalls = {
      lateAfterMs: LATE_MS,
      lateDeliveries: triples.reduce((n, t) => n + t.redis.lateDeliveries + t.embedded.lateDeliveries, 0),
      slowestDeliveryPerRoundMs: triples.map((t) => ({ embedded: t.embedded.maxMs, redis: t.redis.maxMs })),
      incompleteRounds: triples.filter((t) => t.redis.deliveries < MESSAGES * CONNECTIONS || t.embedded.deliveries < MESSAGES * CONNECTIONS).length,
      busP99FirstRoundsMs: Number(median(busP99.slice(0, 5)).toFixed(2)),
      busP99LastRoundsMs: Number(median(busP99.slice(-5)).toFixed(2)),
    };
    // Issue #23's targets: N instances on Redis against the single embedded relay, and no stalls.
    const targets = { deliveriesPerSecondRatioAtLeast: 1.0, p99RatioAtMost: 1.5, noDeliveryLaterThanMs: LATE_MS };
    const verdict = {
      deliveriesPerSecond: ratios.redisToEmbedded.deliveriesPerSecond >= targets.deliveriesPerSecondRatioAtLeast,
      p99: ratios.redisToEmbedded.p99 <= targets.p99RatioAtMost,
      noStalls: stalls.lateDeliveries === 0 && stalls.incompleteRounds === 0,
    };
    console.log(JSON.stringify({ ...summary, ratios, stalls, targets, verdict }, null, 2));
    const out = join(RESULTS_DIR, 'relay-redis.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: { cpus: cpus().length, loadAverage1m: Number(loadavg()[0]!.toFixed(2)) },
          shape: {
            connections: CONNECTIONS,
            senders: SENDERS,
            payloadBytes: PAYLOAD_BYTES,
            messagesPerRound: MESSAGES,
            window: WINDOW,
            rounds,
            redis: { instances, appendonly: 'yes', appendfsync: 'everysec', connectionsSpread: 'connection i on instance i mod N' },
          },
          ...summary,
          ratios,
          stalls,
          targets,
          verdict,
          rounds: triples,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`wrote ${out}`);
  } finally {
    await baseline.stop();
    await embedded.stop();
    await shared.stop();
    await redis.stop();
  }
}

// ---------- baseline server (child process) ----------
if (process.argv.includes('--baseline-server')) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('listening', () => {
    const addr = wss.address();
    if (addr !== null && typeof addr === 'object') console.log(`baseline listening on ${addr.port}`);
  });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
  });
} else {
  await main();
}
