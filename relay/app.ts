/**
 * The relay's web-standard core: `fetch(Request) → Response` plus standard
 * WebSocket handling. Runtime specifics (listening, upgrading a request to a
 * WebSocket) come in through `UpgradeWebSocket`, supplied by the thin entry
 * (main.ts for Deno). Routes, answers and frames are typed from the relay
 * contract (lib/protocol/relay.ts) and documented in relay/README.md.
 */

import { Accounts } from './accounts.ts';
import { LocalBus, type WakeBus } from './bus.ts';
import type { RelayConfig } from './config.ts';
import { Delivery, readCapability, readRotateTo } from './delivery.ts';
import { toWire } from './wire.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { toB64 } from '../lib/bytes.ts';
import {
  DELIVERY_SOCKET_PATH,
  ISSUE_SOCKET_PATH,
  ROUTES,
  type HttpMethod,
  type RelayLimits,
  type ResponseOf,
  type RouteName,
} from '../lib/protocol/relay.ts';
import { readBytes, readBytesList, readEncodedBytes, readId, readIdList, readInt, readOptionalBytes } from './encoding.ts';
import { ErrorCode, RelayError, notFound } from './errors.ts';
import { Invites, parseInviteId } from './invites.ts';
import { corsHeaders, json, readStrictBody, toErrorResponse } from './http.ts';
import type { RelayStore } from './store.ts';
import { TOKEN_SUITE, TokenAuthority, readToken } from './tokens.ts';
import { MinuteBudget } from './rate-limit.ts';
import { TokenPool } from './token-pool.ts';
import { Connection } from './ws.ts';
import { serveIssueSocket } from './issue-socket.ts';
import { Metrics, timedStore } from './metrics.ts';
import { LINK_FETCH_MAX, LINK_MAX_MESSAGE_BYTES, LINK_MAX_WAIT_MS, LinkSlots, readSlot } from './links.ts';
import { BLOB_PATH_PREFIX, BLOB_ROUTES } from '../lib/protocol/relay-blobs.ts';
import { BLOB_ROUTE_BY_PATH, Blobs } from './blobs/blobs.ts';
import type { BlobStore } from './blobs/store.ts';
import { BACKUP_PATH_PREFIX, BACKUP_ROUTES } from '../lib/protocol/relay-backups.ts';
import { BACKUP_ROUTE_BY_PATH, Backups } from './backups/backups.ts';
import type { BackupStore } from './backups/store.ts';

/** Turns an upgrade request into a server-side standard WebSocket. */
export type UpgradeWebSocket = (req: Request) => { socket: WebSocket; response: Response };

export interface RelayDeps {
  config: RelayConfig;
  store: RelayStore;
  /** Operational log; never receives request data, addresses or identities. */
  log: (line: string) => void;
  /** Unix seconds; injectable for tests. */
  now?: () => number;
  /**
   * Wake-ups between relay instances sharing one store: `RedisBus` when
   * several relays share a Redis, default `LocalBus` (this process only).
   */
  bus?: WakeBus;
  /**
   * TEST ONLY, off unless main.ts reads MICROCHAT_TEST_AUDIT_FILE: one call per
   * request or frame with the connection it came on and its kind (no data).
   */
  audit?: (connection: string, op: string) => void;
  /** TEST ONLY, off by default: every account gets its own token key (see TokenAuthority). */
  partitionTokenKeys?: boolean;
  /** Encrypted attachments (relay/blobs/), beside `store`; without it the blob routes answer not_found. */
  blobs?: BlobStore;
  /** Aggregate operational metrics (relay/metrics.ts); one is made when absent. */
  metrics?: Metrics;
  /** Encrypted account backups (relay/backups/), beside `store`; without it the backup routes answer not_found. */
  backups?: BackupStore;
}

export interface Relay {
  /** `connection` names the transport connection the request came on (only for the test audit). */
  fetch(req: Request, upgrade?: UpgradeWebSocket, connection?: string): Promise<Response>;
  /** Load keys and start the periodic jobs (token key rotation, sweep, scrub). */
  start(): Promise<void>;
  /** Close every WebSocket with 1001 (going away), so the server can drain. */
  closeConnections(): void;
  /** Stop the jobs and close the store (after the server stopped serving). */
  close(): Promise<void>;
  /** The Prometheus exposition (served by main.ts on its own loopback listener, never on the public port). */
  metrics(): string;
}

/** A route's handler answers the contract's type for that route; the router turns it into JSON. */
type Handlers<R extends RouteName> = { [N in R]: (req: Request) => Promise<ResponseOf<N>> };

/** Routes with a `:param` path segment (the invite routes); the rest are matched exactly. */
type ParamRoute = { [N in RouteName]: (typeof ROUTES)[N]['path'] extends `${string}:${string}` ? N : never }[RouteName];
type ExactRoute = Exclude<RouteName, ParamRoute>;

const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];
const isParamRoute = (name: RouteName): name is ParamRoute => ROUTES[name].path.includes('/:');
/** Exact path → method → route. */
const EXACT = new Map<string, Partial<Record<HttpMethod, ExactRoute>>>();
for (const name of ROUTE_NAMES) {
  if (isParamRoute(name)) continue;
  const { path, method } = ROUTES[name];
  EXACT.set(path, { ...EXACT.get(path), [method]: name });
}
/** `/v1/invites/<inviteId>`: the prefix before the parameter, and the route per method. */
const INVITE_PREFIX = ROUTES.readInvite.path.slice(0, ROUTES.readInvite.path.indexOf(':'));
const INVITE_ROUTES: Partial<Record<string, ParamRoute>> = {};
for (const name of ROUTE_NAMES) if (isParamRoute(name)) INVITE_ROUTES[ROUTES[name].method] = name;
const OK = { ok: true } as const;

// The keys a body may hold (relay/encoding.ts onlyKeys); lib/protocol/relay.ts RouteTypes has their types.
const START_KEYS = ['rpId'] as const;
/** `response` is WebAuthn's own JSON (simplewebauthn reads it): browsers may add fields there, so its keys are not checked. */
const FINISH_KEYS = ['ceremonyId', 'response'] as const;
const MAILBOX_KEYS = ['mailboxId', 'secret'] as const;
const QUEUE_KEYS = ['queue', 'cap'] as const;
const LINK_KEYS = ['slot', 'key'] as const;
const CREATE_INVITE_KEYS = ['inviteId', 'writeKey', 'ciphertext', 'expiresAt', 'oneTime', 'token'] as const;
/** Retire attempts per target account and minute (a device is removed once; retries are few). */
const RETIRE_ATTEMPTS_PER_MINUTE = 10;

export function createRelay(deps: RelayDeps): Relay {
  const { config, log } = deps;
  const metrics = deps.metrics ?? new Metrics();
  const store = timedStore(deps.store, metrics);
  const now = deps.now ?? ((): number => Math.floor(Date.now() / 1000));
  const accounts = new Accounts(store, config, now);
  const pool = config.tokenWorkers > 0 ? new TokenPool(config.tokenWorkers) : null;
  const tokens = new TokenAuthority(store, config, now, pool, deps.partitionTokenKeys === true);
  const audit = deps.audit ?? ((): void => {});
  let issueSockets = 0;
  const bus = deps.bus ?? new LocalBus();
  const delivery = new Delivery(store, tokens, config, now, bus, metrics);
  const live = new Set<Connection>();
  metrics.gauge('connections', 'Open delivery WebSockets.', () => live.size);
  metrics.gauge('issue_connections', 'Open token issuance WebSockets.', () => issueSockets);
  metrics.gauge('bus_backlog', 'Wake-ups not yet taken by the bus (sends are refused with try_again above the configured bound, busMaxBacklog).', () => bus.backlog());
  const claimBudget = new MinuteBudget(config.keyPackageClaimsPerMinute);
  const retireBudget = new MinuteBudget(RETIRE_ATTEMPTS_PER_MINUTE);
  const timers: ReturnType<typeof setInterval>[] = [];

  // Bodies carry at most one message or a page of ids (twice the frame bound), or a key-package batch.
  const KEY_PACKAGE_BATCH = 100;
  const keyPackageBody = Math.ceil(((KEY_PACKAGE_BATCH + 1) * config.keyPackageMaxBytes * 4) / 3) + 64 * 1024;
  const defaultBody = Math.max(2 * config.maxFrameBytes, config.fetchBatchMax * 32 + 1024);
  /** The body, holding no key outside `keys` (the fields the handler reads). */
  const body = (req: Request, keys: readonly string[], max = defaultBody): Promise<Record<string, unknown>> => readStrictBody(req, max, keys);
  /** A route without fields: no body, or an empty object. */
  const noFields = async (req: Request): Promise<void> => {
    await readStrictBody(req, defaultBody, [], true);
  };
  const inviteBody = Math.ceil((config.inviteMaxBytes * 4) / 3) + 4 * 1024;
  const invites = new Invites(store, config, tokens, now);
  const links = new LinkSlots(config, now);
  const linkBody = Math.ceil((LINK_MAX_MESSAGE_BYTES * 4) / 3) + 1024;
  const readLinkKey = (b: Record<string, unknown>): Uint8Array => readBytes(b, 'key', { min: 32, max: 32 });
  const blobs = deps.blobs === undefined ? null : new Blobs(deps.blobs, tokens, delivery, config, now);
  const blobHandlers = blobs?.handlers() ?? null;
  const backups = deps.backups === undefined ? null : new Backups(deps.backups, accounts, config);
  const backupHandlers = backups?.handlers() ?? null;

  const limits: RelayLimits = {
    maxFrameBytes: config.maxFrameBytes,
    maxMessageBytes: config.maxMessageBytes,
    maxMessagesPerSecond: config.maxMessagesPerSecond,
    maxConnections: config.maxConnections,
    maxMailboxesPerConnection: config.maxMailboxesPerConnection,
    maxMailboxesPerQueue: config.maxMailboxesPerQueue,
    maxQueuesPerMailbox: config.maxQueuesPerMailbox,
    maxPendingMessagesPerQueue: config.maxPendingMessagesPerQueue,
    maxPendingBytesPerQueue: config.maxPendingBytesPerQueue,
    maxBufferedBytes: config.maxBufferedBytes,
    tokenBatchMax: config.tokenBatchMax,
    tokenDailyQuota: config.tokenDailyQuota,
    tokenIssueRequestsPerMinute: config.tokenIssueRequestsPerMinute,
    keyPackagesMaxPerAccount: config.keyPackagesMaxPerAccount,
    keyPackageClaimsPerMinute: config.keyPackageClaimsPerMinute,
    keyPackageMaxBytes: config.keyPackageMaxBytes,
    messageTtlSeconds: config.messageTtlSeconds,
    fetchBatchMax: config.fetchBatchMax,
    tokenSuite: TOKEN_SUITE,
  };

  const handlers: Handlers<ExactRoute> = {
    health: async () => OK,
    limits: async () => limits,
    registrationStart: async (req) => accounts.startRegistration(await body(req, START_KEYS), req.headers.get('origin')),
    registrationFinish: async (req) => accounts.finishRegistration(await body(req, FINISH_KEYS)),
    loginStart: async (req) => accounts.startLogin(await body(req, START_KEYS), req.headers.get('origin')),
    loginFinish: async (req) => accounts.finishLogin(await body(req, FINISH_KEYS)),
    // Session first (as every session route): without one the answer is unauthenticated, whatever the body.
    logout: async (req) => {
      await accounts.authenticate(req);
      await noFields(req);
      await accounts.logout(req);
      return OK;
    },
    deleteAccount: async (req) => {
      const { accountId } = await accounts.authenticate(req);
      await noFields(req);
      // Its backups go first: a failure then leaves the account, and deleting again finishes.
      if (backups !== null) await backups.accountDeleted(accountId);
      await accounts.deleteAccount(req);
      return OK;
    },
    session: async (req) => {
      const { accountId, expiresAt } = await accounts.authenticate(req);
      return { accountId, expiresAt };
    },
    uploadKeyPackages: async (req) => {
      const { accountId } = await accounts.authenticate(req);
      const b = await body(req, ['keyPackages', 'lastResort', 'retireHash'], keyPackageBody);
      const rule = { min: 1, max: config.keyPackageMaxBytes };
      const oneTime =
        b.keyPackages === undefined ? [] : readBytesList(b, 'keyPackages', { ...rule, minItems: 0, maxItems: KEY_PACKAGE_BATCH });
      const lastResort = readOptionalBytes(b, 'lastResort', rule);
      const retireHash = readOptionalBytes(b, 'retireHash', { min: 32, max: 32 });
      // A retired account's packages stay gone: its other devices removed it (docs/device-removal.md).
      if (await store.keyPackagesRetired(accountId)) throw new RelayError(ErrorCode.conflict, 'key packages retired');
      if (retireHash !== undefined && !(await store.setKeyPackageRetireHash(accountId, retireHash)))
        throw new RelayError(ErrorCode.conflict, 'key packages retired');
      const r = await store.addKeyPackages(accountId, oneTime, lastResort, config.keyPackagesMaxPerAccount);
      if (!r.ok) throw new RelayError(ErrorCode.quotaExceeded, 'key package cap reached');
      return r.value;
    },
    countKeyPackages: async (req) => {
      const { accountId } = await accounts.authenticate(req);
      return store.countKeyPackages(accountId);
    },
    claimKeyPackage: async (req) => {
      const { accountId: claimer } = await accounts.authenticate(req);
      const b = await body(req, ['accountId']);
      // Bounded per claiming account, so nobody drains another's one-time packages.
      if (!claimBudget.take(claimer)) throw new RelayError(ErrorCode.rateLimited, 'too many claims');
      const kp = await store.claimKeyPackage(readId(b, 'accountId'));
      if (kp === null) throw notFound();
      return { keyPackage: toB64(kp) };
    },
    retireKeyPackages: async (req) => {
      const b = await body(req, ['accountId', 'secret']);
      const accountId = readId(b, 'accountId');
      // Bounded per target account: a 32-byte secret is not guessed, but every try costs a store read.
      if (!retireBudget.take(accountId)) throw new RelayError(ErrorCode.rateLimited, 'too many retire attempts');
      const secret = readBytes(b, 'secret', { min: 32, max: 32 });
      // One answer for no hash registered and a wrong secret: nobody learns which accounts registered one.
      if (!(await store.retireKeyPackages(accountId, sha256(secret)))) throw new RelayError(ErrorCode.unauthenticated, 'not retired');
      return OK;
    },
    tokenKeys: async () => ({ suite: TOKEN_SUITE, keys: await tokens.publicKeys() }),
    issueTokens: async (req) => {
      const { accountId } = await accounts.authenticate(req);
      const b = await body(req, ['blinded']);
      const blinded = readBytesList(b, 'blinded', { min: 32, max: 32, maxItems: config.tokenBatchMax });
      return tokens.issue(accountId, blinded);
    },
    createMailbox: async (req) => delivery.createMailbox(readToken(await body(req, ['token']))),
    fetchMailbox: async (req) => {
      const b = await body(req, [...MAILBOX_KEYS, 'limit']);
      const limit = b.limit === undefined ? config.fetchBatchMax : readInt(b, 'limit', 1, config.fetchBatchMax);
      const msgs = await delivery.fetch(readId(b, 'mailboxId'), readSecret(b), limit);
      return { messages: msgs.map((m) => toWire(m)) };
    },
    ack: async (req) => {
      const b = await body(req, [...MAILBOX_KEYS, 'ids']);
      const removed = await delivery.ack(readId(b, 'mailboxId'), readSecret(b), readIdList(b, 'ids', config.fetchBatchMax));
      return { removed };
    },
    deleteMailbox: async (req) => {
      const b = await body(req, MAILBOX_KEYS);
      await delivery.deleteMailbox(readId(b, 'mailboxId'), readSecret(b));
      return OK;
    },
    sendWelcome: async (req) => {
      const b = await body(req, ['mailboxId', 'token', 'payload']);
      const payload = readEncodedBytes(b, 'payload', { max: config.maxMessageBytes });
      return { id: await delivery.sendWelcome(readId(b, 'mailboxId'), readToken(b), payload) };
    },
    registerQueue: async (req) => {
      const b = await body(req, [...QUEUE_KEYS, ...MAILBOX_KEYS]);
      const queue = readQueue(b);
      await delivery.register(queue, readCapability(b), readId(b, 'mailboxId'), readSecret(b));
      return OK;
    },
    unregisterQueue: async (req) => {
      const b = await body(req, [...QUEUE_KEYS, 'mailboxId']);
      const queue = readQueue(b);
      await delivery.unregister(queue, readCapability(b), readId(b, 'mailboxId'));
      return OK;
    },
    send: async (req) => {
      const b = await body(req, [...QUEUE_KEYS, 'token', 'payload', 'rotateTo']);
      const payload = readEncodedBytes(b, 'payload', { max: config.maxMessageBytes });
      const queue = readQueue(b);
      return { id: await delivery.send(queue, readCapability(b), readToken(b), payload, readRotateTo(b)) };
    },
    deleteQueue: async (req) => {
      const b = await body(req, QUEUE_KEYS);
      const queue = readQueue(b);
      await delivery.deleteQueue(queue, readCapability(b));
      await blobs?.queueDeleted(queue);
      return OK;
    },
    createInvite: async (req) => {
      await invites.create(await body(req, CREATE_INVITE_KEYS, inviteBody));
      return OK;
    },
    openLink: async (req) => {
      const { accountId } = await accounts.authenticate(req);
      await noFields(req);
      const { slot, key, expiresAt } = links.open(accountId);
      return { slot, key: toB64(key), expiresAt };
    },
    joinLink: async (req) => {
      const { accountId } = await accounts.authenticate(req);
      const { key, expiresAt } = links.join(accountId, readSlot(await body(req, ['slot'])));
      return { key: toB64(key), expiresAt };
    },
    postLink: async (req) => {
      const b = await body(req, [...LINK_KEYS, 'payload'], linkBody);
      return links.post(readSlot(b), readLinkKey(b), readBytes(b, 'payload', { max: LINK_MAX_MESSAGE_BYTES }));
    },
    fetchLink: async (req) => {
      const b = await body(req, [...LINK_KEYS, 'after', 'waitMs']);
      const waitMs = b.waitMs === undefined ? 0 : readInt(b, 'waitMs', 0, LINK_MAX_WAIT_MS);
      const r = await links.fetch(readSlot(b), readLinkKey(b), readInt(b, 'after', 0, Number.MAX_SAFE_INTEGER), waitMs);
      return { messages: r.messages.slice(0, LINK_FETCH_MAX).map(toB64), next: r.next, joined: r.joined, peerClosed: r.peerClosed };
    },
    closeLink: async (req) => {
      const b = await body(req, LINK_KEYS);
      links.close(readSlot(b), readLinkKey(b));
      return OK;
    },
  };

  /** /v1/invites/<inviteId>: read, replace or delete one invite. */
  const inviteHandlers: { [N in ParamRoute]: (req: Request, inviteId: Uint8Array) => Promise<ResponseOf<N>> } = {
    readInvite: async (_req, inviteId) => ({ ciphertext: toB64(await invites.read(inviteId)) }),
    updateInvite: async (req, inviteId) => {
      await invites.update(inviteId, await body(req, ['writeKey', 'ciphertext'], inviteBody));
      return OK;
    },
    deleteInvite: async (req, inviteId) => {
      await invites.remove(inviteId, await body(req, ['writeKey']));
      return OK;
    },
  };

  async function inviteRoute(req: Request, segment: string): Promise<Response> {
    const inviteId = parseInviteId(segment);
    const name = INVITE_ROUTES[req.method];
    if (name === undefined) throw new RelayError(ErrorCode.methodNotAllowed, 'method not allowed');
    return json(await inviteHandlers[name](req, inviteId));
  }

  function upgradeSocket(req: Request, upgrade: UpgradeWebSocket | undefined, connection: string): Response {
    if (upgrade === undefined || req.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      throw new RelayError(ErrorCode.badRequest, 'expected a WebSocket upgrade');
    }
    if (live.size >= config.maxConnections) throw new RelayError(ErrorCode.capacity, 'too many connections');
    const { socket, response } = upgrade(req);
    const conn: Connection = new Connection(socket, delivery, config, log, () => live.delete(conn), (op) => audit(connection, op));
    live.add(conn);
    return response;
  }

  /** The issuance socket: one authenticated batch, then closed (issue-socket.ts). */
  function upgradeIssueSocket(req: Request, upgrade: UpgradeWebSocket | undefined, connection: string): Response {
    if (upgrade === undefined || req.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      throw new RelayError(ErrorCode.badRequest, 'expected a WebSocket upgrade');
    }
    if (live.size + issueSockets >= config.maxConnections) throw new RelayError(ErrorCode.capacity, 'too many connections');
    const { socket, response } = upgrade(req);
    issueSockets++;
    serveIssueSocket(socket, { accounts, tokens, config, log, audit: (op) => audit(connection, op), onClose: () => issueSockets-- });
    return response;
  }

  async function route(req: Request, upgrade: UpgradeWebSocket | undefined, connection: string): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    audit(connection, auditOp(req.method, path));
    // No route reads one: a query string is refused like an unexpected key in a body (encoding.ts onlyKeys).
    if (url.search !== '') throw new RelayError(ErrorCode.badRequest, 'unexpected query string');
    if (path === DELIVERY_SOCKET_PATH && req.method === 'GET') return upgradeSocket(req, upgrade, connection);
    if (path === ISSUE_SOCKET_PATH && req.method === 'GET') return upgradeIssueSocket(req, upgrade, connection);
    if (path.startsWith(INVITE_PREFIX)) return inviteRoute(req, path.slice(INVITE_PREFIX.length));
    if (path === BLOB_PATH_PREFIX || path.startsWith(`${BLOB_PATH_PREFIX}/`)) return blobRoute(req, path);
    if (path === BACKUP_PATH_PREFIX || path.startsWith(`${BACKUP_PATH_PREFIX}/`)) return backupRoute(req, path);
    const methods = EXACT.get(path);
    if (methods === undefined) throw notFound();
    // HEAD is answered as GET (the runtime drops the body).
    const name = methods[(req.method === 'HEAD' ? 'GET' : req.method) as HttpMethod];
    if (name === undefined) throw new RelayError(ErrorCode.methodNotAllowed, 'method not allowed');
    const handler = handlers[name] as (req: Request) => Promise<unknown>;
    return json(await handler(req));
  }

  /** /v1/blobs…: the blob API (relay/blobs/blobs.ts). */
  async function blobRoute(req: Request, path: string): Promise<Response> {
    const name = BLOB_ROUTE_BY_PATH.get(path);
    if (name === undefined) throw notFound();
    if (req.method !== BLOB_ROUTES[name].method) throw new RelayError(ErrorCode.methodNotAllowed, 'method not allowed');
    if (blobHandlers === null) throw notFound();
    const handler = blobHandlers[name] as (req: Request) => Promise<unknown>;
    return json(await handler(req));
  }

  /** /v1/backups…: the backup API (relay/backups/backups.ts). */
  async function backupRoute(req: Request, path: string): Promise<Response> {
    const name = BACKUP_ROUTE_BY_PATH.get(path);
    if (name === undefined) throw notFound();
    if (req.method !== BACKUP_ROUTES[name].method) throw new RelayError(ErrorCode.methodNotAllowed, 'method not allowed');
    if (backupHandlers === null) throw notFound();
    const handler = backupHandlers[name] as (req: Request) => Promise<unknown>;
    return json(await handler(req));
  }

  async function periodic(job: () => Promise<unknown>): Promise<void> {
    try {
      await job();
    } catch (err) {
      log(`periodic job failed: ${err instanceof Error ? err.name : typeof err}`);
    }
  }

  return {
    async fetch(req: Request, upgrade?: UpgradeWebSocket, connection = ''): Promise<Response> {
      const cors = corsHeaders(config, req);
      if (req.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors });
      let res: Response;
      try {
        res = await route(req, upgrade, connection);
        if (res.status !== 101) cors.forEach((v, k) => res.headers.set(k, v));
      } catch (err) {
        res = toErrorResponse(err, log, cors);
      }
      // A connection that named an account is not kept alive for the anonymous requests after it; nor is
      // one that spent a token or touched a mailbox or queue kept for an account request after it (clients
      // pool connections per origin, and a device's KeyPackage requests come at any time).
      // (Only public reads such as /v1/limits share a connection.)
      if (res.status !== 101 && auditOp(req.method, new URL(req.url).pathname) !== 'public') res.headers.set('connection', 'close');
      return res;
    },
    async start(): Promise<void> {
      await bus.start();
      await tokens.rotate();
      await delivery.keepSubscribedAlive();
      metrics.inc('messagesExpired', (await store.sweep(now())).messages);
      await blobs?.sweep();
      const rotateEvery = Math.max(1, Math.min(60, Math.floor(config.tokenKeyOverlapSeconds / 4))) * 1000;
      timers.push(setInterval(() => void periodic(() => tokens.rotate()), rotateEvery));
      const sweep = async (): Promise<void> => {
        await delivery.keepSubscribedAlive();
        metrics.inc('messagesExpired', (await store.sweep(now())).messages);
        await blobs?.sweep();
      };
      timers.push(setInterval(() => void periodic(sweep), config.sweepIntervalSeconds * 1000));
      timers.push(setInterval(() => void periodic(() => store.scrub()), Math.max(100, config.scrubIntervalMs)));
      if (blobs !== null) timers.push(setInterval(() => void periodic(() => blobs.scrub()), Math.max(100, config.scrubIntervalMs)));
      if (backups !== null) timers.push(setInterval(() => void periodic(() => backups.scrub()), Math.max(100, config.scrubIntervalMs)));
      timers.push(setInterval(() => links.sweep(), 10_000));
    },
    closeConnections(): void {
      for (const conn of live) conn.goAway();
    },
    async close(): Promise<void> {
      for (const t of timers) clearInterval(t);
      pool?.close();
      await bus.close();
      await blobs?.close();
      await backups?.close();
      await store.close();
    },
    metrics: () => metrics.render(),
  };
}

/** Routes that carry or create an account session. */
const AUTHENTICATED: ReadonlySet<string> = new Set(
  (
    [
      'registrationStart',
      'registrationFinish',
      'loginStart',
      'loginFinish',
      'logout',
      'session',
      'uploadKeyPackages',
      'claimKeyPackage',
      'issueTokens',
      'deleteAccount',
      'openLink',
      'joinLink',
    ] as const satisfies readonly RouteName[]
  ).map((name) => ROUTES[name].path),
);

const SPENDING: ReadonlySet<string> = new Set([ROUTES.createMailbox.path, ROUTES.send.path, ROUTES.sendWelcome.path]);

/** The kind of a request for the test audit: what it reveals about who is on the connection. */
function auditOp(method: string, path: string): string {
  if (path === ROUTES.issueTokens.path) return 'issue';
  if (AUTHENTICATED.has(path)) return 'account';
  if (path === DELIVERY_SOCKET_PATH) return 'delivery-socket';
  if (path === ISSUE_SOCKET_PATH) return 'issue-socket';
  if (method === 'POST' && SPENDING.has(path)) return 'spend';
  if (path === ROUTES.fetchMailbox.path) return 'fetch';
  if (path === ROUTES.ack.path) return 'ack';
  if (path.startsWith('/v1/queues/') || path.startsWith('/v1/mailboxes/')) return 'queue';
  if (path.startsWith(ROUTES.createInvite.path)) return 'invite';
  if (path.startsWith(ROUTES.openLink.path)) return 'link';
  if (path === BLOB_ROUTES.createBlob.path || path === BLOB_ROUTES.putBlobChunk.path || path === BLOB_ROUTES.deleteBlob.path) return 'spend';
  if (path === BLOB_ROUTES.fetchBlobChunk.path) return 'fetch';
  if (path === BLOB_ROUTES.releaseBlob.path) return 'ack';
  // Writing names the account; reading a backup is anonymous but is never something to pool with the others.
  if (path === BACKUP_ROUTES.putBackupItem.path) return 'account';
  if (path.startsWith(BACKUP_PATH_PREFIX)) return 'backup';
  return 'public';
}

function readQueue(b: Record<string, unknown>): Uint8Array {
  return readBytes(b, 'queue', { min: 16, max: 64 });
}

function readSecret(b: Record<string, unknown>): Uint8Array {
  return readBytes(b, 'secret', { min: 32, max: 32 });
}
