// The storage contract, run against BOTH stores: the embedded SqliteStore and
// the RedisStore (on a private redis-server). The cases live in
// support/store-contract-cases.ts and run under Deno (support/store-contract-runner.ts),
// because SqliteStore uses node:sqlite, which Node 20 lacks; each case is one
// test here. Then the Redis store's own promises, through a real relay
// process: it survives a Redis restart (503 during the outage, never a hang
// or a crash), keeps what it acknowledged when Redis restarts with AOF, and
// its config is strict.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../relay/config.ts';
import { denoExecutable } from '../../scripts/deno-executable.ts';
import { startRedis, type RedisProcess } from '../support/redis-process.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, capFor, randomQueue, type Mailbox, type WireToken } from './support/client.ts';
import { b64u } from './support/soft-authenticator.ts';
import { CASES } from './support/store-contract-cases.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNNER = join(ROOT, 'tests', 'relay', 'support', 'store-contract-runner.ts');
const NAMES = Object.keys(CASES);

interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
}

/** Runs a script under Deno (SqliteStore needs node:sqlite) and collects its output. */
async function runDeno(script: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(denoExecutable(ROOT), ['run', '--quiet', '-A', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, out, err };
}

async function runContract(args: string[]): Promise<Map<string, CaseResult>> {
  const { code, out, err } = await runDeno(RUNNER, args);
  const results = new Map<string, CaseResult>();
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as CaseResult;
    results.set(r.name, r);
  }
  if (code !== 0 && results.size === 0) throw new Error(`contract runner failed (${code}): ${err}`);
  return results;
}

describe.each(['sqlite', 'redis'] as const)('store contract on %s', (kind) => {
  let results: Map<string, CaseResult>;
  let redis: RedisProcess | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    if (kind === 'redis') {
      redis = await startRedis({ appendOnly: true });
      results = await runContract(['--store', 'redis', '--redis-url', redis.url]);
    } else {
      dir = mkdtempSync(join(tmpdir(), 'microchat-contract-'));
      results = await runContract(['--store', 'sqlite', '--dir', dir]);
    }
  });
  afterAll(async () => {
    await redis?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it.each(NAMES)('%s', (name) => {
    const r = results.get(name);
    expect(r, 'the runner reported this case').toBeDefined();
    expect(r?.error).toBeUndefined();
    expect(r?.ok).toBe(true);
  });
});

describe('sqlite store: schema migration', () => {
  it('opens a database in the earlier one-row-per-delivery layout and serves exactly what it held', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'microchat-migrate-'));
    try {
      const { code, out, err } = await runDeno(join(ROOT, 'tests', 'relay', 'support', 'sqlite-migration-check.ts'), [dir]);
      expect(err).toBe('');
      expect(code).toBe(0);
      const r = JSON.parse(out) as Record<string, unknown>;
      expect(r.before).toEqual({ mbA: ['m1:group'], mbB: ['m1:group', 'm2:group', 'w1:welcome'], mbC: ['m1:group'] });
      // Each mailbox removes only its own copies; m2 was never mbA's.
      expect(r.acks).toEqual([1, 3, 1]);
      expect(r.after).toEqual({ mbA: [], mbB: [], mbC: [] });
      expect(r.tables).not.toContain('deliveries');
      expect(r.messagesLeft).toBe(0);
      // mbC's registration was only kept (inactive) for what it still had to read.
      expect(r.registrations).toEqual([
        { queue_hash: 'q1', mailbox_id: 'mbA', active: 1 },
        { queue_hash: 'q1', mailbox_id: 'mbB', active: 1 },
        { queue_hash: 'q1', mailbox_id: 'mbC', active: 0 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redis store config', () => {
  it('selects the store by flag or env, strictly', () => {
    expect(loadConfig({}, []).store).toBe('sqlite');
    const c = loadConfig({ RELAY_STORE: 'redis', RELAY_REDIS_URL: 'redis://127.0.0.1:7000' }, ['--redis-prefix', '{mc}:']);
    expect([c.store, c.redisUrl, c.redisPrefix]).toEqual(['redis', 'redis://127.0.0.1:7000', '{mc}:']);
    expect(loadConfig({}, ['--store', 'redis', '--redis-url', 'rediss://u:p@h:1/2']).redisPrefix).toBe('mc:');
    expect(() => loadConfig({}, ['--store', 'postgres'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--store', 'redis'])).toThrow(/redisUrl/);
    expect(() => loadConfig({}, ['--redis-url', 'redis://h:1'])).toThrow(/store is sqlite/);
    expect(() => loadConfig({}, ['--store', 'redis', '--redis-url', 'http://h:1'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--store', 'redis', '--redis-url', 'redis://h:1/x?y'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--store', 'redis', '--redis-url', 'redis://h:1', '--redis-prefix', 'a b'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--store', 'redis', '--redis-url', 'redis://h:1', '--redis-prefix', ''])).toThrow(ConfigError);
    // A password in the URL never appears in an error message.
    expect(() => loadConfig({}, ['--store', 'redis', '--redis-url', 'ftp://u:hunter2@h'])).toThrow(/^(?!.*hunter2)/);
  });
});

describe('relay on redis: outages and restarts', () => {
  let redis: RedisProcess;
  let relay: RelayProcess;
  let c: RelayClient;
  let tokens: WireToken[];
  beforeAll(async () => {
    redis = await startRedis({ appendOnly: true });
    relay = await startRelay({ store: { redisUrl: redis.url, prefix: 'outage:' } });
    c = new RelayClient(relay.url);
    const a = await c.register();
    tokens = await c.tokens(a.session, 20);
  });
  afterAll(async () => {
    await relay.stop();
    await redis.stop();
  });

  const group = async (): Promise<{ queue: string; member: Mailbox }> => {
    const queue = randomQueue();
    const member = await c.mailbox(tokens.pop()!);
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...member });
    return { queue, member };
  };

  it('a relay that cannot reach Redis at start says so and exits', async () => {
    const dead = await startRedis();
    const url = dead.url;
    await dead.stop();
    await expect(startRelay({ store: { redisUrl: url }, readyTimeoutMs: 30_000 })).rejects.toThrow(/cannot open the redis store/);
  });

  it('kill -9 Redis (AOF on) and restart it: 503 during the outage, nothing acknowledged lost, serving again after', async () => {
    const { queue, member } = await group();
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: tokens.pop(), payload: b64u(new TextEncoder().encode(`before ${i}`)) });
      sent.push(String(r.id));
    }
    await redis.kill9();
    const started = Date.now();
    const during = await c.post('/v1/mailboxes/fetch', { ...member });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(during.status).toBe(503);
    expect((during.body.error as { code: string }).code).toBe('capacity');
    expect(relay.process.exitCode).toBeNull();

    await redis.restart();
    // node-redis reconnects in the background; the relay answers again within a few seconds.
    let fetched: { id: string }[] | undefined;
    for (let i = 0; i < 100 && fetched === undefined; i++) {
      const r = await c.post('/v1/mailboxes/fetch', { ...member });
      if (r.status === 200) fetched = r.body.messages as { id: string }[];
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(fetched?.map((m) => m.id)).toEqual(sent);
    // Scripts are reloaded after the restart (Redis forgot them) and tokens are still spent exactly once.
    const t = tokens.pop()!;
    expect((await c.post('/v1/queues/send', { queue, cap: capFor(queue), token: t, payload: b64u(new Uint8Array(10)) })).status).toBe(200);
    expect((await c.post('/v1/queues/send', { queue, cap: capFor(queue), token: t, payload: b64u(new Uint8Array(10)) })).status).toBe(409);
    expect(relay.stderr()).not.toContain(redis.url);
  });

  it('a hung Redis (SIGSTOP) makes requests fail with 503 after the command timeout, not hang; SIGCONT and it serves again', async () => {
    const { member } = await group();
    redis.process.kill('SIGSTOP');
    try {
      const started = Date.now();
      const r = await c.post('/v1/mailboxes/fetch', { ...member });
      expect(r.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      redis.process.kill('SIGCONT');
    }
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await c.post('/v1/mailboxes/fetch', { ...member })).status;
      if (status !== 200) await new Promise((res) => setTimeout(res, 100));
    }
    expect(status).toBe(200);
    expect(relay.process.exitCode).toBeNull();
  });
});
