import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { holdDecision, KeepAlive, KEEP_ALIVE_INTERVAL_MS, OUTAGE_HOLD_MS } from '../../lib/background/keep-alive.ts';

describe('KeepAlive: extension API calls while the relay connection is wanted', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('calls the API inside every idle window while held, and stops when released', async () => {
    const touch = vi.fn(() => Promise.resolve());
    const k = new KeepAlive(touch);
    expect(KEEP_ALIVE_INTERVAL_MS).toBeLessThanOrEqual(10_000);
    k.set(true);
    expect(k.active).toBe(true);
    expect(touch).toHaveBeenCalledTimes(1); // at once, then every interval
    await vi.advanceTimersByTimeAsync(KEEP_ALIVE_INTERVAL_MS * 3);
    expect(touch).toHaveBeenCalledTimes(4);
    k.set(false);
    expect(k.active).toBe(false);
    await vi.advanceTimersByTimeAsync(KEEP_ALIVE_INTERVAL_MS * 3);
    expect(touch).toHaveBeenCalledTimes(4);
  });

  it('holding twice keeps one timer; a failing call does not stop the next', async () => {
    let calls = 0;
    const k = new KeepAlive(() => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('context gone')) : Promise.resolve();
    }, 1000);
    k.set(true);
    k.set(true);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(4);
    k.set(false);
  });
});

describe('holdDecision: held while connected, through the first minute of an outage, never without a connection or network', () => {
  const T = 1_800_000_000_000;
  it('holds a live connection, with nothing to recheck', () => {
    expect(holdDecision({ holdsConnection: true, networkUp: true, offlineSince: undefined, now: T })).toEqual({ hold: true });
  });
  it('holds through an outage until OUTAGE_HOLD_MS, then lets the browser suspend it', () => {
    expect(holdDecision({ holdsConnection: true, networkUp: true, offlineSince: T, now: T + 1000 })).toEqual({ hold: true, recheckAt: T + OUTAGE_HOLD_MS });
    expect(holdDecision({ holdsConnection: true, networkUp: true, offlineSince: T, now: T + OUTAGE_HOLD_MS })).toEqual({ hold: false });
  });
  it('never holds without a connection, or when the browser has no network', () => {
    expect(holdDecision({ holdsConnection: false, networkUp: true, offlineSince: undefined, now: T }).hold).toBe(false);
    expect(holdDecision({ holdsConnection: true, networkUp: false, offlineSince: undefined, now: T }).hold).toBe(false);
  });
});
