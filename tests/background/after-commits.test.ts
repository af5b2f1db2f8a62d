/** Background work that meets a Commit under way is tried again, and only then (after-commits.ts). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { whenCommitsSettle } from '../../lib/background/after-commits.ts';
import { ChangeInFlight, LostRace } from '../../lib/background/chat-errors.ts';

describe('whenCommitsSettle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('tries again while our own Commit waits for the relay, or another member’s took the epoch', async () => {
    const failures = [new ChangeInFlight(), new LostRace(), new ChangeInFlight()];
    let calls = 0;
    const done = whenCommitsSettle(async () => {
      calls++;
      const err = failures.shift();
      if (err !== undefined) throw err;
      return 'done';
    });
    await vi.runAllTimersAsync();
    await expect(done).resolves.toBe('done');
    expect(calls).toBe(4);
  });

  it('gives any other failure back at once', async () => {
    let calls = 0;
    const offline = new Error('offline');
    const done = whenCommitsSettle(async () => {
      calls++;
      throw offline;
    });
    await expect(done).rejects.toBe(offline);
    expect(calls).toBe(1);
  });

  it('gives up after ten tries, with the last failure', async () => {
    let calls = 0;
    const done = whenCommitsSettle(async () => {
      calls++;
      throw new ChangeInFlight();
    });
    done.catch(() => undefined);
    await vi.runAllTimersAsync();
    await expect(done).rejects.toBeInstanceOf(ChangeInFlight);
    expect(calls).toBe(10);
  });
});
