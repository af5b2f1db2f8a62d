// Our own identity: made once and kept sealed, rosters signed on add and
// remove, and the bundle a linked device receives (checked before use).
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromB64, randomBytes, toB64 } from '../../../lib/bytes.ts';
import { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import { LinkBundleError } from '../../../lib/background/identity/link-bundle.ts';
import { signRoster, verifyRoster } from '../../../lib/background/identity/roster.ts';
import { guessDeviceName } from '../../../lib/background/identity/device-name.ts';
import { freshStore } from './support.ts';

const newDevice = (name: string) => ({ deviceKey: toB64(ed25519.getPublicKey(ed25519.utils.randomSecretKey())), name, addedAt: 5 });

describe('own identity', () => {
  it('is made once, sealed (no key in clear in the database), and loaded again the same', async () => {
    const { db, vault } = await freshStore();
    const a = await OwnIdentity.ensure(db, vault, 'Chrome on Linux', 1000);
    const again = await OwnIdentity.ensure(db, vault, 'Ignored', 2000);
    expect(again.identityKey).toBe(a.identityKey);
    expect(again.personId).toBe(a.personId);
    expect(again.deviceKey).toBe(a.deviceKey);
    expect(a.roster.version).toBe(1);
    expect(a.roster.devices).toEqual([{ deviceKey: a.deviceKey, name: 'Chrome on Linux', addedAt: 1000 }]);
    const secret = a.exportForLink().identitySecret;
    for (const k of ['identity', 'device-key']) {
      const raw = JSON.stringify(await db.get('secrets', k), (_, v: unknown) => (v instanceof Uint8Array ? toB64(v) : v));
      expect(raw).not.toContain(secret);
      expect(raw).not.toContain(a.personId);
    }
  });

  it('gives every person and every device keys of their own', async () => {
    const one = await OwnIdentity.ensure(...Object.values(await freshStore()) as [never, never]);
    const two = await OwnIdentity.ensure(...Object.values(await freshStore()) as [never, never]);
    expect(one.identityKey).not.toBe(two.identityKey);
    expect(one.personId).not.toBe(two.personId);
    expect(one.deviceKey).not.toBe(two.deviceKey);
  });

  it('signs a new roster version on every add and remove, and keeps it', async () => {
    const { db, vault } = await freshStore();
    const a = await OwnIdentity.ensure(db, vault, 'Laptop', 1);
    const phone = newDevice('Phone');
    const v2 = await a.signRosterWith(phone);
    expect(v2.version).toBe(2);
    expect(v2.devices.map((d) => d.name)).toEqual(['Laptop', 'Phone']);
    expect(verifyRoster(a.identityPublicKey, fromB64(a.personId)!, v2)).toBe(true);
    const v3 = await a.signRosterWith({ ...phone, address: { accountId: 'acc', welcomeMailboxId: 'mb' } });
    expect(v3.version).toBe(3);
    expect(v3.devices).toHaveLength(2);
    const v4 = await a.removeFromRoster(phone.deviceKey);
    expect(v4.version).toBe(4);
    expect(v4.devices.map((d) => d.deviceKey)).toEqual([a.deviceKey]);
    expect((await OwnIdentity.ensure(db, vault)).roster).toEqual(v4);
    await expect(a.removeFromRoster(a.deviceKey)).rejects.toThrow(RangeError);
  });

  it('tells its listeners when it signs a roster or takes a linked identity, not when a change fails', async () => {
    const { db, vault } = await freshStore();
    const a = await OwnIdentity.ensure(db, vault);
    let heard = 0;
    a.onRosterChange(() => heard++);
    await a.signRosterWith(newDevice('Phone'));
    expect(heard).toBe(1);
    await a.importFromLink((await OwnIdentity.ensure(...(Object.values(await freshStore()) as [never, never]))).exportForLink());
    expect(heard).toBe(2);
    await expect(a.importFromLink({})).rejects.toThrow(LinkBundleError);
    await expect(a.removeFromRoster(a.deviceKey)).rejects.toThrow(RangeError);
    expect(heard).toBe(2);
  });

  it('hands its identity to a linked device, which keeps its own device key', async () => {
    const first = await freshStore();
    const a = await OwnIdentity.ensure(first.db, first.vault, 'Laptop', 1);
    const second = await freshStore();
    const b = await OwnIdentity.ensure(second.db, second.vault, 'Phone', 2);
    const deviceB = b.deviceKey;
    await a.signRosterWith({ deviceKey: deviceB, name: 'Phone', addedAt: 2 });
    const bundle = JSON.parse(JSON.stringify(a.exportForLink())) as unknown;
    await b.importFromLink(bundle);
    expect(b.identityKey).toBe(a.identityKey);
    expect(b.personId).toBe(a.personId);
    expect(b.deviceKey).toBe(deviceB);
    expect(b.roster.version).toBe(2);
    const reloaded = await OwnIdentity.ensure(second.db, second.vault);
    expect(reloaded.identityKey).toBe(a.identityKey);
  });

  it('refuses a bundle whose roster another identity signed, or that is malformed, and keeps its own', async () => {
    const { db, vault } = await freshStore();
    const b = await OwnIdentity.ensure(db, vault);
    const before = b.identityKey;
    const a = await OwnIdentity.ensure(...(Object.values(await freshStore()) as [never, never]));
    const good = a.exportForLink();
    const mallory = ed25519.utils.randomSecretKey();
    const forged = { ...good, roster: signRoster(mallory, fromB64(good.personId)!, 9, good.roster.devices) };
    await expect(b.importFromLink(forged)).rejects.toThrow(LinkBundleError);
    await expect(b.importFromLink({ ...good, personId: toB64(randomBytes(16)) })).rejects.toThrow(LinkBundleError);
    await expect(b.importFromLink({ ...good, extra: 1 })).rejects.toThrow(LinkBundleError);
    await expect(b.importFromLink({ ...good, identitySecret: 'short' })).rejects.toThrow(LinkBundleError);
    await expect(b.importFromLink(null)).rejects.toThrow(LinkBundleError);
    expect(b.identityKey).toBe(before);
    expect((await OwnIdentity.ensure(db, vault)).identityKey).toBe(before);
  });
});

describe('rosters signed by our other devices', () => {
  it('takes a newer roster of ours, and refuses an older one or one another identity signed', async () => {
    const first = await freshStore();
    const a = await OwnIdentity.ensure(first.db, first.vault, 'Laptop', 1);
    const second = await freshStore();
    const b = await OwnIdentity.ensure(second.db, second.vault, 'Phone', 2);
    await a.signRosterWith({ deviceKey: b.deviceKey, name: 'Phone', addedAt: 2 });
    await b.importFromLink(a.exportForLink());
    const v2 = b.roster;
    const v3 = await a.signRosterWith(newDevice('Tablet'));
    expect(await b.adoptRoster(v3)).toBe(true);
    expect(b.roster).toEqual(v3);
    expect((await OwnIdentity.ensure(second.db, second.vault)).roster).toEqual(v3);
    expect(await b.adoptRoster(v2)).toBe(false);
    const mallory = ed25519.utils.randomSecretKey();
    expect(await b.adoptRoster(signRoster(mallory, fromB64(b.personId)!, 99, v3.devices))).toBe(false);
    expect(b.roster).toEqual(v3);
    // The next roster this device signs builds on the adopted one.
    expect((await b.signRosterWith(newDevice('Watch'))).version).toBe(4);
  });
});

describe('device names', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', 'Chrome on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0', 'Edge on macOS'],
    [undefined, 'This browser'],
  ])('%s → %s', (ua, name) => {
    expect(guessDeviceName(ua)).toBe(name);
  });
});
