/**
 * The unlocked data key, kept while the browser stops and restarts the
 * background (a Chrome service worker is stopped after 30 s idle, a Firefox
 * event page suspended): without it, every worker stop would lock the
 * person out again (issue 17, item 4).
 *
 * Where: `storage.session`, the extension's in-memory storage area. It is
 * never written to disk and is cleared when the browser closes. Only the
 * extension's own pages and its background can read it: Chrome's default
 * access level is TRUSTED_CONTEXTS and we set it again explicitly; Firefox
 * (storage.session since 115; this profile requires 150, the ESR here is
 * 153) never exposes it to content scripts and has no setAccessLevel
 * (bugzilla 1724754), so the call is skipped there. MicroChat has no content
 * scripts anyway.
 *
 * What: the minimum that reopens the vault, the 32-byte data key itself
 * (never the passphrase, the PRF output or the key-encryption key), tagged
 * with the generation of the wrapped key it belongs to, so a key left over
 * from before a rotation is never used. Anyone who can read the browser's
 * memory can read it, exactly as they could read the live CryptoKey.
 *
 * Until: the person's choice: 15 minutes, 1 hour or 8 hours without use, or
 * until the browser closes. The deadline lives beside the key; it is checked
 * when the background wakes (a stopped worker misses its timers), on every
 * request from a view, and by an alarm, so a sleeping worker cannot skip it.
 * Use (a request the person makes in a view, not one the view makes by
 * itself as messages arrive) moves the deadline, written at most once a
 * minute: the lock may come up to that much early, never late.
 *
 * Wiped on Lock now, on expiry, when the lock is turned off, and by
 * `wipe()` for signing out.
 */
import { fromB64, toB64 } from '../bytes.ts';
import { LOCK_TIMEOUTS, type LockTimeout } from '../protocol/channel.ts';

export { LOCK_TIMEOUTS, type LockTimeout };
/** Unlocking once per browser start: what the lock promised before there was a choice. */
export const DEFAULT_LOCK_TIMEOUT: LockTimeout = 'browser';

const MINUTE = 60_000;
const TIMEOUT_MS: Record<LockTimeout, number | null> = { '15m': 15 * MINUTE, '1h': 60 * MINUTE, '8h': 8 * 60 * MINUTE, browser: null };
/** How often use may move the deadline (each move is a storage write). */
const TOUCH_EVERY_MS = MINUTE;

export function isLockTimeout(v: unknown): v is LockTimeout {
  return typeof v === 'string' && (LOCK_TIMEOUTS as readonly string[]).includes(v);
}

export function lockTimeoutMs(t: LockTimeout): number | null {
  return TIMEOUT_MS[t];
}

/** The part of `browser.storage.session` used here (tests pass a fake). */
export interface SessionArea {
  get(keys: string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
  setAccessLevel?(options: { accessLevel: 'TRUSTED_CONTEXTS' }): Promise<void>;
}

export const KEY_ITEM = 'microchat-unlocked-key';
export const UNTIL_ITEM = 'microchat-unlocked-until';

interface KeyItem {
  v: 1;
  key: string;
  gen: number | null;
}

interface UntilItem {
  v: 1;
  /** Milliseconds since the epoch; null: until the browser closes. */
  expiresAt: number | null;
}

export interface UnlockedKeyOptions {
  /** Set (at = ms since the epoch) or clear (null) the alarm that locks at the deadline. */
  schedule?: (at: number | null) => void;
  now?: () => number;
}

export class UnlockedKeyStore {
  /** The deadline this background knows: undefined when nothing is kept, null for "until the browser closes". */
  private deadline: number | null | undefined;
  private writtenAt = 0;
  private readonly schedule: (at: number | null) => void;
  private readonly now: () => number;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly area: SessionArea,
    options: UnlockedKeyOptions = {},
  ) {
    this.schedule = options.schedule ?? (() => undefined);
    this.now = options.now ?? (() => Date.now());
  }

  /** Restrict the area to the extension's own pages and background (before anything is written). */
  private restrict(): Promise<void> {
    // Best effort: trusted contexts only is already the default; this makes sure where the browser allows it.
    this.ready ??= (this.area.setAccessLevel?.({ accessLevel: 'TRUSTED_CONTEXTS' }) ?? Promise.resolve()).catch(() => undefined);
    return this.ready;
  }

  private deadlineFrom(timeout: LockTimeout): number | null {
    const ms = lockTimeoutMs(timeout);
    return ms === null ? null : this.now() + ms;
  }

  /** Keep a just-unlocked data key (the caller still wipes its copy of `raw`). */
  async keep(raw: Uint8Array, gen: number | undefined, timeout: LockTimeout): Promise<void> {
    await this.restrict();
    const expiresAt = this.deadlineFrom(timeout);
    const key: KeyItem = { v: 1, key: toB64(raw), gen: gen ?? null };
    const until: UntilItem = { v: 1, expiresAt };
    await this.area.set({ [KEY_ITEM]: key, [UNTIL_ITEM]: until });
    this.deadline = expiresAt;
    this.writtenAt = this.now();
    this.schedule(expiresAt);
  }

  /**
   * The kept data key for the wrapped key of generation `gen`, if it has not
   * expired; anything expired, unreadable or of another generation is wiped.
   * The caller wipes the returned bytes.
   */
  async take(gen: number | undefined): Promise<Uint8Array | undefined> {
    const items = await this.area.get([KEY_ITEM, UNTIL_ITEM]);
    const key = items[KEY_ITEM] as Partial<KeyItem> | undefined;
    const until = items[UNTIL_ITEM] as Partial<UntilItem> | undefined;
    if (key === undefined && until === undefined) return undefined;
    // Fail closed: without a readable deadline the key is not used.
    const expiresAt = until?.v === 1 && (until.expiresAt === null || typeof until.expiresAt === 'number') ? until.expiresAt : undefined;
    const raw = key?.v === 1 && typeof key.key === 'string' && key.gen === (gen ?? null) ? fromB64(key.key) : null;
    if (expiresAt === undefined || (expiresAt !== null && expiresAt <= this.now()) || raw === null || raw.length !== 32) {
      raw?.fill(0);
      await this.wipe();
      return undefined;
    }
    await this.restrict();
    this.deadline = expiresAt;
    this.writtenAt = this.now();
    this.schedule(expiresAt);
    return raw;
  }

  /** Whether a kept key has passed its deadline (the caller then locks). */
  expired(): boolean {
    return typeof this.deadline === 'number' && this.deadline <= this.now();
  }

  /**
   * A request from a view: false when the deadline has passed (the caller
   * locks). When it was the person's doing (`used`), move the deadline (at
   * most once a minute).
   */
  async touch(timeout: LockTimeout, used = true): Promise<boolean> {
    if (this.deadline === undefined) return true;
    if (this.expired()) return false;
    if (!used || this.deadline === null || this.now() - this.writtenAt < TOUCH_EVERY_MS) return true;
    await this.retime(timeout);
    return true;
  }

  /** A new timeout choice, counted from now. */
  async retime(timeout: LockTimeout): Promise<void> {
    if (this.deadline === undefined) return;
    const expiresAt = this.deadlineFrom(timeout);
    const until: UntilItem = { v: 1, expiresAt };
    this.deadline = expiresAt;
    this.writtenAt = this.now();
    await this.area.set({ [UNTIL_ITEM]: until });
    this.schedule(expiresAt);
  }

  /** Forget the kept key (Lock now, expiry, lock turned off, sign-out). */
  async wipe(): Promise<void> {
    this.deadline = undefined;
    this.schedule(null);
    await this.area.remove([KEY_ITEM, UNTIL_ITEM]);
  }
}
