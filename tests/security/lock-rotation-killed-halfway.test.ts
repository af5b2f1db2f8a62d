// Attack (or accident): the worker dies while turning the lock on or off
// rewrites every sealed record under a fresh data key. At every point it can
// die (after the new key is stored, inside a record's write transaction,
// after each batch, before the final swap), the next start must lose
// nothing: it asks for the lock's key, finishes the rotation, every record
// decrypts, and only the new key is left.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../lib/background/db.ts';
import type { RotationInterrupt } from '../../lib/background/key-rotation.ts';
import { loadWrappedKey, unlockWithPassphrase } from '../../lib/background/lock.ts';
import { Vault } from '../../lib/background/vault.ts';
import { CANARY, dumpProfile, openProfile, seedProfile, type ProfileCopy } from '../support/seeded-profile.ts';

const PASSPHRASE = 'a passphrase for the lock';
type Phase = Parameters<RotationInterrupt>[1];

/** Die at the `at`-th call of the hook in `phase`. */
function killAt(phase: Phase, at: number): RotationInterrupt {
  let calls = 0;
  return (_n, p) => {
    if (p === phase && ++calls === at) throw new Error(`worker killed (${p} #${at})`);
  };
}

async function openedBy(vault: Vault, copy: ProfileCopy): Promise<number> {
  let n = 0;
  for (const r of copy.sealed) n += await vault.open(r.store, r.slot, { v: 1, iv: r.iv, ct: r.ct }).then(() => 1, () => 0);
  return n;
}

/** Every kill point of a rotation of `total` records in batches of `batch`. */
function killPoints(total: number, batch: number): { phase: Phase; at: number }[] {
  const points: { phase: Phase; at: number }[] = [{ phase: 'begun', at: 1 }, { phase: 'rewritten', at: 1 }];
  for (let i = 1; i <= total; i++) points.push({ phase: 'write', at: i });
  // 'sealed' and 'committed' fire once per batch per store.
  for (let i = 1; i <= Math.ceil(total / batch) + 6; i++) points.push({ phase: 'sealed', at: i }, { phase: 'committed', at: i });
  return points;
}

/**
 * The worker stops, its timers with it: nothing of this instance writes
 * afterwards (the view state it would keep for a wake included).
 */
function stopWorker({ db, app }: Awaited<ReturnType<typeof openProfile>>): void {
  app.stop();
  db.close();
}

async function historyReadable(app: Awaited<ReturnType<typeof openProfile>>['app']): Promise<void> {
  const state = app.snapshot;
  expect(state.conversations.map((c) => c.name).sort()).toEqual([`${CANARY} conversation 0`, `${CANARY} conversation 1`]);
  for (const c of ['conv0', 'conv1']) {
    const page = await app.handlers['messages.page']({ conversationId: c, beforeSeq: null, limit: 10 });
    expect(page.messages.map((m) => m.text)).toEqual([0, 1, 2].map((s) => `${CANARY} message ${c.slice(4)}/${s}`));
    expect((await app.handlers['conversation.get']({ conversationId: c })).summary.name).toBe(`${CANARY} conversation ${c.slice(4)}`);
  }
}

describe('a key rotation killed halfway', () => {
  const batch = 2;
  let n = 0;

  it('turning the lock ON: the next start asks for the passphrase, finishes, and every record decrypts', async () => {
    const total = await seedProfile(`killed-on-probe-${process.pid}`);
    let fired = 0;
    for (const { phase, at } of killPoints(total, batch)) {
      const name = `killed-on-${process.pid}-${n++}`;
      await seedProfile(name);
      const killed = await openProfile(name, { rotation: { batch, interrupt: killAt(phase, at) } });
      const died = await killed.app.handlers['lock.enable']({ passphrase: PASSPHRASE }).then(() => false, () => true);
      stopWorker(killed);
      if (!died) continue; // this kill point is past the end of the rotation
      fired++;

      const restarted = await openProfile(name);
      expect(restarted.app.snapshot.account, `${phase} #${at}`).toEqual({ state: 'locked', displayName: 'Pat', unlockWith: 'passphrase' });
      await expect(restarted.app.handlers['account.unlockPassphrase']({ passphrase: 'wrong passphrase' })).rejects.toMatchObject({ code: 'invalid-input' });
      expect(restarted.app.snapshot.account.state).toBe('locked');
      const state = await restarted.app.handlers['account.unlockPassphrase']({ passphrase: PASSPHRASE });
      expect(state.account, `${phase} #${at}`).toEqual({ state: 'ready', displayName: 'Pat', lockEnabled: true, lockMethod: 'passphrase' });
      await historyReadable(restarted.app);
      stopWorker(restarted);

      const copy = await dumpProfile(name);
      expect(copy.sealed).toHaveLength(total);
      expect(copy.stores.keys, 'the old device key is deleted').toEqual([]);
      expect(copy.stores.settings!.map((r) => r.key).sort()).toEqual(['relayUrl', 'wrapped']);
      const db2 = await openDatabase(name);
      expect(await openedBy(await unlockWithPassphrase((await loadWrappedKey(db2))!, PASSPHRASE), copy), `${phase} #${at}`).toBe(total);
      db2.close();
    }
    // Every record write, the start, the end and at least one batch boundary were each a kill point.
    expect(fired).toBeGreaterThanOrEqual(total + 3);
  });

  it('turning the lock OFF: the next start asks for the passphrase once more, finishes, and only the new device key is left', async () => {
    const total = await seedProfile(`killed-off-probe-${process.pid}`);
    let fired = 0;
    for (const { phase, at } of killPoints(total, batch)) {
      const name = `killed-off-${process.pid}-${n++}`;
      await seedProfile(name);
      const locked = await openProfile(name);
      await locked.app.handlers['lock.enable']({ passphrase: PASSPHRASE });
      stopWorker(locked);
      const killed = await openProfile(name, { rotation: { batch, interrupt: killAt(phase, at) } });
      await killed.app.handlers['account.unlockPassphrase']({ passphrase: PASSPHRASE });
      const died = await killed.app.handlers['lock.disable'](null).then(() => false, () => true);
      stopWorker(killed);
      if (!died) continue;
      fired++;

      const restarted = await openProfile(name);
      expect(restarted.app.snapshot.account.state).toBe('locked');
      const state = await restarted.app.handlers['account.unlockPassphrase']({ passphrase: PASSPHRASE });
      expect(state.account, `${phase} #${at}`).toEqual({ state: 'ready', displayName: 'Pat', lockEnabled: false });
      await historyReadable(restarted.app);
      stopWorker(restarted);

      const copy = await dumpProfile(name);
      expect(copy.stores.settings!.map((r) => r.key).sort(), 'the wrapped key is deleted').toEqual(['relayUrl']);
      expect(copy.stores.keys!.map((r) => r.key)).toEqual(['device']);
      expect(await openedBy(Vault.fromKey(copy.keys[0]!), copy), `${phase} #${at}`).toBe(total);
      // Started again, it is simply unlocked.
      const again = await openProfile(name);
      expect(again.app.snapshot.account).toEqual({ state: 'ready', displayName: 'Pat', lockEnabled: false });
      stopWorker(again);
    }
    expect(fired).toBeGreaterThanOrEqual(total + 3);
  });
});
