// Attack: read the view state the background keeps for a wake (lib/background/wake-state.ts: the account's name, every
// conversation's name and last message) without what protects the rest of the profile.
// - An outsider with a copy of the profile after the lock was turned on: the kept state is gone with the first step of
//   the lock's key rotation, so the copy holds no such record, sealed or not, and a shell reading the copy answers
//   nothing from it even when one is put back.
// - A web page, a content script or another extension asking a woken worker's shell, before the full background is
//   loaded: the sender check comes first, the kept state answers only our own pages.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { CHANNEL } from '../../lib/protocol/channel.ts';
import { serveChannel, type ChannelBackend } from '../../lib/background/channel-server.ts';
import { WAKE_STATE_SLOT } from '../../lib/background/db.ts';
import { readWakeState } from '../../lib/background/wake-state.ts';
import { waitUntil } from '../integration/support/device.ts';
import { EXTENSION_ID, EXTENSION_ORIGIN, fakeRuntime } from '../support/fake-runtime.ts';
import { CANARY, dumpProfile, openProfile, recordsOpenedBy, seedProfile } from '../support/seeded-profile.ts';

const VERSION = 'test';

describe('the view state kept for a wake', () => {
  it('is not in a copy of the profile taken after the lock is turned on, and a kept state put back is not used', async () => {
    const name = `kept-wake-state-copy-${process.pid}`;
    const total = await seedProfile(name);
    const { db, app } = await openProfile(name);
    await waitUntil(async () => (await readWakeState(db, VERSION, Date.now())) !== undefined, 5_000, 'the kept state');
    const before = await dumpProfile(name);
    const keptRecord = before.stores.secrets!.find((r) => r.key === WAKE_STATE_SLOT)!.value;
    // Lock off, the copy's device key opens it like every other record (documented: the lock is what protects a copy).
    expect(await recordsOpenedBy(before, before.keys)).toBe(total + 1);

    await app.handlers['lock.enable']({ passphrase: 'correct horse battery staple' });
    app.stop();
    const after = await dumpProfile(name);
    expect(after.stores.secrets!.map((r) => r.key)).not.toContain(WAKE_STATE_SLOT);
    expect(after.sealed).toHaveLength(total);
    expect(JSON.stringify(after.stores, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))).not.toContain(CANARY);
    expect(await recordsOpenedBy(after, before.keys)).toBe(0);

    // Put back (an old copy restored into the profile): the lock's wrapped key is there, so the shell uses nothing.
    await db.put('secrets', keptRecord as never, WAKE_STATE_SLOT);
    expect(await readWakeState(db, VERSION, Date.now())).toBeUndefined();
    db.close();
  });

  it('answers only our own pages: a web page, a content script or another extension gets nothing from it', async () => {
    const name = `kept-wake-state-sender-${process.pid}`;
    await seedProfile(name);
    const { db, app } = await openProfile(name);
    await waitUntil(async () => (await readWakeState(db, VERSION, Date.now())) !== undefined, 5_000, 'the kept state');
    app.stop();
    const { runtime, message } = fakeRuntime();
    // The full background never loads here: only the kept state could answer.
    serveChannel(runtime, new Promise<ChannelBackend>(() => undefined), { state: readWakeState(db, VERSION, Date.now()), needed: () => undefined });
    const ask = { channel: CHANNEL, method: 'state.get', params: null };
    expect(message(ask, { id: EXTENSION_ID, url: 'https://evil.test/' })).toBeUndefined();
    expect(message(ask, { id: 'another-extension-id', url: `${EXTENSION_ORIGIN}sidepanel.html` })).toBeUndefined();
    expect(message(ask, { url: `${EXTENSION_ORIGIN}sidepanel.html` })).toBeUndefined();
    // Our side panel does get it: the kept state is there to be refused above.
    expect(await message(ask, { id: EXTENSION_ID, url: `${EXTENSION_ORIGIN}sidepanel.html` })).toMatchObject({ ok: true, result: { account: { state: 'ready' } } });
    db.close();
  });
});
