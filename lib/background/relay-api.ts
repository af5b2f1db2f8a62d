/**
 * The background's typed client for the relay (HTTP API in relay/app.ts,
 * WebSocket frames in relay/ws.ts), and the live connection manager.
 *
 * Everything that comes back is checked before use: the relay is not
 * trusted with anything but delivery, and a confused or hostile relay must
 * produce a typed `RelayApiError`, never a half-read object.
 *
 * `RelayConnection` keeps one WebSocket open while there is something to
 * listen to: it reconnects with exponential backoff and full jitter, capped
 * low (a few seconds) so a relay that comes back is found within seconds, and
 * at once when nudged (the browser is back online, the person asked). It sends an
 * application-level ping while open (which also keeps an MV3 service worker
 * alive: Chrome counts WebSocket traffic as activity) and declares the socket
 * dead when a pong does not come back in time.
 */
import { fromB64, toB64 } from '../bytes.ts';
import type { ConnectionState } from '../protocol/channel.ts';

export interface WireToken {
  keyId: string;
  input: string;
  output: string;
}

export interface MailboxCredentials {
  mailboxId: string;
  /** base64url of the 32-byte mailbox secret. */
  secret: string;
}

export interface DeliveredMessage {
  id: string;
  kind: 'group' | 'welcome';
  payload: Uint8Array;
}

export interface SessionInfo {
  accountId: string;
  token: string;
  expiresAt: number;
}

export interface TokenKeyInfo {
  keyId: string;
  publicKey: Uint8Array;
  issuing: boolean;
  acceptUntil: number;
}

/** A failed relay call: `status` 0 means the relay could not be reached at all. */
export class RelayApiError extends Error {
  override readonly name = 'RelayApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get unreachable(): boolean {
    return this.status === 0;
  }
}

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(what: string): RelayApiError {
  return new RelayApiError(502, 'malformed', `the relay sent a malformed ${what}`);
}

function str(o: Json, k: string, what: string, max = 4096): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max) throw malformed(what);
  return v;
}

function bytes(o: Json, k: string, what: string, max = 1 << 20): Uint8Array {
  const b = fromB64(str(o, k, what, Math.ceil((max * 4) / 3) + 4));
  if (b === null) throw malformed(what);
  return b;
}

function num(o: Json, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw malformed(what);
  return v;
}

const ID = /^[A-Za-z0-9_-]{22}$/;

export function parseDelivered(o: unknown): DeliveredMessage {
  if (!isRecord(o)) throw malformed('message');
  const id = str(o, 'id', 'message id', 22);
  if (!ID.test(id)) throw malformed('message id');
  const kind = o.kind;
  if (kind !== 'group' && kind !== 'welcome') throw malformed('message kind');
  return { id, kind, payload: bytes(o, 'payload', 'message payload') };
}

export interface RelayApiOptions {
  fetch?: typeof fetch;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
}

export class RelayApi {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(
    readonly baseUrl: string,
    options: RelayApiOptions = {},
  ) {
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  private async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: Json, session?: string): Promise<Json> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (session !== undefined) headers.authorization = `Bearer ${session}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      text = await res.text();
    } catch (err) {
      throw new RelayApiError(0, 'unreachable', 'The relay could not be reached.', { cause: err });
    } finally {
      clearTimeout(timer);
    }
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: handled below
    }
    if (!res.ok) {
      const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
      const code = typeof err.code === 'string' ? err.code.slice(0, 64) : 'http_' + res.status;
      const message = typeof err.message === 'string' ? err.message.slice(0, 200) : `The relay answered ${res.status}.`;
      throw new RelayApiError(res.status, code, message);
    }
    if (!isRecord(parsed)) throw malformed('answer');
    return parsed;
  }

  // -- accounts and sessions ------------------------------------------------

  /** No user name goes to the relay: the passkey is "MicroChat account" there, the display name stays on this device. */
  async registrationStart(rpId?: string): Promise<{ ceremonyId: string; options: Json }> {
    const r = await this.call('POST', '/v1/accounts/register/start', rpId === undefined ? {} : { rpId });
    if (!isRecord(r.options)) throw malformed('registration options');
    return { ceremonyId: str(r, 'ceremonyId', 'ceremony id', 64), options: r.options };
  }

  async registrationFinish(ceremonyId: string, response: unknown): Promise<SessionInfo> {
    return parseSession(await this.call('POST', '/v1/accounts/register/finish', { ceremonyId, response: withoutClientSecrets(response) }));
  }

  async loginStart(rpId?: string): Promise<{ ceremonyId: string; options: Json }> {
    const r = await this.call('POST', '/v1/sessions/start', rpId === undefined ? {} : { rpId });
    if (!isRecord(r.options)) throw malformed('login options');
    return { ceremonyId: str(r, 'ceremonyId', 'ceremony id', 64), options: r.options };
  }

  async loginFinish(ceremonyId: string, response: unknown): Promise<SessionInfo> {
    return parseSession(await this.call('POST', '/v1/sessions/finish', { ceremonyId, response: withoutClientSecrets(response) }));
  }

  /** End this session at the relay (signing out). */
  async logout(token: string): Promise<void> {
    await this.call('POST', '/v1/sessions/logout', {}, token);
  }

  /** Delete the session's own account: its passkey credentials, sessions and key packages. */
  async deleteAccount(token: string): Promise<void> {
    await this.call('POST', '/v1/accounts/delete', {}, token);
  }

  async session(token: string): Promise<{ accountId: string; expiresAt: number }> {
    const r = await this.call('GET', '/v1/session', undefined, token);
    return { accountId: str(r, 'accountId', 'session', 64), expiresAt: num(r, 'expiresAt', 'session') };
  }

  // -- sealed-sender tokens -------------------------------------------------

  async tokenKeys(): Promise<TokenKeyInfo[]> {
    const r = await this.call('GET', '/v1/tokens/keys');
    if (r.suite !== 'ristretto255-SHA512' || !Array.isArray(r.keys)) throw malformed('token key list');
    return r.keys.map((k: unknown) => {
      if (!isRecord(k) || typeof k.issuing !== 'boolean') throw malformed('token key');
      return {
        keyId: str(k, 'keyId', 'token key', 32),
        publicKey: bytes(k, 'publicKey', 'token key', 32),
        issuing: k.issuing,
        acceptUntil: num(k, 'acceptUntil', 'token key'),
      };
    });
  }

  async issueTokens(session: string, blinded: Uint8Array[]): Promise<{ keyId: string; evaluated: Uint8Array[]; proof: Uint8Array }> {
    const r = await this.call('POST', '/v1/tokens/issue', { blinded: blinded.map(toB64) }, session);
    if (!Array.isArray(r.evaluated) || r.evaluated.length !== blinded.length) throw malformed('token issuance');
    const evaluated = r.evaluated.map((e: unknown) => {
      const b = typeof e === 'string' ? fromB64(e) : null;
      if (b === null || b.length !== 32) throw malformed('evaluated element');
      return b;
    });
    return { keyId: str(r, 'keyId', 'token issuance', 32), evaluated, proof: bytes(r, 'proof', 'token proof', 64) };
  }

  async limits(): Promise<{ maxMessageBytes: number; tokenBatchMax: number; fetchBatchMax: number }> {
    const r = await this.call('GET', '/v1/limits');
    return {
      maxMessageBytes: num(r, 'maxMessageBytes', 'limits'),
      tokenBatchMax: num(r, 'tokenBatchMax', 'limits'),
      fetchBatchMax: num(r, 'fetchBatchMax', 'limits'),
    };
  }

  // -- mailboxes and queues -------------------------------------------------

  async createMailbox(token: WireToken): Promise<MailboxCredentials> {
    const r = await this.call('POST', '/v1/mailboxes', { token: { ...token } });
    const mailboxId = str(r, 'mailboxId', 'mailbox', 22);
    const secret = str(r, 'secret', 'mailbox', 43);
    if (!ID.test(mailboxId) || fromB64(secret)?.length !== 32) throw malformed('mailbox');
    return { mailboxId, secret };
  }

  async fetchMailbox(mb: MailboxCredentials, limit?: number): Promise<DeliveredMessage[]> {
    const r = await this.call('POST', '/v1/mailboxes/fetch', { ...mb, ...(limit === undefined ? {} : { limit }) });
    if (!Array.isArray(r.messages)) throw malformed('fetch answer');
    return r.messages.map(parseDelivered);
  }

  async ack(mb: MailboxCredentials, ids: string[]): Promise<number> {
    const r = await this.call('POST', '/v1/mailboxes/ack', { ...mb, ids });
    return num(r, 'removed', 'ack answer');
  }

  async deleteMailbox(mb: MailboxCredentials): Promise<void> {
    await this.call('POST', '/v1/mailboxes/delete', { ...mb });
  }

  // `cap`: the queue capability of the current epoch (queue-capability.ts).
  async registerQueue(queue: Uint8Array, cap: Uint8Array, mb: MailboxCredentials): Promise<void> {
    await this.call('POST', '/v1/queues/register', { queue: toB64(queue), cap: toB64(cap), ...mb });
  }

  async unregisterQueue(queue: Uint8Array, cap: Uint8Array, mailboxId: string): Promise<void> {
    await this.call('POST', '/v1/queues/unregister', { queue: toB64(queue), cap: toB64(cap), mailboxId });
  }

  /**
   * Post to a queue, anonymously: a single-use token and the capability every
   * member shares. `rotateTo` (a Commit): H(Q, C') of the epoch it starts.
   */
  async send(queue: Uint8Array, cap: Uint8Array, token: WireToken, payload: Uint8Array, rotateTo?: string): Promise<string> {
    const r = await this.call('POST', '/v1/queues/send', {
      queue: toB64(queue),
      cap: toB64(cap),
      token: { ...token },
      payload: toB64(payload),
      ...(rotateTo === undefined ? {} : { rotateTo }),
    });
    return str(r, 'id', 'send answer', 22);
  }

  async deleteQueue(queue: Uint8Array, cap: Uint8Array): Promise<void> {
    await this.call('POST', '/v1/queues/delete', { queue: toB64(queue), cap: toB64(cap) });
  }

  // -- invite blobs ---------------------------------------------------------
  //   POST   /v1/invites            {inviteId, writeKey, ciphertext, expiresAt, oneTime, token} → {ok:true} | 409
  //   PUT    /v1/invites/<inviteId> {writeKey, ciphertext}                              → 200 | 404
  //   GET    /v1/invites/<inviteId>                                                     → {ciphertext} | 404
  //   DELETE /v1/invites/<inviteId> {writeKey}                                          → 200 | 404

  async createInvite(p: {
    inviteId: string;
    writeKey: Uint8Array;
    ciphertext: Uint8Array;
    expiresAt: number;
    oneTime: boolean;
    token: WireToken;
  }): Promise<void> {
    await this.call('POST', '/v1/invites', {
      token: { ...p.token },
      inviteId: p.inviteId,
      writeKey: toB64(p.writeKey),
      ciphertext: toB64(p.ciphertext),
      expiresAt: p.expiresAt,
      oneTime: p.oneTime,
    });
  }

  async updateInvite(inviteId: string, writeKey: Uint8Array, ciphertext: Uint8Array): Promise<void> {
    await this.call('PUT', `/v1/invites/${encodeURIComponent(inviteId)}`, { writeKey: toB64(writeKey), ciphertext: toB64(ciphertext) });
  }

  async getInvite(inviteId: string): Promise<Uint8Array> {
    const r = await this.call('GET', `/v1/invites/${encodeURIComponent(inviteId)}`);
    return bytes(r, 'ciphertext', 'invite');
  }

  async deleteInvite(inviteId: string, writeKey: Uint8Array): Promise<void> {
    await this.call('DELETE', `/v1/invites/${encodeURIComponent(inviteId)}`, { writeKey: toB64(writeKey) });
  }
}

function parseSession(r: Json): SessionInfo {
  const token = str(r, 'token', 'session', 64);
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw malformed('session');
  return { accountId: str(r, 'accountId', 'session', 64), token, expiresAt: num(r, 'expiresAt', 'session') };
}

// ---------------------------------------------------------------------------
// The live connection

/** The parts of the WHATWG WebSocket we use (the browser's, or `ws` in Node tests). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ConnectionOptions {
  url: string;
  WebSocket: WebSocketConstructor;
  /** The mailboxes to listen to (more can be added and removed while running). */
  mailboxes: MailboxCredentials[];
  onMessage: (mailboxId: string, m: DeliveredMessage) => void;
  onState: (s: ConnectionState) => void;
  /** Ping interval while open (default 20 s: below Chrome's 30 s worker idle timeout). */
  heartbeatMs?: number;
  /** How long to wait for a pong or an open (default 10 s). */
  deadlineMs?: number;
  /** Backoff: base and cap in ms (defaults 500 ms and BACKOFF_MAX_MS). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
}

const OPEN = 1;
/** Below the relay's default 30 frames a second per connection, leaving room for bursts of acks. */
const FRAMES_PER_SECOND = 20;
/** Ids per ack frame: well under the relay's default fetchBatchMax (500), the most one frame may carry. */
const ACK_IDS_PER_FRAME = 100;

/**
 * The longest wait between two attempts while the relay is away. Low on
 * purpose: the person is waiting for their messages to go, and one attempt
 * is one refused TCP connection (or one WebSocket upgrade) at the relay.
 * Full jitter spreads the clients of a restarted relay over this window.
 */
export const BACKOFF_MAX_MS = 4_000;

/** Full-jitter exponential backoff: a uniform delay in [0, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

export class RelayConnection {
  private socket: WebSocketLike | undefined;
  private state: ConnectionState = 'offline';
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private nextRid = 1;
  /** Resolves when the next successful subscription completes (for callers that wait for "online"). */
  private readonly onlineWaiters: (() => void)[] = [];
  private readonly mailboxes = new Map<string, MailboxCredentials>();
  /** Frames waiting for the pacing; an ack's ids stay open to more until it goes (see ack). */
  private readonly outQueue: { ws: WebSocketLike; frame: Record<string, unknown>; ackOf?: string; ids?: string[] }[] = [];
  private windowStart = 0;
  private sentInWindow = 0;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly opts: ConnectionOptions) {
    for (const mb of opts.mailboxes) this.mailboxes.set(mb.mailboxId, mb);
  }

  /** Listen to one more mailbox (subscribed at once when open, and on every reconnect). */
  addMailbox(mb: MailboxCredentials): void {
    if (this.mailboxes.has(mb.mailboxId)) return;
    this.mailboxes.set(mb.mailboxId, mb);
    if (this.socket?.readyState === OPEN) this.subscribe(this.socket, mb);
  }

  removeMailbox(mailboxId: string): void {
    if (!this.mailboxes.delete(mailboxId)) return;
    if (this.socket?.readyState === OPEN) this.send(this.socket, { t: 'unsub', mailboxId, rid: this.nextRid++ });
  }

  private subscribe(ws: WebSocketLike, mb: MailboxCredentials): void {
    this.send(ws, { t: 'sub', mailboxId: mb.mailboxId, secret: mb.secret, rid: `sub:${mb.mailboxId}` });
  }

  /**
   * Frames go out at most FRAMES_PER_SECOND a second (the relay answers more
   * with rate_limited and closes a connection that keeps going): with many
   * conversations, the subscriptions after a reconnect are paced, not dropped.
   */
  private send(ws: WebSocketLike, frame: Record<string, unknown>, urgent = false): void {
    // Pings jump the queue: a backlog of subscriptions must not look like a dead socket.
    if (urgent) this.outQueue.unshift({ ws, frame });
    else this.outQueue.push({ ws, frame });
    this.pump();
  }

  private pump(): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.sentInWindow = 0;
    }
    while (this.outQueue.length > 0 && this.sentInWindow < FRAMES_PER_SECOND) {
      const next = this.outQueue.shift()!;
      if (next.ws !== this.socket || next.ws.readyState !== OPEN) continue;
      next.ws.send(JSON.stringify(next.ids === undefined ? next.frame : { ...next.frame, ids: next.ids }));
      this.sentInWindow++;
    }
    if (this.outQueue.length > 0 && this.pumpTimer === undefined) {
      this.pumpTimer = setTimeout(() => {
        this.pumpTimer = undefined;
        this.pump();
      }, Math.max(1, 1000 - (Date.now() - this.windowStart)));
    }
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.connect(true);
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const s = this.socket;
    this.socket = undefined;
    if (s !== undefined) {
      s.onopen = s.onclose = s.onerror = s.onmessage = null;
      try {
        s.close(1000, 'bye');
      } catch {
        // already closed
      }
    }
    this.setState('offline');
  }

  /**
   * Reconnect now (the browser says the network is back, the person pressed
   * Retry now, an alarm woke us): the back-off starts over, and while this
   * attempt runs the state says 'connecting'.
   */
  nudge(): void {
    if (this.stopped) return;
    if (this.socket === undefined) {
      if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.attempt = 0;
      this.connect(true);
    } else if (this.state === 'offline') {
      // A quiet attempt is already under way: it is the one asked for.
      this.setState('connecting');
    } else if (this.state === 'online') {
      this.ping();
    }
  }

  /** Wait until the connection is online (or the timeout passes); true when online. */
  waitOnline(timeoutMs: number): Promise<boolean> {
    if (this.state === 'online') return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.onlineWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /**
   * Acknowledge over the socket; false when not online (the caller then uses HTTP).
   * Ids join an ack of the same mailbox still waiting for the pacing, up to
   * ACK_IDS_PER_FRAME: one frame per message would cap acks at the frame rate
   * (20 a second), and a conversation busier than that would pile up at the
   * relay until its per-queue cap refused new messages for everyone.
   */
  ack(mailboxId: string, ids: string[]): boolean {
    const ws = this.socket;
    if (this.state !== 'online' || ws?.readyState !== OPEN || !this.mailboxes.has(mailboxId)) return false;
    let rest = ids;
    const waiting = this.outQueue.find((e) => e.ws === ws && e.ackOf === mailboxId && e.ids!.length < ACK_IDS_PER_FRAME);
    if (waiting !== undefined) {
      const room = ACK_IDS_PER_FRAME - waiting.ids!.length;
      waiting.ids!.push(...rest.slice(0, room));
      rest = rest.slice(room);
    }
    for (let i = 0; i < rest.length; i += ACK_IDS_PER_FRAME) {
      this.outQueue.push({ ws, frame: { t: 'ack', mailboxId, rid: this.nextRid++ }, ackOf: mailboxId, ids: rest.slice(i, i + ACK_IDS_PER_FRAME) });
    }
    this.pump();
    return true;
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    if (s === 'online') for (const w of this.onlineWaiters.splice(0)) w();
    this.opts.onState(s);
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.pongTimer, this.openTimer, this.pumpTimer]) if (t !== undefined) clearTimeout(t);
    this.pumpTimer = undefined;
    this.outQueue.length = 0;
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    this.reconnectTimer = this.pongTimer = this.openTimer = this.heartbeatTimer = undefined;
  }

  /**
   * `announce`: say 'connecting' while this attempt runs. Attempts made by
   * the back-off timer after a failed one leave the state 'offline', so the
   * view does not flicker between the two every few seconds.
   */
  private connect(announce: boolean): void {
    this.clearTimers();
    if (announce) this.setState('connecting');
    let ws: WebSocketLike;
    try {
      ws = new this.opts.WebSocket(this.opts.url.replace(/^http/, 'ws') + '/v1/ws');
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = ws;
    const deadline = this.opts.deadlineMs ?? 10_000;
    this.openTimer = setTimeout(() => this.drop(ws), deadline);
    ws.onopen = () => {
      if (this.openTimer !== undefined) clearTimeout(this.openTimer);
      this.openTimer = undefined;
      // The first answer to any of these proves the relay is there; then we are online.
      this.send(ws, { t: 'ping', rid: 'hello' }, true);
      for (const mb of this.mailboxes.values()) this.subscribe(ws, mb);
      this.pongTimer = setTimeout(() => this.drop(ws), deadline);
    };
    ws.onmessage = (ev) => this.onFrame(ws, ev.data);
    ws.onclose = () => this.drop(ws);
    ws.onerror = () => this.drop(ws);
  }

  private onFrame(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.socket || typeof data !== 'string') return;
    let f: unknown;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (!isRecord(f)) return;
    if (f.t === 'msg') {
      let m: DeliveredMessage;
      try {
        m = parseDelivered(f);
      } catch {
        return; // a malformed push is dropped; the HTTP fetch fallback will see it again if real
      }
      if (typeof f.mailboxId !== 'string' || !this.mailboxes.has(f.mailboxId)) return;
      this.opts.onMessage(f.mailboxId, m);
      return;
    }
    if (f.t === 'pong' && f.rid === 'hello') {
      if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      this.attempt = 0;
      this.setState('online');
      const every = this.opts.heartbeatMs ?? 20_000;
      this.heartbeatTimer = setInterval(() => this.ping(), every);
      return;
    }
    if (f.t === 'pong') {
      if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      return;
    }
    // A mailbox the relay does not know (deleted, or another relay) is an error for that
    // subscription only; the others keep working.
  }

  private ping(): void {
    const ws = this.socket;
    if (ws === undefined || ws.readyState !== OPEN || this.pongTimer !== undefined) return;
    this.send(ws, { t: 'ping' }, true);
    this.pongTimer = setTimeout(() => this.drop(ws), this.opts.deadlineMs ?? 10_000);
  }

  /** Forget a dead socket and schedule the next attempt. */
  private drop(ws: WebSocketLike, penalty = 0): void {
    if (ws !== this.socket) return;
    this.socket = undefined;
    ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
    try {
      ws.close();
    } catch {
      // already closed
    }
    this.clearTimers();
    this.attempt += penalty;
    if (!this.stopped) this.scheduleReconnect();
    else this.setState('offline');
  }

  /** Not connected: 'offline' until an attempt succeeds (the attempts of the back-off do not announce themselves). */
  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt, this.opts.backoffBaseMs ?? 500, this.opts.backoffMaxMs ?? BACKOFF_MAX_MS, this.opts.random);
    this.attempt++;
    this.setState('offline');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) this.connect(false);
    }, delay);
  }
}

/**
 * A WebAuthn response as the relay may see it. The client extension results
 * carry the PRF output that the passkey lock derives its key from; it is a
 * device secret and must never leave the background, and the relay needs none
 * of the extension results to verify a ceremony.
 */
export function withoutClientSecrets(response: unknown): Json {
  if (!isRecord(response)) return response as Json;
  return { ...response, clientExtensionResults: {} } as Json;
}
