/**
 * One WebSocket connection: JSON text frames, the same operations as HTTP
 * plus live pushes. Standard WebSocket API only (works with Deno's
 * upgradeWebSocket or any server giving a WHATWG WebSocket).
 *
 * The frames in both directions are the contract's `ClientFrame` and
 * `ServerFrame` (lib/protocol/relay.ts); every client frame is read with the
 * strict readers, as HTTP bodies are.
 *
 * Limits: a frame above maxFrameBytes closes with 1009; above
 * maxMessagesPerSecond a frame is answered with a typed rate_limited error,
 * and a client that keeps going is closed with 1008. A client that does not
 * read what it is sent (the socket's bufferedAmount passes maxBufferedBytes)
 * is closed with 1008 "slow reader": otherwise cheap `fetch` frames would park
 * page after page of pushes in the relay's memory.
 */

import type { RelayConfig } from './config.ts';
import type { Delivery, Subscriber } from './delivery.ts';
import { readCapability, readRotateTo } from './delivery.ts';
import { PushFrame, toWire } from './wire.ts';
import { onlyKeys, readBytes, readEncodedBytes, readId, readIdList } from './encoding.ts';
import { ErrorCode, RelayError, badRequest } from './errors.ts';
import type { ClientFrameType, Rid as WireRid, ServerFrame } from '../lib/protocol/relay.ts';
import { readToken } from './tokens.ts';

export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
const OPEN = 1;

type Rid = WireRid | undefined;

function readRid(frame: Record<string, unknown>): Rid {
  const rid = frame.rid;
  if (rid === undefined) return undefined;
  if ((typeof rid === 'string' && rid.length <= 64) || (typeof rid === 'number' && Number.isSafeInteger(rid))) return rid;
  return undefined;
}

/** Every frame may carry its type and a request id; `fields` are the frame type's own keys (onlyKeys). */
function frameKeys(frame: Record<string, unknown>, fields: readonly string[]): void {
  onlyKeys(frame, ['t', 'rid', ...fields]);
}

export class Connection implements Subscriber {
  private readonly mailboxes = new Set<string>();
  private windowStart = 0;
  private inWindow = 0;
  private limitedWindows = 0;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly delivery: Delivery,
    private readonly config: RelayConfig,
    private readonly log: (line: string) => void,
    private readonly onClose: () => void,
    /** Test-only audit of what this connection does (op kinds, no data); see audit.ts. */
    private readonly audit: (op: string) => void = () => {},
  ) {
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (ev: MessageEvent) => this.onFrame(ev.data);
    socket.onclose = () => this.cleanup();
    socket.onerror = () => this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    for (const mb of this.mailboxes) this.delivery.unsubscribe(mb, this);
    this.mailboxes.clear();
    this.onClose();
  }

  /**
   * Close with a code, after a short drain: frames the client already sent are
   * read and ignored first, because closing TCP with unread input makes the
   * kernel reset the connection and the client would never see the code.
   */
  private close(code: number, reason: string): void {
    if (this.closed) return;
    this.cleanup();
    setTimeout(() => {
      try {
        this.socket.close(code, reason);
      } catch {
        // already closing
      }
    }, 100);
  }

  /** Server shutdown: close at once with 1001. */
  goAway(): void {
    if (this.closed) return;
    this.cleanup();
    try {
      this.socket.close(1001, 'relay restarting');
    } catch {
      // already closing
    }
  }

  private send(frame: ServerFrame): void {
    if (this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify(frame));
    this.checkBuffered();
  }

  /** Everything sent waits in memory until the client reads it: past the limit, drop the client. */
  private checkBuffered(): void {
    if (this.socket.bufferedAmount <= this.config.maxBufferedBytes) return;
    this.cleanup();
    try {
      // No drain as in close(): the client is not reading, and what waits for it is what must go.
      this.socket.close(CLOSE_POLICY, 'slow reader');
    } catch {
      // already closing
    }
  }

  private sendError(err: unknown, rid: Rid): void {
    if (err instanceof RelayError) {
      this.send({ t: 'error', rid, code: err.code, message: err.message });
      return;
    }
    const kind = err instanceof Error ? err.name : typeof err;
    this.log(`internal error (ws): ${kind}: ${err instanceof Error ? err.message.slice(0, 200) : ''}`);
    this.send({ t: 'error', rid, code: ErrorCode.internal, message: 'internal error' });
  }

  push(mailboxId: string, frame: PushFrame): void {
    if (this.socket.readyState !== OPEN) return;
    this.socket.send(frame.for(mailboxId));
    this.checkBuffered();
  }

  /** Counts the frame against the per-second budget; false when it must not be processed. */
  private admit(): boolean {
    const nowMs = Date.now();
    if (nowMs - this.windowStart >= 1000) {
      if (this.inWindow <= this.config.maxMessagesPerSecond) this.limitedWindows = 0;
      this.windowStart = nowMs;
      this.inWindow = 0;
    }
    this.inWindow++;
    if (this.inWindow <= this.config.maxMessagesPerSecond) return true;
    if (this.inWindow === this.config.maxMessagesPerSecond + 1) this.limitedWindows++;
    // Persisting: twice the budget in one second, or limited several seconds running.
    if (this.inWindow > 2 * this.config.maxMessagesPerSecond || this.limitedWindows >= this.config.rateLimitStrikes) {
      this.close(CLOSE_POLICY, 'rate limit');
    }
    return false;
  }

  private onFrame(data: unknown): void {
    if (this.closed) return;
    let size: number;
    if (typeof data === 'string') {
      // UTF-8 length without encoding: at most 3 bytes per UTF-16 unit; encode only near the limit.
      size = data.length * 3 <= this.config.maxFrameBytes ? data.length : new TextEncoder().encode(data).length;
    } else if (data instanceof ArrayBuffer) {
      size = data.byteLength;
    } else if (typeof Blob !== 'undefined' && data instanceof Blob) {
      size = data.size;
    } else {
      size = 0;
    }
    if (size > this.config.maxFrameBytes) {
      this.close(CLOSE_TOO_BIG, 'frame too large');
      return;
    }
    if (!this.admit()) {
      if (!this.closed) this.send({ t: 'error', code: ErrorCode.rateLimited, message: 'slow down' });
      return;
    }
    if (typeof data !== 'string') {
      this.sendError(badRequest('frames are JSON text'), undefined);
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      this.sendError(badRequest('frame is not JSON'), undefined);
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      this.sendError(badRequest('frame must be a JSON object'), undefined);
      return;
    }
    const f = frame as Record<string, unknown>;
    const rid = readRid(f);
    this.handle(f, rid).catch((err: unknown) => this.sendError(err, rid));
  }

  private async handle(f: Record<string, unknown>, rid: Rid): Promise<void> {
    if (typeof f.t === 'string' && f.t !== 'ping') this.audit(f.t === 'send' || f.t === 'welcome' ? 'spend' : f.t.slice(0, 16));
    // Typed as the contract's frame types so a case the contract does not know fails to compile;
    // anything else the client sends lands in `default`.
    switch (f.t as ClientFrameType) {
      case 'ping':
        frameKeys(f, []);
        this.send({ t: 'pong', rid });
        return;
      case 'sub': {
        frameKeys(f, ['mailboxId', 'secret']);
        const mailboxId = readId(f, 'mailboxId');
        const secret = readBytes(f, 'secret', { min: 32, max: 32 });
        if (!this.mailboxes.has(mailboxId) && this.mailboxes.size >= this.config.maxMailboxesPerConnection) {
          throw new RelayError(ErrorCode.capacity, 'too many mailboxes on this connection');
        }
        await this.delivery.openMailbox(mailboxId, secret);
        if (this.closed) return;
        // Subscribe (on every relay instance, via the bus) before reading what is pending,
        // so nothing posted in between is missed (it may arrive twice; clients drop duplicates by id).
        this.mailboxes.add(mailboxId);
        try {
          await this.delivery.subscribe(mailboxId, this);
        } catch (err) {
          this.mailboxes.delete(mailboxId);
          throw err;
        }
        if (this.closed) return;
        this.send({ t: 'ok', rid });
        await this.pushPending(mailboxId);
        return;
      }
      case 'unsub': {
        frameKeys(f, ['mailboxId']);
        const mailboxId = readId(f, 'mailboxId');
        this.mailboxes.delete(mailboxId);
        this.delivery.unsubscribe(mailboxId, this);
        this.send({ t: 'ok', rid });
        return;
      }
      case 'fetch': {
        frameKeys(f, ['mailboxId']);
        const mailboxId = this.subscribed(f);
        this.send({ t: 'ok', rid });
        await this.pushPending(mailboxId);
        return;
      }
      case 'ack': {
        frameKeys(f, ['mailboxId', 'ids']);
        const mailboxId = this.subscribed(f);
        const ids = readIdList(f, 'ids', this.config.fetchBatchMax);
        const removed = await this.delivery.ack(mailboxId, null, ids);
        this.send({ t: 'ok', rid, removed });
        return;
      }
      case 'send': {
        frameKeys(f, ['queue', 'cap', 'token', 'payload', 'rotateTo']);
        const queue = readBytes(f, 'queue', { min: 16, max: 64 });
        const cap = readCapability(f);
        const token = readToken(f);
        const payload = readEncodedBytes(f, 'payload', { max: this.config.maxMessageBytes });
        const id = await this.delivery.send(queue, cap, token, payload, readRotateTo(f));
        this.send({ t: 'sent', rid, id });
        return;
      }
      case 'welcome': {
        frameKeys(f, ['mailboxId', 'token', 'payload']);
        const mailboxId = readId(f, 'mailboxId');
        const token = readToken(f);
        const payload = readEncodedBytes(f, 'payload', { max: this.config.maxMessageBytes });
        const id = await this.delivery.sendWelcome(mailboxId, token, payload);
        this.send({ t: 'sent', rid, id });
        return;
      }
      default:
        throw badRequest('unknown frame type');
    }
  }

  /** A mailbox this connection has subscribed (and so proved it holds); otherwise the uniform not_found. */
  private subscribed(f: Record<string, unknown>): string {
    const mailboxId = readId(f, 'mailboxId');
    if (!this.mailboxes.has(mailboxId)) throw new RelayError(ErrorCode.notFound, 'not found or not allowed');
    return mailboxId;
  }

  private async pushPending(mailboxId: string): Promise<void> {
    const pending = await this.delivery.pending(mailboxId);
    for (const m of pending) this.push(mailboxId, new PushFrame(toWire(m)));
  }
}
