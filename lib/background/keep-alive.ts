/**
 * Keeps the background alive while it holds a live relay connection.
 *
 * Chrome's service worker and Firefox's event page are both stopped after
 * about 30 s without extension activity. Chrome (116+) counts WebSocket
 * traffic as activity, so the connection's heartbeat keeps the worker up;
 * Firefox does not: an open WebSocket, or an open Port from the side panel,
 * does not delay an event page's suspension. What does reset Firefox's idle
 * timer is an extension API call that reaches the parent process (see
 * ext-backgroundPage.js, reason "parentapicall"). So while the relay socket
 * is up, or being brought up, the background makes one cheap such call
 * (runtime.getPlatformInfo) well inside the idle window. The calls go on
 * while the relay is away (Chrome counts no traffic then either): the next
 * reconnect attempt, a few seconds away, must run in this background rather
 * than wait for the wake-up alarm. Once the connection is given up (signed
 * out, locked, no account) or the browser reports no network at all, the
 * calls stop and the browser may suspend the background as usual; the
 * wake-up alarm, or the "online" event, brings it back.
 *
 * Suspension used to matter beyond real-time delivery: a locked account's data
 * key lived only in the background's memory. It is now also kept in
 * storage.session (unlocked-key.ts), so a suspension no longer locks.
 */

/** A third of the 30 s idle timeout of both browsers: two ticks may be late on a busy machine. */
export const KEEP_ALIVE_INTERVAL_MS = 10_000;

/** How long the background is held up while the relay is away (reconnects stay within seconds meanwhile). */
export const OUTAGE_HOLD_MS = 60_000;

export interface HoldFacts {
  /** The background holds (or is bringing up) a relay connection. */
  holdsConnection: boolean;
  /** The browser does not say it has no network. */
  networkUp: boolean;
  /** Since when the live connection has been offline (ms since the epoch), or undefined while it is not. */
  offlineSince: number | undefined;
  now: number;
}

/** Whether to hold the background up now; and when to ask again (an outage's hold ends), if ever. */
export function holdDecision(f: HoldFacts): { hold: boolean; recheckAt?: number } {
  if (!f.holdsConnection || !f.networkUp) return { hold: false };
  if (f.offlineSince === undefined) return { hold: true };
  const until = f.offlineSince + OUTAGE_HOLD_MS;
  return f.now < until ? { hold: true, recheckAt: until } : { hold: false };
}

export interface KeepAliveTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export class KeepAlive {
  private handle: unknown;

  constructor(
    /** One extension API call that reaches the browser's parent process. */
    private readonly touch: () => Promise<unknown>,
    private readonly intervalMs: number = KEEP_ALIVE_INTERVAL_MS,
    private readonly timers: KeepAliveTimers = {
      setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
      clearInterval: (h) => globalThis.clearInterval(h as ReturnType<typeof globalThis.setInterval>),
    },
  ) {}

  get active(): boolean {
    return this.handle !== undefined;
  }

  /** Hold the background up (idempotent) or let it go. */
  set(wanted: boolean): void {
    if (wanted && this.handle === undefined) {
      // A failed call only means this tick did not count; the next one tries again.
      const tick = (): void => void this.touch().catch(() => undefined);
      tick();
      this.handle = this.timers.setInterval(tick, this.intervalMs);
    } else if (!wanted && this.handle !== undefined) {
      this.timers.clearInterval(this.handle);
      this.handle = undefined;
    }
  }
}
