// The unlocked data key in session storage (lib/background/unlocked-key.ts),
// against a fake storage.session: kept only until the chosen timeout,
// counted from the last use; wiped when it expires, when it belongs to
// another wrapped key, when its deadline is unreadable, and on wipe().
import { describe, expect, it } from 'vitest';
import { KEY_ITEM, UNTIL_ITEM, UnlockedKeyStore } from '../../lib/background/unlocked-key.ts';
import { FakeSession } from '../support/fake-session.ts';

const MIN = 60_000;

function setUp() {
  const area = new FakeSession();
  const clock = { t: 1_000_000 };
  const alarms: (number | null)[] = [];
  const store = () => new UnlockedKeyStore(area, { now: () => clock.t, schedule: (at) => alarms.push(at) });
  return { area, clock, alarms, store };
}

const key = () => Uint8Array.from({ length: 32 }, (_, i) => i + 1);

describe('UnlockedKeyStore', () => {
  it('keeps the key for a worker that wakes in time, restricted to trusted contexts, with an alarm at the deadline', async () => {
    const { area, clock, alarms, store } = setUp();
    await store().keep(key(), 7, '15m');
    expect(area.accessLevel).toBe('TRUSTED_CONTEXTS');
    expect(alarms).toEqual([clock.t + 15 * MIN]);
    // Only the data key and its deadline: nothing else is written.
    expect([...area.items.keys()].sort()).toEqual([KEY_ITEM, UNTIL_ITEM].sort());
    clock.t += 14 * MIN;
    expect(await store().take(7)).toEqual(key());
  });

  it('a worker that slept past the deadline gets nothing, and the key is wiped', async () => {
    const { area, clock, store } = setUp();
    await store().keep(key(), 7, '15m');
    clock.t += 15 * MIN;
    expect(await store().take(7)).toBeUndefined();
    expect(area.items.size).toBe(0);
  });

  it('use moves the deadline (at most once a minute); a live worker past it is told to lock', async () => {
    const { area, clock, alarms, store } = setUp();
    const s = store();
    await s.keep(key(), 7, '15m');
    const t0 = clock.t;
    clock.t += 30_000;
    expect(await s.touch('15m')).toBe(true);
    expect(alarms).toEqual([t0 + 15 * MIN]); // not rewritten within the minute
    clock.t = t0 + 10 * MIN;
    // What a view asks by itself is not use: the deadline stays.
    expect(await s.touch('15m', false)).toBe(true);
    expect(alarms).toEqual([t0 + 15 * MIN]);
    expect(await s.touch('15m')).toBe(true);
    expect(alarms.at(-1)).toBe(t0 + 25 * MIN);
    // A fresh worker sees the moved deadline.
    clock.t = t0 + 24 * MIN;
    expect(await store().take(7)).toEqual(key());
    clock.t = t0 + 25 * MIN;
    expect(s.expired()).toBe(true);
    expect(await s.touch('15m')).toBe(false);
    expect(await store().take(7)).toBeUndefined();
    expect(area.items.size).toBe(0);
  });

  it('"until the browser closes" never expires by time; a new choice counts from now', async () => {
    const { clock, alarms, store } = setUp();
    const s = store();
    await s.keep(key(), 7, 'browser');
    expect(alarms).toEqual([null]);
    clock.t += 1000 * 60 * MIN;
    expect(s.expired()).toBe(false);
    expect(await store().take(7)).toEqual(key());
    await s.retime('1h');
    expect(alarms.at(-1)).toBe(clock.t + 60 * MIN);
    clock.t += 60 * MIN;
    expect(await store().take(7)).toBeUndefined();
  });

  it('a key of another wrapped key (an earlier generation) is never used, and is wiped', async () => {
    const { area, store } = setUp();
    await store().keep(key(), 7, '8h');
    expect(await store().take(8)).toBeUndefined();
    expect(area.items.size).toBe(0);
    await store().keep(key(), undefined, '8h');
    expect(await store().take(undefined)).toEqual(key());
  });

  it('fails closed: a key without a readable deadline, or of the wrong length, is wiped', async () => {
    const { area, store } = setUp();
    await store().keep(key(), 7, '8h');
    area.items.delete(UNTIL_ITEM);
    expect(await store().take(7)).toBeUndefined();
    expect(area.items.size).toBe(0);
    await store().keep(new Uint8Array(16), 7, '8h');
    expect(await store().take(7)).toBeUndefined();
    expect(area.items.size).toBe(0);
  });

  it('wipe() removes the key and its deadline and clears the alarm (Lock now, lock off, sign-out)', async () => {
    const { area, alarms, store } = setUp();
    const s = store();
    await s.keep(key(), 7, '1h');
    await s.wipe();
    expect(area.items.size).toBe(0);
    expect(alarms.at(-1)).toBeNull();
    expect(s.expired()).toBe(false);
    expect(await s.touch('1h')).toBe(true);
    expect(area.items.size).toBe(0);
    expect(await store().take(7)).toBeUndefined();
  });
});
