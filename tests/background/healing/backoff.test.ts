// The healer's backoff: doubling from the base, capped, and counted across failures (the record is
// what a restart reads back, so the wait does not start over).
import { describe, expect, it } from 'vitest';
import { afterFailure, backoffDelay, BACKOFF_BASE_MS, BACKOFF_MAX_MS, waitBeforeAttempt } from '../../../lib/background/healing/backoff.ts';

describe('heal backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    expect(backoffDelay(0)).toBe(0);
    expect(backoffDelay(1)).toBe(BACKOFF_BASE_MS);
    expect(backoffDelay(2)).toBe(2 * BACKOFF_BASE_MS);
    expect(backoffDelay(5)).toBe(16 * BACKOFF_BASE_MS);
    expect(backoffDelay(40)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(10_000)).toBe(BACKOFF_MAX_MS);
    for (let f = 1; f < 60; f++) expect(backoffDelay(f + 1)).toBeGreaterThanOrEqual(backoffDelay(f));
  });

  it('counts failures in a row from the stored record', () => {
    let b = afterFailure(undefined, 1000);
    expect(b).toEqual({ failures: 1, nextAt: 1000 + BACKOFF_BASE_MS });
    b = afterFailure(b, 2000);
    expect(b).toEqual({ failures: 2, nextAt: 2000 + 2 * BACKOFF_BASE_MS });
    // A record read back after a restart: the next wait goes on from it.
    const restored = JSON.parse(JSON.stringify(b)) as typeof b;
    expect(afterFailure(restored, 3000).failures).toBe(3);
  });

  it('says how long to wait, never more than the cap (a clock that jumped back)', () => {
    expect(waitBeforeAttempt(undefined, 5)).toBe(0);
    expect(waitBeforeAttempt({ failures: 1, nextAt: 100 }, 40)).toBe(60);
    expect(waitBeforeAttempt({ failures: 1, nextAt: 100 }, 400)).toBe(0);
    expect(waitBeforeAttempt({ failures: 9, nextAt: Number.MAX_SAFE_INTEGER }, 0)).toBe(BACKOFF_MAX_MS);
  });
});
