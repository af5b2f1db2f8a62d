import { describe, expect, it } from 'vitest';
import { markWake, wakeTimings } from '../../lib/background/wake-timing.ts';

describe('wake timings', () => {
  it('records each step reached, in order, as ms since the worker started, and hands out a copy', async () => {
    markWake('script');
    await new Promise((r) => setTimeout(r, 5));
    markWake('database');
    const t = wakeTimings();
    expect(Object.keys(t)).toEqual(['script', 'database']);
    expect(t.database!).toBeGreaterThan(t.script!);
    t.ready = 0;
    expect(wakeTimings().ready).toBeUndefined();
  });
});
