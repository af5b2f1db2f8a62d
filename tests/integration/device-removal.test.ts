/**
 * Removing one of Alice's devices over a real relay (docs/device-removal.md).
 * Alice's phone joins her identity as linking will (exportForLink /
 * importFromLink, a roster with it, addDevices), then her laptop removes it:
 * the phone reads nothing new, Bob sees Alice with one device and no
 * warning, its KeyPackages cannot be claimed, and the phone shows it was
 * removed. The laptop is killed in the middle and resumes. Attackers: Bob
 * cannot remove Alice's device, and a replayed old roster changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomId, toB64 } from '../../lib/bytes.ts';
import type { AppCore } from '../../lib/background/app/core.ts';
import type { DeviceAddress } from '../../lib/background/device-address.ts';
import type { OwnIdentity } from '../../lib/background/identity/own-identity.ts';
import type { Roster } from '../../lib/background/identity/roster.ts';
import { BATCH } from '../../lib/background/key-package-supply.ts';
import { RelayApi } from '../../lib/background/relay-api.ts';
import * as text from '../../lib/background/text.ts';
import type { PersonView } from '../../lib/protocol/channel.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

/** Waits are generous: these tests share two cores with the whole suite in CI, and each step is a relay round trip or a Commit. */
const SLOW = 2;

const coreOf = (d: Device): AppCore => (d.app as unknown as { core: AppCore }).core;
const ownOf = (d: Device): OwnIdentity => coreOf(d).chat!.people!.own;

describe('removing one of our devices over a real relay', () => {
  let relay: RelayProcess;
  let api: RelayApi;
  let laptop: Device;
  let phone: Device;
  let bob: Device;
  const addr: Record<string, DeviceAddress> = {};
  const rooms: string[] = [];
  let hangSends = false;
  let sendsSeen = 0;
  let oldRoster: Roster;
  const session = (d: Device): string => coreOf(d).account!.session.token;
  const active = (d: Device, id: string): boolean => d.app.snapshot.conversations.some((c) => c.id === id && c.status === 'active');
  const people = async (d: Device, id: string): Promise<PersonView[]> => (await d.app.handlers['conversation.get']({ conversationId: id })).people;
  const aliceSeenBy = async (d: Device, id: string): Promise<PersonView | undefined> =>
    (await people(d, id)).find((p) => p.personKey === ownOf(laptop).identityKey);
  const say = (d: Device, id: string, t: string) => d.app.handlers['message.send']({ conversationId: id, text: t });
  // The laptop's Commits: once `hangSends` is set, the second one reaches the relay but the worker never hears back (it is killed then).
  const laptopFetch: typeof fetch = async (input, init) => {
    const commit = String(input).endsWith('/v1/queues/send') && typeof init?.body === 'string' && init.body.includes('"rotateTo"');
    if (hangSends && commit && ++sendsSeen >= 2) return fetch(input, init).then(() => new Promise<Response>(() => {}));
    return fetch(input, init);
  };

  beforeAll(async () => {
    relay = await startRelay();
    api = new RelayApi(relay.url);
    [laptop, phone, bob] = await Promise.all([
      startDevice(relay.url, 'Alice', { fetch: laptopFetch }),
      startDevice(relay.url, 'Alice phone'),
      startDevice(relay.url, 'Bob'),
    ]);
    await waitUntil(() => [laptop, phone, bob].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'all online');
    for (const d of [laptop, phone, bob]) {
      addr[d.name] = await d.app.handlers['device.address']({});
      await waitUntil(async () => (await api.countKeyPackages(session(d))).oneTime === BATCH, 15_000 * SLOW, `${d.name}'s KeyPackages`);
    }
    // Linking, as the linking part will do it: the phone takes Alice's identity; the laptop signs it into her roster.
    await ownOf(phone).importFromLink(ownOf(laptop).exportForLink());
    await ownOf(laptop).signRosterWith({ deviceKey: ownOf(phone).deviceKey, name: 'Firefox on Android', addedAt: Date.now(), address: addr['Alice phone']! });
    // The phone registers the retire hash of Alice's identity (its roster changed): wait until the relay has it.
    await new Promise((r) => setTimeout(r, 500));
    for (const name of ['Club', 'Book club', 'Notes']) {
      const { conversationId } = await laptop.app.handlers['conversation.create']({ name });
      rooms.push(conversationId);
      const devices = name === 'Notes' ? [addr['Alice phone']!] : [addr.Bob!, addr['Alice phone']!];
      await laptop.app.handlers['conversation.addDevices']({ conversationId, devices });
    }
    for (const id of rooms) await waitUntil(() => active(phone, id), 20_000 * SLOW, 'the phone in every conversation');
    await waitUntil(async () => (await aliceSeenBy(bob, rooms[0]!))?.devices.length === 2, 20_000 * SLOW, 'Bob sees Alice with two devices');
    // The laptop knows the phone's leaf in each conversation from the phone's own `person` message.
    const phoneKey = ownOf(phone).deviceKey;
    for (const id of rooms)
      await waitUntil(() => coreOf(laptop).chat!.leavesOfDevice(id, ownOf(laptop).identityKey, phoneKey).length === 1, 20_000 * SLOW, "the phone's proof");
    oldRoster = ownOf(laptop).roster;
  }, 120_000 * SLOW);

  afterAll(async () => {
    for (const d of [laptop, phone, bob]) d?.app.stop();
    await relay?.stop();
  });

  it('settings list our devices, this one first; Bob cannot remove a device of Alice', async () => {
    const { devices } = await laptop.app.handlers['devices.list'](null);
    expect(devices.map((d) => [d.name, d.thisDevice])).toEqual([
      [expect.any(String), true],
      ['Firefox on Android', false],
    ]);
    const phoneKey = ownOf(phone).deviceKey;
    await expect(bob.app.handlers['devices.remove']({ deviceKey: phoneKey })).rejects.toMatchObject({ code: 'not-found' });
    await expect(laptop.app.handlers['devices.remove']({ deviceKey: ownOf(laptop).deviceKey })).rejects.toMatchObject({ code: 'invalid-input' });
    expect(ownOf(laptop).roster).toEqual(oldRoster);
    expect((await aliceSeenBy(bob, rooms[0]!))?.devices.length).toBe(2);
  });

  it('a worker killed in the middle of removing resumes; the phone is cut off, shown removed, its KeyPackages gone', async () => {
    const phoneKey = ownOf(phone).deviceKey;
    hangSends = true;
    void laptop.app.handlers['devices.remove']({ deviceKey: phoneKey }).catch(() => undefined);
    // One conversation's Remove is confirmed; the next hangs: the worker dies there.
    await waitUntil(() => rooms.some((id) => !active(phone, id)), 20_000 * SLOW, 'the phone removed from one conversation');
    await waitUntil(() => sendsSeen >= 2, 10_000 * SLOW, 'the second Commit under way');
    expect((await laptop.app.handlers['devices.list'](null)).devices.find((d) => d.deviceKey === phoneKey)?.removing).toBe(true);
    laptop.app.stop();
    hangSends = false;
    laptop = await startDevice(relay.url, 'Alice', { dbName: laptop.dbName, register: false });
    await waitUntil(() => rooms.every((id) => !active(phone, id)), 30_000 * SLOW, 'the phone removed everywhere after the restart');
    await waitUntil(() => !ownOf(laptop).roster.devices.some((d) => d.deviceKey === phoneKey), 20_000 * SLOW, 'the roster without the phone');
    expect((await laptop.app.handlers['devices.list'](null)).devices.map((d) => d.thisDevice)).toEqual([true]);
    // The phone knows, and says so; it sends nothing.
    await waitUntil(() => phone.app.snapshot.removedFromAccount === true, 15_000 * SLOW, 'the phone shows it was removed');
    await expect(say(phone, rooms[0]!, 'still here?')).rejects.toMatchObject({ code: 'forbidden' });
    // Nobody can claim its KeyPackages any more (one-time or last resort).
    await waitUntil(
      () => api.claimKeyPackage(session(bob), addr['Alice phone']!.accountId).then(() => false, (e: { status?: number }) => e.status === 404),
      15_000 * SLOW,
      "the phone's KeyPackages retired",
    );
    // Nothing new reaches it, in any conversation.
    for (const id of rooms) await say(laptop, id, `after removal ${id}`);
    await waitUntil(() => bob.received(rooms[0]!).includes(`after removal ${rooms[0]}`), 15_000 * SLOW, 'Bob reads the laptop');
    await new Promise((r) => setTimeout(r, 1000));
    for (const id of rooms) expect(phone.received(id)).not.toContain(`after removal ${id}`);
  }, 120_000 * SLOW);

  it('Bob sees Alice as one person with one device, and no warning', async () => {
    for (const id of rooms.slice(0, 2)) {
      await waitUntil(async () => (await aliceSeenBy(bob, id))?.devices.length === 1, 15_000 * SLOW, 'one device');
      const all = await people(bob, id);
      expect(all.filter((p) => p.personKey.startsWith('leaf:'))).toEqual([]);
      expect((await aliceSeenBy(bob, id))?.verification).not.toBe('changed');
    }
  });

  it('the laptop names the device it removed ("You removed your device Firefox on Android"); Bob reads no "your device"', async () => {
    const sentence = text.youRemovedOwnDevice('Firefox on Android');
    const systemTexts = async (d: Device, id: string): Promise<string[]> =>
      (await d.app.handlers['messages.page']({ conversationId: id, beforeSeq: null, limit: 100 })).messages.filter((m) => m.kind === 'system').map((m) => m.text);
    for (const id of rooms) await waitUntil(async () => (await systemTexts(laptop, id)).includes(sentence), 15_000 * SLOW, `the note in ${id}`);
    for (const id of rooms) expect((await systemTexts(laptop, id)).filter((t) => t.startsWith('You removed'))).toEqual([sentence]);
    for (const id of rooms.slice(0, 2)) expect(await systemTexts(bob, id)).not.toContain(sentence);
    // Bob reads that Alice removed a device of hers, by the name her roster gave it.
    const bobs = text.removedOwnDevice('Alice', 'Firefox on Android');
    for (const id of rooms.slice(0, 2)) {
      expect((await systemTexts(bob, id)).filter((t) => t.includes('removed'))).toEqual([bobs]);
    }
  });

  it("a replay of the old roster (with the phone) by another member changes nothing", async () => {
    const own = ownOf(laptop);
    const replay = {
      v: 1,
      t: 'person',
      id: randomId(),
      at: Date.now(),
      personId: own.personId,
      identityKey: own.identityKey,
      deviceKey: oldRoster.devices.find((d) => d.deviceKey !== own.deviceKey)!.deviceKey,
      leafSig: toB64(new Uint8Array(64)),
      roster: oldRoster,
    };
    const chat = coreOf(bob).chat as unknown as { sendApp(id: string, app: unknown): Promise<void> };
    await chat.sendApp(rooms[0]!, replay);
    await say(bob, rooms[0]!, 'after the replay');
    await waitUntil(() => laptop.received(rooms[0]!).includes('after the replay'), 15_000 * SLOW, 'the laptop reads past the replay');
    const alice = await aliceSeenBy(laptop, rooms[0]!);
    expect(alice?.devices.length).toBe(1);
    expect(ownOf(laptop).roster.devices.length).toBe(1);
    expect(ownOf(laptop).roster.version).toBeGreaterThan(oldRoster.version);
  });

  it('where Alice may not remove (Bob is the admin) the removal goes on and says so; that device learns it from the roster', async () => {
    const tablet = await startDevice(relay.url, 'Alice tablet');
    try {
      await waitUntil(() => tablet.app.snapshot.connection === 'online', 15_000 * SLOW, 'the tablet online');
      const tabletAddr = await tablet.app.handlers['device.address']({});
      await waitUntil(async () => (await api.countKeyPackages(session(tablet))).oneTime === BATCH, 15_000 * SLOW, "the tablet's KeyPackages");
      await ownOf(tablet).importFromLink(ownOf(laptop).exportForLink());
      await ownOf(laptop).signRosterWith({ deviceKey: ownOf(tablet).deviceKey, name: 'Chrome on iPad', addedAt: Date.now(), address: tabletAddr });
      const { conversationId: bobs } = await bob.app.handlers['conversation.create']({ name: "Bob's room" });
      await bob.app.handlers['conversation.addDevices']({ conversationId: bobs, devices: [tabletAddr, addr.Alice!] });
      await waitUntil(() => active(tablet, bobs) && active(laptop, bobs), 20_000 * SLOW, "Alice's devices in Bob's room");
      const tabletKey = ownOf(tablet).deviceKey;
      await waitUntil(() => coreOf(laptop).chat!.leavesOfDevice(bobs, ownOf(laptop).identityKey, tabletKey).length === 1, 20_000 * SLOW, "the tablet's proof");
      const r = await laptop.app.handlers['devices.remove']({ deviceKey: tabletKey });
      expect(r.notRemovedFrom).toEqual(["Bob's room"]);
      expect(r.keyPackagesRetired).toBe(true);
      expect(ownOf(laptop).roster.devices.map((d) => d.deviceKey)).toEqual([ownOf(laptop).deviceKey]);
      // Still a member there, but the roster announced in Bob's room tells it: it shows the removed state.
      await waitUntil(() => tablet.app.snapshot.removedFromAccount === true, 20_000 * SLOW, 'the tablet shows it was removed');
      await expect(say(tablet, bobs, 'hello?')).rejects.toMatchObject({ code: 'forbidden' });
    } finally {
      tablet.app.stop();
    }
  }, 90_000 * SLOW);
});
