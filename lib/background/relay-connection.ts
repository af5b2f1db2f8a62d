/**
 * The live connection to the relay's delivery socket (GET /v1/ws; frames are
 * the contract's `ClientFrame` and `ServerFrame`, lib/protocol/relay.ts).
 *
 * `RelayConnection` keeps one WebSocket open while there is something to
 * listen to: it reconnects with exponential backoff and full jitter, capped
 * low (a few seconds) so a relay that comes back is found within seconds, and
 * at once when nudged (the browser is back online, the person asked). It sends an
 * application-level ping while open (which also keeps an MV3 service worker
 * alive: Chrome counts WebSocket traffic as activity) and declares the socket
 * dead when a pong does not come back in time.
 */
import type { ConnectionState } from '../protocol/channel.ts';
import { DELIVERY_SOCKET_PATH, type ClientFrame, type MailboxCredentials, type ServerFrameType } from '../protocol/relay.ts';
import { isRecord, parseDelivered, type DeliveredMessage } from './relay-wire.ts';
import { closeQuietly, type WebSocketConstructor, type WebSocketLike } from './websocket-like.ts';

export type { WebSocketConstructor, WebSocketLike };

export interface ConnectionOptions {
  url: string;
  WebSocket: WebSocketConstructor;
  /** The mailboxes to listen to (more can be added and removed while running). */
  mailboxes: MailboxCredentials[];
  onMessage: (mailboxId: string, m: DeliveredMessage) => void;
  onState: (s: ConnectionState) => void;
  /** The relay refused to subscribe this mailbox as one it does not know (not_found: deleted, or expired while away). */
  onMailboxUnknown?: (mailboxId: string) => void;
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
/** An ack waiting for the pacing: its ids are kept beside it, open to more until it goes. */
type AckWithoutIds = Omit<Extract<ClientFrame, { t: 'ack' }>, 'ids'>;
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
  private readonly outQueue: { ws: WebSocketLike; frame: ClientFrame | AckWithoutIds; ackOf?: string; ids?: string[] }[] = [];
  private windowStart = 0;
  private sentInWindow = 0;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  /** Subscriptions sent on this socket and not yet answered: one the relay dropped for the rate is sent again. */
  private readonly unanswered = new Set<string>();
  private resubTimer: ReturnType<typeof setTimeout> | undefined;

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
    this.unanswered.delete(mailboxId);
    if (!this.mailboxes.delete(mailboxId)) return;
    if (this.socket?.readyState === OPEN) this.send(this.socket, { t: 'unsub', mailboxId, rid: this.nextRid++ });
  }

  private subscribe(ws: WebSocketLike, mb: MailboxCredentials): void {
    this.unanswered.add(mb.mailboxId);
    this.send(ws, { t: 'sub', mailboxId: mb.mailboxId, secret: mb.secret, rid: `sub:${mb.mailboxId}` });
  }

  /**
   * The relay answered a frame with rate_limited, which names no frame: it
   * was not processed. A lost subscription would leave its mailbox silent on
   * a socket that looks fine (what arrives there waits, unread, until the next
   * reconnect, and a member's removal deletes it unread), so every
   * subscription not yet answered goes again a second later. A lost ack only
   * means a message comes again, and is recognised.
   */
  private resubscribeSoon(ws: WebSocketLike): void {
    if (this.resubTimer !== undefined) return;
    this.resubTimer = setTimeout(() => {
      this.resubTimer = undefined;
      if (ws !== this.socket || ws.readyState !== OPEN) return;
      for (const id of [...this.unanswered]) {
        const mb = this.mailboxes.get(id);
        if (mb !== undefined) this.subscribe(ws, mb);
      }
    }, 1000);
  }

  /**
   * Frames go out at most FRAMES_PER_SECOND a second (the relay answers more
   * with rate_limited and closes a connection that keeps going): with many
   * conversations, the subscriptions after a reconnect are paced, not dropped.
   */
  private send(ws: WebSocketLike, frame: ClientFrame, urgent = false): void {
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
    if (s !== undefined) closeQuietly(s, 1000, 'bye');
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
    for (const t of [this.reconnectTimer, this.pongTimer, this.openTimer, this.pumpTimer, this.resubTimer]) if (t !== undefined) clearTimeout(t);
    this.resubTimer = undefined;
    // A new socket subscribes everything again.
    this.unanswered.clear();
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
      ws = new this.opts.WebSocket(this.opts.url.replace(/^http/, 'ws') + DELIVERY_SOCKET_PATH);
    } catch {
      // Not lost: a socket that cannot even be made is one more failed attempt, retried on the back-off.
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
      return; // Safe to drop: a frame that is not JSON carries nothing; anything real is fetched again over HTTP.
    }
    if (!isRecord(f)) return;
    // Compared as the contract's frame types, so a type the contract does not know fails to compile.
    const t = f.t as ServerFrameType;
    if (t === 'msg') {
      let m: DeliveredMessage;
      try {
        m = parseDelivered(f);
      } catch {
        return; // Safe to drop: a malformed push; the HTTP fetch fallback will see it again if real.
      }
      if (typeof f.mailboxId !== 'string' || !this.mailboxes.has(f.mailboxId)) return;
      this.opts.onMessage(f.mailboxId, m);
      return;
    }
    if (t === 'pong' && f.rid === 'hello') {
      if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      this.attempt = 0;
      this.setState('online');
      const every = this.opts.heartbeatMs ?? 20_000;
      this.heartbeatTimer = setInterval(() => this.ping(), every);
      return;
    }
    if (t === 'pong') {
      if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      return;
    }
    // Answered, yes or no (a refused one is not sent again).
    if ((t === 'ok' || t === 'error') && typeof f.rid === 'string' && f.rid.startsWith('sub:')) this.unanswered.delete(f.rid.slice(4));
    if (t === 'error' && typeof f.rid === 'string' && f.rid.startsWith('sub:') && f.code === 'not_found') this.opts.onMailboxUnknown?.(f.rid.slice(4));
    if (t === 'error' && f.rid === undefined && f.code === 'rate_limited') this.resubscribeSoon(ws);
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
    closeQuietly(ws);
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
