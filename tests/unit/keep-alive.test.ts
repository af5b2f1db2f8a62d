import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeepAlive, KEEP_ALIVE_INTERVAL_MS } from '../../lib/extension/keep-alive.ts';

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
