/**
 * Device-link rendezvous: a short-lived, one-time meeting point where a new
 * device and one of the person's existing devices run their authenticated
 * exchange (CPace, then an encrypted channel; lib/background/linking/). The
 * relay only forwards opaque bytes between exactly two parties; the code's
 * secret never reaches it, so it can neither read nor, beyond one online
 * guess per slot, impersonate.
 *
 *   POST /v1/links        (session)  {}                            → {slot, key, expiresAt}
 *   POST /v1/links/join   (session)  {slot}                        → {key, expiresAt} | 404
 *   POST /v1/links/post              {slot, key, payload}          → {seq}
 *   POST /v1/links/fetch             {slot, key, after, waitMs?}   → {messages, next, joined, peerClosed}
 *   POST /v1/links/close             {slot, key}                   → {ok:true}
 *
 * Opening and joining need an account session: both devices have relay
 * accounts by then, and the existing device will claim the new one's
 * KeyPackages with its session anyway, so the relay learns nothing it would
 * not learn a minute later; in exchange every open and join is rate-limited
 * per account without spending sealed-sender tokens. After that each party
 * holds a random 32-byte party key (kept here only as a hash) and the slot
 * no longer names any account.
 *
 * A slot can be joined until `linkCodeTtlSeconds` after it was opened, by
 * exactly one party (the first join wins; later ones, unknown and expired
 * slots all get the same 404). A joined slot lives at most
 * `linkSessionTtlSeconds` after opening, and is deleted as soon as both
 * parties closed it.
 *
 * State is kept in this process's memory, not in the store: a slot lives a
 * few minutes and is worthless after a restart (the devices start again with
 * a new code). Behind a load balancer with several relay instances both
 * devices must reach the instance that holds the slot (sticky routing on the
 * `/v1/links` prefix); a store-backed table would lift that.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { RelayConfig } from './config.ts';
import { ErrorCode, RelayError, badRequest, notFound } from './errors.ts';
import { MinuteBudget } from './rate-limit.ts';

/** Slot numbers are random in [0, 2^LINK_SLOT_BITS): four Crockford base32 characters in the code. */
export const LINK_SLOT_BITS = 20;
export const LINK_SLOT_MAX = 2 ** LINK_SLOT_BITS - 1;
/** Largest payload of one posted message (the channel chunks anything bigger). */
export const LINK_MAX_MESSAGE_BYTES = 64 * 1024;
/** Pending (posted, not yet fetched) messages and bytes per direction of a slot. */
export const LINK_MAX_PENDING_MESSAGES = 64;
export const LINK_MAX_PENDING_BYTES = 1024 * 1024;
/** Pending bytes of every slot together. */
export const LINK_MAX_TOTAL_BYTES = 64 * 1024 * 1024;
/** Messages one fetch answers at most. */
export const LINK_FETCH_MAX = 16;
/** Longest a fetch waits for a message (long polling). */
export const LINK_MAX_WAIT_MS = 20_000;
/** Opens and joins per account and minute; requests per slot and minute. */
export const LINK_OPENS_PER_MINUTE = 5;
export const LINK_JOINS_PER_MINUTE = 10;
export const LINK_SLOT_REQUESTS_PER_MINUTE = 1_200;

type Party = 'opener' | 'joiner';

interface Direction {
  /** Sequence number of items[0]. */
  base: number;
  items: Uint8Array[];
  bytes: number;
}

interface Slot {
  openerKeyHash: string;
  joinerKeyHash: string | null;
  /** Unix seconds: joinable until then. */
  codeExpiresAt: number;
  /** Unix seconds: deleted then at the latest. */
  expiresAt: number;
  /** Messages waiting for the opener / for the joiner. */
  toOpener: Direction;
  toJoiner: Direction;
  closed: Set<Party>;
  /** Pending long-polls, woken by a post or a close. */
  waiters: Set<() => void>;
}

export interface LinkFetch {
  messages: Uint8Array[];
  /** The sequence number to pass as `after` next time (acknowledges everything before it). */
  next: number;
  joined: boolean;
  peerClosed: boolean;
}

const enc = new TextEncoder();
const KEY_LABEL = enc.encode('microchat link party key v1');

function keyHash(key: Uint8Array): string {
  const buf = new Uint8Array(KEY_LABEL.length + key.length);
  buf.set(KEY_LABEL);
  buf.set(key, KEY_LABEL.length);
  return Array.from(sha256(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

const emptyDirection = (): Direction => ({ base: 0, items: [], bytes: 0 });

export class LinkSlots {
  private readonly slots = new Map<number, Slot>();
  private totalBytes = 0;
  private readonly opens = new MinuteBudget(LINK_OPENS_PER_MINUTE);
  private readonly joins = new MinuteBudget(LINK_JOINS_PER_MINUTE);
  private readonly perSlot = new MinuteBudget(LINK_SLOT_REQUESTS_PER_MINUTE);

  constructor(
    private readonly config: RelayConfig,
    private readonly now: () => number,
    private readonly random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
  ) {}

  /** Live slots (tests and the operational view). */
  get size(): number {
    return this.slots.size;
  }

  open(accountId: string): { slot: number; key: Uint8Array; expiresAt: number } {
    if (!this.opens.take(accountId)) throw new RelayError(ErrorCode.rateLimited, 'too many link codes; wait a minute');
    this.sweep();
    if (this.slots.size >= this.config.linkMaxSlots) throw new RelayError(ErrorCode.capacity, 'too many devices are linking right now');
    let slot: number;
    do {
      const r = this.random(4);
      slot = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> (32 - LINK_SLOT_BITS);
    } while (this.slots.has(slot));
    const key = this.random(32);
    const now = this.now();
    const codeExpiresAt = now + this.config.linkCodeTtlSeconds;
    this.slots.set(slot, {
      openerKeyHash: keyHash(key),
      joinerKeyHash: null,
      codeExpiresAt,
      expiresAt: now + Math.max(this.config.linkCodeTtlSeconds, this.config.linkSessionTtlSeconds),
      toOpener: emptyDirection(),
      toJoiner: emptyDirection(),
      closed: new Set(),
      waiters: new Set(),
    });
    return { slot, key, expiresAt: codeExpiresAt };
  }

  /** One-time: the first join takes the slot; every later one is refused like an unknown slot. */
  join(accountId: string, slot: number): { key: Uint8Array; expiresAt: number } {
    if (!this.joins.take(accountId)) throw new RelayError(ErrorCode.rateLimited, 'too many link attempts; wait a minute');
    const s = this.live(slot);
    if (s === null || s.joinerKeyHash !== null || s.codeExpiresAt <= this.now()) throw notFound();
    const key = this.random(32);
    s.joinerKeyHash = keyHash(key);
    this.wake(s);
    return { key, expiresAt: s.expiresAt };
  }

  post(slot: number, key: Uint8Array, payload: Uint8Array): { seq: number } {
    const { s, party } = this.party(slot, key);
    if (s.closed.has(party)) throw notFound();
    if (party === 'opener' && s.joinerKeyHash === null) throw new RelayError(ErrorCode.conflict, 'nobody has joined this link yet');
    const dir = party === 'opener' ? s.toJoiner : s.toOpener;
    if (dir.items.length >= LINK_MAX_PENDING_MESSAGES || dir.bytes + payload.length > LINK_MAX_PENDING_BYTES) {
      throw new RelayError(ErrorCode.quotaExceeded, 'the other device has not fetched yet');
    }
    if (this.totalBytes + payload.length > LINK_MAX_TOTAL_BYTES) throw new RelayError(ErrorCode.capacity, 'relay busy');
    dir.items.push(payload);
    dir.bytes += payload.length;
    this.totalBytes += payload.length;
    this.wake(s);
    return { seq: dir.base + dir.items.length - 1 };
  }

  /**
   * Messages from the other party from sequence number `after` on; everything
   * before `after` is acknowledged and dropped. Waits up to `waitMs` when
   * there is nothing yet (and the peer has neither joined-and-posted nor closed).
   */
  async fetch(slot: number, key: Uint8Array, after: number, waitMs: number): Promise<LinkFetch> {
    const first = this.party(slot, key);
    this.ack(first.s, first.party, after);
    if (waitMs > 0 && this.inbound(first.s, first.party).items.length === 0 && !this.peerClosed(first.s, first.party)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          first.s.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        first.s.waiters.add(done);
      });
    }
    // The slot may have gone (closed by both, or expired) while we waited.
    const { s, party } = this.party(slot, key);
    const dir = this.inbound(s, party);
    const messages = dir.items.slice(0, LINK_FETCH_MAX);
    return { messages, next: dir.base + messages.length, joined: s.joinerKeyHash !== null, peerClosed: this.peerClosed(s, party) };
  }

  /** Done with the slot: deleted once both parties closed (or at its expiry). */
  close(slot: number, key: Uint8Array): void {
    const { s, party } = this.party(slot, key);
    s.closed.add(party);
    // The opener alone (nobody joined) or both: nothing is left to deliver.
    if (s.joinerKeyHash === null || s.closed.size === 2) this.drop(slot, s);
    else this.wake(s);
  }

  /** Drops every expired slot. */
  sweep(): void {
    const now = this.now();
    for (const [slot, s] of this.slots) if (this.expired(s, now)) this.drop(slot, s);
  }

  private expired(s: Slot, now: number): boolean {
    return s.expiresAt <= now || (s.joinerKeyHash === null && s.codeExpiresAt <= now);
  }

  private live(slot: number): Slot | null {
    const s = this.slots.get(slot);
    if (s === undefined) return null;
    if (this.expired(s, this.now())) {
      this.drop(slot, s);
      return null;
    }
    return s;
  }

  /** The slot and which party holds `key`; unknown, expired and wrong key are all the same 404. */
  private party(slot: number, key: Uint8Array): { s: Slot; party: Party } {
    const s = this.live(slot);
    if (s === null) throw notFound();
    const h = keyHash(key);
    const party: Party | null = h === s.openerKeyHash ? 'opener' : s.joinerKeyHash !== null && h === s.joinerKeyHash ? 'joiner' : null;
    if (party === null) throw notFound();
    // Counted per party key, after it was checked, so nobody can spend a slot's budget without holding its key.
    if (!this.perSlot.take(h)) throw new RelayError(ErrorCode.rateLimited, 'too many requests on this link');
    return { s, party };
  }

  private inbound(s: Slot, party: Party): Direction {
    return party === 'opener' ? s.toOpener : s.toJoiner;
  }

  private peerClosed(s: Slot, party: Party): boolean {
    return s.closed.has(party === 'opener' ? 'joiner' : 'opener');
  }

  private ack(s: Slot, party: Party, after: number): void {
    const dir = this.inbound(s, party);
    if (after > dir.base + dir.items.length) throw badRequest('after: beyond the last message');
    while (dir.base < after) {
      const gone = dir.items.shift()!;
      dir.bytes -= gone.length;
      this.totalBytes -= gone.length;
      dir.base++;
    }
  }

  private wake(s: Slot): void {
    for (const w of [...s.waiters]) w();
  }

  private drop(slot: number, s: Slot): void {
    this.totalBytes -= s.toOpener.bytes + s.toJoiner.bytes;
    for (const item of [...s.toOpener.items, ...s.toJoiner.items]) item.fill(0);
    this.slots.delete(slot);
    this.wake(s);
  }
}

export function readSlot(b: Record<string, unknown>): number {
  const v = b.slot;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > LINK_SLOT_MAX) throw badRequest(`slot: expected an integer in [0, ${LINK_SLOT_MAX}]`);
  return v;
}
