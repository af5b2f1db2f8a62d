/**
 * How the two devices exchange opaque messages while linking: the relay's
 * rendezvous slot (relay/links.ts) in the product, an in-memory pair in unit
 * tests. Everything above this (handshake.ts, secure-channel.ts) treats what
 * arrives as hostile; the transport only orders and delivers.
 */
import type { LinkSlotAccess, RelayApi } from '../relay-api.ts';
import { RelayApiError } from '../relay-wire.ts';
import { LinkError } from './errors.ts';

export interface LinkTransport {
  send(message: Uint8Array): Promise<void>;
  /** The peer's next message; LinkError `timeout`, `expired` (slot gone) or `aborted` (peer closed). */
  receive(timeoutMs: number): Promise<Uint8Array>;
  /** Done with the slot (idempotent; failures are ignored: the slot expires anyway). */
  close(): Promise<void>;
}

/** One long-poll at most this long, well under the relay client's request timeout. */
const POLL_MS = 8_000;

/** A relay answer about the slot itself, as a LinkError (the relay says not_found for unknown, taken and expired). */
export function slotError(err: unknown): unknown {
  if (err instanceof RelayApiError && err.code === 'not_found') return new LinkError('expired', 'this link code has expired or was already used', { cause: err });
  return err;
}

export class RelayLinkTransport implements LinkTransport {
  private after = 0;
  private readonly inbox: Uint8Array[] = [];
  private closed = false;

  constructor(
    private readonly api: RelayApi,
    readonly access: LinkSlotAccess,
  ) {}

  /** The new device: opens a slot and waits there for the existing device. */
  static async open(api: RelayApi, session: string): Promise<{ transport: RelayLinkTransport; slot: number; expiresAt: number }> {
    const r = await api.openLink(session);
    return { transport: new RelayLinkTransport(api, r), slot: r.slot, expiresAt: r.expiresAt };
  }

  /** The existing device: takes the slot the code names (one-time). */
  static async join(api: RelayApi, session: string, slot: number): Promise<RelayLinkTransport> {
    try {
      return new RelayLinkTransport(api, await api.joinLink(session, slot));
    } catch (err) {
      throw slotError(err);
    }
  }

  async send(message: Uint8Array): Promise<void> {
    try {
      // The relay bounds what waits unfetched: back off while the peer catches up.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.api.postLink(this.access, message);
          return;
        } catch (err) {
          if (!(err instanceof RelayApiError && err.code === 'quota_exceeded') || attempt >= 200) throw err;
          await new Promise((r) => setTimeout(r, 50 + Math.min(attempt, 20) * 25));
        }
      }
    } catch (err) {
      throw slotError(err);
    }
  }

  async receive(timeoutMs: number): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new LinkError('timeout', 'the other device did not answer in time');
      let r: Awaited<ReturnType<RelayApi['fetchLink']>>;
      try {
        r = await this.api.fetchLink(this.access, this.after, Math.min(POLL_MS, left));
      } catch (err) {
        throw slotError(err);
      }
      this.after = r.next;
      this.inbox.push(...r.messages);
      if (this.inbox.length === 0 && r.peerClosed) throw new LinkError('aborted', 'the other device stopped linking');
    }
    return this.inbox.shift()!;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.api.closeLink(this.access).catch(() => undefined);
  }
}

/**
 * Two connected in-memory transports (unit tests). `tap` sees every message
 * on its way and may change, drop (null) or duplicate it (an array), as a
 * hostile relay could.
 */
export function memoryTransportPair(
  tap: (from: 'a' | 'b', message: Uint8Array) => Uint8Array | Uint8Array[] | null = (_, m) => m,
): [LinkTransport, LinkTransport] {
  const queues: Record<'a' | 'b', Uint8Array[]> = { a: [], b: [] };
  const waiters: Record<'a' | 'b', (() => void) | null> = { a: null, b: null };
  const closed: Record<'a' | 'b', boolean> = { a: false, b: false };
  const make = (me: 'a' | 'b'): LinkTransport => {
    const peer = me === 'a' ? 'b' : 'a';
    return {
      async send(message) {
        if (closed[me]) throw new LinkError('expired', 'closed');
        const out = tap(me, Uint8Array.from(message));
        if (out === null) return;
        queues[peer].push(...(Array.isArray(out) ? out : [out]));
        waiters[peer]?.();
      },
      async receive(timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        while (queues[me].length === 0) {
          if (closed[peer]) throw new LinkError('aborted', 'the other device stopped linking');
          const left = deadline - Date.now();
          if (left <= 0) throw new LinkError('timeout', 'the other device did not answer in time');
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, left);
            waiters[me] = () => {
              clearTimeout(t);
              resolve();
            };
          });
          waiters[me] = null;
        }
        return queues[me].shift()!;
      },
      async close() {
        closed[me] = true;
        waiters[peer]?.();
      },
    };
  };
  return [make('a'), make('b')];
}
