// Attack: get at the browser after the person's lock should have closed
// (the timeout passed while the worker slept, they pressed Lock now, or
// they turned the lock off) and find the unlocked data key still kept in
// storage.session, or a background that opens the history without asking.
// The key is kept only so that a stopped worker does not lock the person
// out (issue 17, item 4); each of these ends must remove it.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { UnlockedKeyStore } from '../../lib/background/unlocked-key.ts';
import { FakeSession } from '../support/fake-session.ts';
import { openProfile, seedProfile, TEST_KDF } from '../support/seeded-profile.ts';

const PASSPHRASE = 'correct horse battery staple';
const MIN = 60_000;

async function lockedProfile(name: string) {
  await seedProfile(name, 1, 2);
  const session = new FakeSession();
  const clock = { t: Date.now() };
  const alarms: (number | null)[] = [];
  const keys = () => new UnlockedKeyStore(session, { now: () => clock.t, schedule: (at) => alarms.push(at) });
  const start = async () => (await openProfile(name, { unlockedKeys: keys(), passphraseKdf: TEST_KDF })).app;
  const app = await start();
  await app.handlers['lock.setTimeout']({ timeout: '15m' });
  await app.handlers['lock.enable']({ passphrase: PASSPHRASE });
  app.stop();
  return { session, clock, alarms, start };
}

describe('the unlocked key outlives the lock', () => {
  it('not past the timeout: a worker that slept through its alarm wakes locked, and the kept key is gone', async () => {
    const { session, clock, alarms, start } = await lockedProfile(`outlives-timeout-${process.pid}`);
    expect(session.items.size).toBe(2);
    expect(alarms.at(-1)).toBe(clock.t + 15 * MIN);
    // Within the timeout, a stopped worker comes back unlocked (what the key is kept for).
    clock.t += 14 * MIN;
    const woken = await start();
    expect(woken.snapshot.account).toMatchObject({ state: 'ready', lockEnabled: true, lockMethod: 'passphrase' });
    expect(woken.snapshot.conversations).toHaveLength(1);
    woken.stop();
    // Slept past it (no alarm ran): locked, and nothing is left to take.
    clock.t += 15 * MIN;
    const late = await start();
    expect(late.snapshot.account).toEqual({ state: 'locked', displayName: 'Pat', unlockWith: 'passphrase' });
    expect(late.snapshot.conversations).toEqual([]);
    expect(session.items.size).toBe(0);
    late.stop();
  });

  it('not past the timeout in a live worker: requests a view makes by itself do not hold it open, and the next request locks first', async () => {
    const { clock, start } = await lockedProfile(`outlives-live-${process.pid}`);
    const app = await start();
    expect(app.snapshot.account.state).toBe('ready');
    // A busy conversation left open on an unattended screen: the view reads and marks read what arrives.
    clock.t += 10 * MIN;
    await app.beforeRequest('conversation.markRead');
    await app.beforeRequest('messages.page');
    expect(app.snapshot.account.state).toBe('ready');
    clock.t += 6 * MIN;
    await app.beforeRequest('message.send');
    expect(app.snapshot.account.state).toBe('locked');
    await expect(app.handlers['conversation.get']({ conversationId: 'conv0' })).rejects.toMatchObject({ code: 'locked' });
    app.stop();
  });

  it('not after Lock now: the key is wiped and a restarted worker asks again', async () => {
    const { session, start } = await lockedProfile(`outlives-lock-now-${process.pid}`);
    const app = await start();
    const state = await app.handlers['lock.now'](null);
    expect(state.account).toEqual({ state: 'locked', displayName: 'Pat', unlockWith: 'passphrase' });
    expect(state.conversations).toEqual([]);
    expect(session.items.size).toBe(0);
    await expect(app.handlers['messages.page']({ conversationId: 'conv0', beforeSeq: null, limit: 5 })).rejects.toMatchObject({ code: 'locked' });
    app.stop();
    expect((await start()).snapshot.account.state).toBe('locked');
    // Unlocking keeps it again, for the chosen timeout.
    const again = await start();
    await again.handlers['account.unlockPassphrase']({ passphrase: PASSPHRASE });
    expect(session.items.size).toBe(2);
    again.stop();
  });

  it('not after the lock is turned off: the kept (now deleted) key is wiped with it', async () => {
    const { session, start } = await lockedProfile(`outlives-lock-off-${process.pid}`);
    const app = await start();
    await app.handlers['lock.disable'](null);
    expect(session.items.size).toBe(0);
    await expect(app.handlers['lock.now'](null)).rejects.toMatchObject({ code: 'bad-request' });
    app.stop();
  });
});
