// Attack: copy the browser profile (every IndexedDB store the background
// wrote) and read the history with what the copy holds. Without the lock the
// device key sits beside the data, so the copy opens every record, old epoch
// secrets included. After turning the lock on from settings, at any time,
// with the passkey (PRF) or a passphrase, nothing in the copy opens a single
// record, and the old data key is gone from it.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { lockKind, loadWrappedKey, unlockVault, unlockWithPassphrase } from '../../lib/background/lock.ts';
import { fromB64 } from '../../lib/bytes.ts';
import { CANARY, CREDENTIAL_ID, dumpProfile, openProfile, prfOf, recordsOpenedBy, seedProfile, type ProfileCopy } from '../support/seeded-profile.ts';

const PASSPHRASE = 'correct horse battery staple';

function containsCanary(copy: ProfileCopy): boolean {
  const canary = Buffer.from(CANARY);
  const seen = new Set<unknown>();
  const visit = (v: unknown): boolean => {
    if (typeof v === 'string') return v.includes(CANARY);
    if (v instanceof Uint8Array) return Buffer.from(v).includes(canary);
    if (typeof v !== 'object' || v === null || seen.has(v)) return false;
    seen.add(v);
    return Object.values(v).some(visit);
  };
  return visit(copy.stores);
}

async function attackAfter(turnOn: (app: Awaited<ReturnType<typeof openProfile>>['app']) => Promise<void>, name: string) {
  const total = await seedProfile(name);
  const before = await dumpProfile(name);
  // Today's attack works: the copy's device key opens every record.
  expect(before.keys).toHaveLength(1);
  expect(await recordsOpenedBy(before, before.keys)).toBe(total);

  const { db, app } = await openProfile(name);
  expect(app.snapshot.account).toEqual({ state: 'ready', displayName: 'Pat', lockEnabled: false });
  await turnOn(app);
  db.close();

  const after = await dumpProfile(name);
  // Every record is still there, and none is what it was before (re-sealed under the new key).
  expect(after.sealed).toHaveLength(total);
  const oldIvs = new Set(before.sealed.map((r) => Buffer.from(r.iv).toString('hex')));
  expect(after.sealed.filter((r) => oldIvs.has(Buffer.from(r.iv).toString('hex')))).toEqual([]);
  // No key in the copy, and the old device key (kept by the attacker from an earlier copy) opens nothing.
  expect(after.keys).toEqual([]);
  expect(after.stores.keys).toEqual([]);
  expect(await recordsOpenedBy(after, before.keys)).toBe(0);
  expect(containsCanary(after)).toBe(false);
  // No rotation left half-done: no second wrapped key, no marker.
  expect(after.stores.settings!.map((r) => r.key).sort()).toEqual(['relayUrl', 'wrapped']);
  return { total, after };
}

describe('a copy of the profile reads the history', () => {
  it('not after the lock is turned on with a passphrase: only the passphrase opens the copy', async () => {
    const name = `profile-copy-passphrase-${process.pid}`;
    const { total, after } = await attackAfter(async (app) => {
      const state = await app.handlers['lock.enable']({ passphrase: PASSPHRASE });
      expect(state.account).toEqual({ state: 'ready', displayName: 'Pat', lockEnabled: true, lockMethod: 'passphrase' });
      // The running app keeps reading under the new key.
      const page = await app.handlers['messages.page']({ conversationId: 'conv0', beforeSeq: null, limit: 10 });
      expect(page.messages.map((m) => m.text)).toContain(`${CANARY} message 0/2`);
    }, name);
    const wrapped = after.stores.settings!.find((r) => r.key === 'wrapped')!.value as Parameters<typeof lockKind>[0];
    expect(lockKind(wrapped)).toBe('passphrase');
    expect(wrapped.kdf).toBeDefined();
    await expect(unlockWithPassphrase(wrapped, 'not the passphrase')).rejects.toMatchObject({ code: 'locked' });
    // The person's passphrase does open it: nothing was lost.
    const { db, app } = await openProfile(name);
    expect(app.snapshot.account).toEqual({ state: 'locked', displayName: 'Pat', unlockWith: 'passphrase' });
    const vault = await unlockWithPassphrase((await loadWrappedKey(db))!, PASSPHRASE);
    let opened = 0;
    for (const r of after.sealed) opened += await vault.open(r.store, r.slot, { v: 1, iv: r.iv, ct: r.ct }).then(() => 1, () => 0);
    expect(opened).toBe(total);
    db.close();
  });

  it('not after the lock is turned on with the passkey (PRF): the copy holds only the PRF salt', async () => {
    const name = `profile-copy-prf-${process.pid}`;
    let salt = '';
    const { after } = await attackAfter(async (app) => {
      const { options } = (await app.handlers['lock.enableOptions'](null)) as { options: { allowCredentials: { id: string }[]; extensions: { prf: { eval: { first: string } } } } };
      expect(options.allowCredentials).toEqual([{ id: CREDENTIAL_ID, type: 'public-key' }]);
      salt = options.extensions.prf.eval.first;
      const response = { id: CREDENTIAL_ID, clientExtensionResults: { prf: { results: { first: prfOf(salt) } } } };
      const state = await app.handlers['lock.enable']({ response });
      expect(state.account).toEqual({ state: 'ready', displayName: 'Pat', lockEnabled: true, lockMethod: 'passkey' });
    }, name);
    const wrapped = after.stores.settings!.find((r) => r.key === 'wrapped')!.value as Parameters<typeof unlockVault>[0];
    await expect(unlockVault(wrapped, fromB64(prfOf(salt, 'another passkey'))!)).rejects.toMatchObject({ code: 'locked' });
    expect(await unlockVault(wrapped, fromB64(prfOf(salt))!)).toBeDefined();
  });
});
