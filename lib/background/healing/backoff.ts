/**
 * How long the healer waits after a failed rejoin before it tries that
 * conversation again: doubling from BASE, capped at MAX. Kept in the
 * conversation's record (`healBackoff`), so a restart does not start over.
 */
export interface HealBackoff {
  /** Failed attempts in a row. */
  failures: number;
  /** Not before this (ms since the epoch). */
  nextAt: number;
}

export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_MAX_MS = 6 * 3600_000;

/** The wait after the `failures`-th failure in a row (1 → base). */
export function backoffDelay(failures: number, baseMs = BACKOFF_BASE_MS, maxMs = BACKOFF_MAX_MS): number {
  if (failures <= 0) return 0;
  // 2^30 × base is far past any cap: stop doubling there so the number stays finite.
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}

/** The record after one more failure at `now`. */
export function afterFailure(previous: HealBackoff | undefined, now: number, baseMs = BACKOFF_BASE_MS, maxMs = BACKOFF_MAX_MS): HealBackoff {
  const failures = (previous?.failures ?? 0) + 1;
  return { failures, nextAt: now + backoffDelay(failures, baseMs, maxMs) };
}

/** How long until an attempt is allowed (0: now). A record from a clock far ahead is capped at MAX. */
export function waitBeforeAttempt(b: HealBackoff | undefined, now: number, maxMs = BACKOFF_MAX_MS): number {
  if (b === undefined) return 0;
  return Math.max(0, Math.min(maxMs, b.nextAt - now));
}
