/**
 * Load benchmark (`npm run bench:load`, issue #23): many WebSocket
 * connections, each one mailbox, and groups of 2 to 50 of them exchanging
 * messages at a chat-like rate for a while — against one relay on the
 * embedded store, then against two relays sharing one private Redis.
 *
 * Shape (environment, defaults are the target):
 *   LOAD_CONNECTIONS   10000   connections, each subscribed to its own mailbox
 *   LOAD_GROUPS        500     groups (queues); members drawn from the connections
 *   LOAD_MAX_GROUP     50      largest group (smallest is 2)
 *   LOAD_SECONDS       60      how long the groups send
 *   LOAD_INTERVAL_MS   3000    mean time between a group's messages (exponential),
 *                              with a burst of 5 one time in 10
 *   LOAD_TARGETS       embedded,redis
 *   LOAD_RESULTS_DIR   bench-results
 *
 * Reports per target: delivered/sent (every acknowledged message to every
 * member, must be exactly 1), p50/p99/p999 delivery latency, relay RSS,
 * memory per idle connection, relay CPU per message, file descriptors, sends
 * refused with try_again; writes <dir>/load.json with the machine's load
 * average at start and end (the figures mean little without it).
 *
 * Loopback only (relays and Redis bind 127.0.0.1). Raises its own open-file
 * limit (it re-runs itself under `ulimit -n <hard limit>`), and stops by
 * itself: a watchdog ends the run if it outlives its budget.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startRelay, type RelayProcess } from '../tests/support/relay-process.ts';
import { startRedis, type RedisProcess } from '../tests/support/redis-process.ts';
import { DELIVERY_SOCKET_PATH } from '../lib/protocol/relay.ts';
import { RelayClient, capFor, randomQueue, type Mailbox, type WireToken } from '../tests/relay/support/client.ts';
import { benchTokens } from './relay-tokens.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const env = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const CONNECTIONS = env('LOAD_CONNECTIONS', 10_000);
const GROUPS = env('LOAD_GROUPS', 500);
const MAX_GROUP = Math.min(env('LOAD_MAX_GROUP', 50), CONNECTIONS);
const SECONDS = env('LOAD_SECONDS', 60);
const INTERVAL_MS = env('LOAD_INTERVAL_MS', 3000);
const TARGETS = (process.env.LOAD_TARGETS ?? 'embedded,redis').split(',').map((t) => t.trim());
const RESULTS_DIR = resolve(process.env.LOAD_RESULTS_DIR ?? join(ROOT, 'bench-results'));
const BURST = 5;
const DRAIN_MS = 30_000;
/** How long one connection may take to open and subscribe, and how often it is tried. */
const OPEN_TIMEOUT_MS = 60_000;
const OPEN_ATTEMPTS = 3;
/** A request without an answer after this long counts as unanswered. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Connection attempts that failed or hung and were made again (reported). */
let openRetries = 0;
/** Parallel HTTP requests during setup, and WebSocket opens in flight. */
const SETUP_PARALLEL = 32;

const RELAY_ARGS = [
  '--max-messages-per-second', '1000000',
  '--token-daily-quota', '100000000',
  '--token-issue-requests-per-minute', '1000000',
  '--max-connections', String(CONNECTIONS + 1000),
  '--max-queues-per-mailbox', '1000',
];

// ---------------------------------------------------------------------------
// The open-file limit: 10,000 sockets on each side need more than the usual 1,024.

function raiseFileLimit(): void {
  if (process.env.LOAD_FILE_LIMIT_RAISED === '1') return;
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  // The soft limit up to the hard one, for this run and every process it starts (relays, Redis).
  const r = spawnSync('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$1"', tsx, SELF], {
    stdio: 'inherit',
    env: { ...process.env, LOAD_FILE_LIMIT_RAISED: '1' },
  });
  process.exit(r.status ?? 1);
}

// ---------------------------------------------------------------------------
// Process figures (Linux /proc).

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) * 1024;
}

function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function fileLimit(): number {
  const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m === null ? NaN : Number(m[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function settledRss(pids: number[]): Promise<number> {
  await sleep(1000);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(pids.reduce((n, p) => n + rssOf(p), 0));
    await sleep(200);
  }
  return samples.sort((a, b) => a - b)[2]!;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function parallel<T>(items: T[], work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(SETUP_PARALLEL, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

// ---------------------------------------------------------------------------
// One connection: a mailbox, subscribed; acknowledges what it gets.

interface Conn {
  ws: WebSocket;
  mailbox: Mailbox;
  pendingAcks: string[];
  rid: number;
  waiting: Map<number, (frame: Record<string, unknown>) => void>;
}

function openConn(url: string, mailbox: Mailbox, onPush: (payload: string, id: string) => void): Promise<Conn> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + DELIVERY_SOCKET_PATH);
  const conn: Conn = { ws, mailbox, pendingAcks: [], rid: 0, waiting: new Map() };
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as Record<string, unknown>;
    if (f.t === 'msg') {
      conn.pendingAcks.push(String(f.id));
      onPush(String(f.payload), String(f.id));
      return;
    }
    const done = typeof f.rid === 'number' ? conn.waiting.get(f.rid) : undefined;
    if (done !== undefined) {
      conn.waiting.delete(f.rid as number);
      done(f);
    }
  });
  return new Promise((res, rej) => {
    // A socket that never opens, or closes before its subscription is answered, must not hang the run.
    const fail = (why: string): void => {
      clearTimeout(timer);
      ws.terminate();
      rej(new Error(why));
    };
    const timer = setTimeout(() => fail(`not subscribed within ${OPEN_TIMEOUT_MS} ms`), OPEN_TIMEOUT_MS);
    ws.once('error', (err) => fail(`socket error: ${err.message}`));
    ws.once('close', () => fail('closed before subscribed'));
    ws.once('open', () => {
      request(conn, { t: 'sub', ...mailbox }).then(
        (f) => {
          clearTimeout(timer);
          if (f.t === 'ok') res(conn);
          else fail(`sub: ${JSON.stringify(f)}`);
        },
        (err: unknown) => fail(String(err)),
      );
    });
  });
}

/** Opens and subscribes one connection, trying again (a fresh socket) when an attempt fails or hangs. */
async function openConnRetrying(url: string, mailbox: Mailbox, onPush: (payload: string, id: string) => void): Promise<Conn> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openConn(url, mailbox, onPush);
    } catch (err) {
      openRetries++;
      if (attempt >= OPEN_ATTEMPTS) throw err;
    }
  }
}

function request(conn: Conn, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const rid = ++conn.rid;
  return new Promise((res) => {
    // No answer in time (a closed socket, a lost frame): the caller sees `timeout` rather than waiting forever.
    const timer = setTimeout(() => {
      conn.waiting.delete(rid);
      res({ t: 'timeout' });
    }, REQUEST_TIMEOUT_MS);
    conn.waiting.set(rid, (f) => {
      clearTimeout(timer);
      res(f);
    });
    conn.ws.send(JSON.stringify({ ...frame, rid }));
  });
}

function flushAcks(conn: Conn): void {
  if (conn.pendingAcks.length === 0 || conn.ws.readyState !== WebSocket.OPEN) return;
  const ids = conn.pendingAcks.splice(0, 200);
  conn.ws.send(JSON.stringify({ t: 'ack', mailboxId: conn.mailbox.mailboxId, ids }));
}

// ---------------------------------------------------------------------------

export interface LoadResult {
  instances: number;
  connections: number;
  groups: number;
  members: number;
  seconds: number;
  sent: number;
  expectedDeliveries: number;
  delivered: number;
  deliveredOverSent: number;
  duplicates: number;
  refusedTryAgain: number;
  /** Sends without any answer (not counted as sent), and connection attempts made again. */
  unanswered: number;
  openRetries: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  relayRssBytes: number;
  bytesPerIdleConnection: number;
  relayCpuMsPerMessage: number;
  relayFileDescriptors: number;
  clientFileLimit: number;
}

/** Group sizes 2..MAX_GROUP, members drawn at random from the connections (a member may be in several groups). */
function makeGroups(): number[][] {
  const groups: number[][] = [];
  for (let g = 0; g < GROUPS; g++) {
    const size = 2 + Math.floor(Math.random() * (MAX_GROUP - 1));
    const members = new Set<number>();
    while (members.size < size) members.add(Math.floor(Math.random() * CONNECTIONS));
    groups.push([...members]);
  }
  return groups;
}

async function runTarget(relays: RelayProcess[]): Promise<LoadResult> {
  const pids = relays.map((r) => r.process.pid!);
  const urls = relays.map((r) => r.url);
  const http = new RelayClient(urls[0]!);
  const groups = makeGroups();
  const expectedSends = Math.ceil(GROUPS * (SECONDS * 1000 / INTERVAL_MS) * 1.5) + GROUPS * BURST;
  const acct = await http.register();
  // Issued with the bench's cheap blinding (bench/relay-tokens.ts); every send is still verified and spent in full.
  const tokens: WireToken[] = await benchTokens(http, acct.session, CONNECTIONS + expectedSends);

  // Mailboxes, and each group's queue with its members registered.
  const mailboxes: Mailbox[] = new Array<Mailbox>(CONNECTIONS);
  await parallel([...Array(CONNECTIONS).keys()], async (i) => {
    mailboxes[i] = await new RelayClient(urls[i % urls.length]!).mailbox(tokens.pop()!);
  });
  const queues = groups.map(() => randomQueue());
  const registrations = groups.flatMap((members, g) => members.map((m) => ({ g, m })));
  await parallel(registrations, async ({ g, m }) => {
    await http.ok('/v1/queues/register', { queue: queues[g], cap: capFor(queues[g]!), ...mailboxes[m]! });
  });

  // Latency bookkeeping: the payload carries the message tag and its send time.
  const sentAt = new Map<number, { at: number; group: number }>();
  const got = new Map<number, Set<number>>();
  const latencies: number[] = [];
  let duplicates = 0;
  const onPush = (conn: number) => (payload: string) => {
    const text = Buffer.from(payload, 'base64url').toString('latin1');
    const tag = Number(text.slice(0, text.indexOf(' ')));
    const s = sentAt.get(tag);
    if (s === undefined) return;
    let seen = got.get(tag);
    if (seen === undefined) got.set(tag, (seen = new Set()));
    if (seen.has(conn)) {
      duplicates++;
      return;
    }
    seen.add(conn);
    latencies.push(performance.now() - s.at);
  };

  const rssBefore = await settledRss(pids);
  const conns: Conn[] = new Array<Conn>(CONNECTIONS);
  await parallel([...Array(CONNECTIONS).keys()], async (i) => {
    conns[i] = await openConnRetrying(urls[i % urls.length]!, mailboxes[i]!, onPush(i));
  });
  const rssIdle = await settledRss(pids);
  const ackTimer = setInterval(() => conns.forEach(flushAcks), 200);

  // Traffic: each group sends from a random member's connection, exponential gaps, bursts.
  let tag = 0;
  let sent = 0;
  let refused = 0;
  let unanswered = 0;
  openRetries = 0;
  const acked = new Set<number>();
  const cpuBefore = pids.reduce((n, p) => n + cpuMsOf(p), 0);
  const stopAt = performance.now() + SECONDS * 1000;
  const sendOne = async (g: number): Promise<void> => {
    const members = groups[g]!;
    const from = conns[members[Math.floor(Math.random() * members.length)]!]!;
    const t = ++tag;
    const body = Buffer.alloc(256 + Math.floor(Math.random() * 768), 0x2e);
    body.write(`${t} `, 'latin1');
    const payload = body.toString('base64url');
    let token = tokens.pop();
    if (token === undefined) return;
    for (;;) {
      sentAt.set(t, { at: performance.now(), group: g });
      const answer = await request(from, { t: 'send', queue: queues[g], cap: capFor(queues[g]!), token, payload });
      if (answer.t === 'sent') {
        sent++;
        acked.add(t);
        return;
      }
      if (answer.code === 'try_again') {
        // Nothing stored, the token unspent: the same send again shortly, as the extension's outbox does.
        refused++;
        await sleep(200 + Math.random() * 300);
        continue;
      }
      if (answer.t === 'timeout') unanswered++;
      sentAt.delete(t);
      token = undefined;
      return;
    }
  };
  await Promise.all(
    groups.map(async (_, g) => {
      await sleep(Math.random() * INTERVAL_MS);
      while (performance.now() < stopAt) {
        const burst = Math.random() < 0.1 ? BURST : 1;
        for (let k = 0; k < burst; k++) await sendOne(g);
        await sleep(-Math.log(1 - Math.random()) * INTERVAL_MS);
      }
    }),
  );
  const expected = [...acked].reduce((n, t) => n + groups[sentAt.get(t)!.group]!.length, 0);
  const drainUntil = performance.now() + DRAIN_MS;
  while (latencies.length < expected && performance.now() < drainUntil) await sleep(100);
  const cpu = pids.reduce((n, p) => n + cpuMsOf(p), 0) - cpuBefore;
  const rss = pids.reduce((n, p) => n + rssOf(p), 0);
  const fds = pids.reduce((n, p) => n + fdsOf(p), 0);
  clearInterval(ackTimer);
  for (const c of conns) c.ws.close();
  await sleep(300);

  // Only deliveries of acknowledged messages count (a send without an answer may or may not be stored).
  let delivered = 0;
  for (const t of acked) delivered += got.get(t)?.size ?? 0;
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 10) / 10;
  return {
    instances: relays.length,
    connections: CONNECTIONS,
    groups: GROUPS,
    members: registrations.length,
    seconds: SECONDS,
    sent,
    expectedDeliveries: expected,
    delivered,
    deliveredOverSent: expected === 0 ? NaN : delivered / expected,
    duplicates,
    refusedTryAgain: refused,
    unanswered,
    openRetries,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    p999Ms: round(percentile(sorted, 99.9)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    relayRssBytes: rss,
    bytesPerIdleConnection: Math.max(0, Math.round((rssIdle - rssBefore) / CONNECTIONS)),
    relayCpuMsPerMessage: sent === 0 ? NaN : Number((cpu / sent).toFixed(3)),
    relayFileDescriptors: fds,
    clientFileLimit: fileLimit(),
  };
}

/** What this run has started, for the watchdog to kill. */
const live: { relays: RelayProcess[]; redis?: RedisProcess } = { relays: [] };

/** Descriptors the client needs beyond one per connection (Redis, relays' HTTP, stdio, the runtime). */
const FD_MARGIN = 500;

async function main(): Promise<void> {
  raiseFileLimit();
  // The client holds every connection (each relay a share of them): refuse to start a run that would fail halfway with EMFILE.
  if (fileLimit() < CONNECTIONS + FD_MARGIN) {
    throw new Error(
      `open-file limit ${fileLimit()} (raised to the hard limit) is below the ${CONNECTIONS + FD_MARGIN} this run needs; ` +
        'raise the hard limit (ulimit -Hn, LimitNOFILE) or lower LOAD_CONNECTIONS',
    );
  }
  // Stops by itself: setup, traffic, drain and teardown of every target, with a generous margin.
  // Setup (a token and a mailbox per connection, then the sockets) dominates on a busy machine: 3 min per 1,000 connections.
  const budgetMs = TARGETS.length * (SECONDS * 1000 + DRAIN_MS + 10 * 60_000 + Math.ceil(CONNECTIONS / 1000) * 180_000);
  const watchdog = setTimeout(() => {
    console.error(`bench:load: still running after ${Math.round(budgetMs / 1000)} s, giving up`);
    // Never leave relays or Redis behind: they would outlive this process.
    for (const r of live.relays) r.kill9();
    live.redis?.kill9();
    process.exit(3);
  }, budgetMs);
  watchdog.unref();
  const started = { at: new Date().toISOString(), loadavg: loadavg() };
  const results: Record<string, LoadResult> = {};
  for (const target of TARGETS) {
    let redis: RedisProcess | undefined;
    const relays: RelayProcess[] = [];
    live.relays = relays;
    try {
      if (target === 'embedded') {
        relays.push(await startRelay({ args: RELAY_ARGS }));
      } else if (target === 'redis') {
        redis = await startRedis({ appendOnly: true });
        live.redis = redis;
        const store = { redisUrl: redis.url, prefix: `load-${process.pid}:` };
        relays.push(...(await Promise.all([startRelay({ args: RELAY_ARGS, store }), startRelay({ args: RELAY_ARGS, store })])));
      } else {
        throw new Error(`LOAD_TARGETS: unknown target ${target} (embedded or redis)`);
      }
      console.log(`bench:load: ${target}, ${relays.length} relay(s), ${CONNECTIONS} connections, ${GROUPS} groups, ${SECONDS} s`);
      const r = await runTarget(relays);
      results[target === 'redis' ? 'redis2' : target] = r;
      console.log(JSON.stringify(r));
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await redis?.stop();
    }
  }
  const out = {
    shape: { connections: CONNECTIONS, groups: GROUPS, groupSizes: [2, MAX_GROUP], seconds: SECONDS, meanIntervalMs: INTERVAL_MS, burst: BURST },
    machine: { cpus: cpus().length, loadavgAtStart: started.loadavg, loadavgAtEnd: loadavg(), startedAt: started.at },
    results,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'load.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`bench:load: wrote ${join(RESULTS_DIR, 'load.json')}`);
  clearTimeout(watchdog);
}

// Only when run, not when a test imports the types.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === SELF) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('bench:load failed:', err);
      process.exit(1);
    },
  );
}
