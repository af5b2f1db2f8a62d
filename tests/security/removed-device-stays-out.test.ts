/**
 * Attacks on removing one of a person's devices (issue #18,
 * docs/device-removal.md), over a real relay. Alice has a laptop and a
 * phone; Bob shares a conversation with both.
 *
 * A hostile member (Bob) tries to get Alice's phone treated as removed
 * without Alice: he replays a roster Alice really signed before the phone
 * was linked (valid signature, older version), and a newer roster without
 * the phone with a forged signature, and a device `sync` (leave, delete)
 * as if from one of Alice's devices. None may put the phone in its removed
 * state, change Alice's roster anywhere, or take the room off her devices.
 *
 * After Alice really removes the phone, the phone (still holding Alice's
 * identity key and its old relay session) tries to stay in: nobody can
 * claim its KeyPackages, it cannot register a new retire secret to undo the
 * retirement, the relay takes no queue operation with its old capability,
 * and a message sent after the Remove, handed to it byte for byte (as a
 * relay keeping a copy could), reveals nothing: it holds no group state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromB64, randomBytes, randomId, toB64 } from '../../lib/bytes.ts';
import type { AppCore } from '../../lib/background/app/core.ts';
import type { DeviceAddress } from '../../lib/background/device-address.ts';
import type { OwnIdentity } from '../../lib/background/identity/own-identity.ts';
import type { Roster } from '../../lib/background/identity/roster.ts';
import { BATCH } from '../../lib/background/key-package-supply.ts';
import { RelayApi } from '../../lib/background/relay-api.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';

/** Each step is a relay round trip or a Commit, on two cores shared with other work. */
const SLOW = 2;

const coreOf = (d: Device): AppCore => (d.app as unknown as { core: AppCore }).core;
const ownOf = (d: Device): OwnIdentity => coreOf(d).chat!.people!.own;
const session = (d: Device): string => coreOf(d).account!.session.token;
const active = (d: Device, id: string): boolean => d.app.snapshot.conversations.some((c) => c.id === id && c.status === 'active');

describe('a removed device stays out; a member cannot remove it for Alice', () => {
  let relay: RelayProcess;
  let api: RelayApi;
  let laptop: Device;
  let phone: Device;
  let bob: Device;
  let room = '';
  const addr: Record<string, DeviceAddress> = {};
  /** Alice's roster as she signed it before the phone was linked. */
  let rosterWithoutPhone: Roster;
  /** Every payload the laptop posts to a queue (what the relay sees). */
  const posted: { queue: string; cap: string; payload: string }[] = [];
  const laptopFetch: typeof fetch = async (input, init) => {
    if (String(input).endsWith('/v1/queues/send') && typeof init?.body === 'string') {
      const b = JSON.parse(init.body) as { queue: string; cap: string; payload: string };
      posted.push({ queue: b.queue, cap: b.cap, payload: b.payload });
    }
    return fetch(input, init);
  };
  const say = (d: Device, t: string) => d.app.handlers['message.send']({ conversationId: room, text: t });
  /** Bob sends any app message, as a hostile member can (the chat's own sending path). */
  const bobSends = (app: unknown) => (coreOf(bob).chat as unknown as { sendApp(id: string, app: unknown): Promise<void> }).sendApp(room, app);

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
    rosterWithoutPhone = ownOf(laptop).roster;
    // Linking, as the linking part does it: the phone takes Alice's identity; the laptop signs it into her roster.
    await ownOf(phone).importFromLink(ownOf(laptop).exportForLink());
    await ownOf(laptop).signRosterWith({ deviceKey: ownOf(phone).deviceKey, name: 'Firefox on Android', addedAt: Date.now(), address: addr['Alice phone']! });
    // The phone registers the retire hash of Alice's identity (its identity changed).
    await new Promise((r) => setTimeout(r, 500));
    ({ conversationId: room } = await laptop.app.handlers['conversation.create']({ name: 'Club' }));
    await laptop.app.handlers['conversation.addDevices']({ conversationId: room, devices: [addr.Bob!, addr['Alice phone']!] });
    await waitUntil(() => active(phone, room) && active(bob, room), 20_000 * SLOW, 'the phone and Bob in the room');
    const phoneKey = ownOf(phone).deviceKey;
    await waitUntil(() => coreOf(laptop).chat!.leavesOfDevice(room, ownOf(laptop).identityKey, phoneKey).length === 1, 20_000 * SLOW, "the phone's proof");
  }, 120_000 * SLOW);

  afterAll(async () => {
    for (const d of [laptop, phone, bob]) d?.app.stop();
    await relay?.stop();
  });

  it("Bob replays Alice's old roster (signed, without the phone), forges a newer one and a device sync: the phone is not removed, nothing changes", async () => {
    const own = ownOf(laptop);
    const current = own.roster;
    expect(rosterWithoutPhone.version).toBeLessThan(current.version);
    const claim = (roster: Roster) => ({
      v: 1,
      t: 'person',
      id: randomId(),
      at: Date.now(),
      personId: own.personId,
      identityKey: own.identityKey,
      deviceKey: own.deviceKey,
      leafSig: toB64(new Uint8Array(64)),
      roster,
    });
    const forged: Roster = { ...current, version: current.version + 5, devices: current.devices.filter((d) => d.deviceKey !== ownOf(phone).deviceKey) };
    await bobSends(claim(rosterWithoutPhone));
    await bobSends(claim(forged));
    await bobSends(claim({ ...forged, sig: toB64(randomBytes(64)) }));
    // And a forged device sync, as if one of Alice's devices had left or deleted the room.
    for (const action of ['leave', 'delete'] as const) await bobSends({ v: 1, t: 'sync', id: randomId(), at: Date.now(), action, conversationId: room });
    await say(bob, 'after the rosters');
    for (const d of [laptop, phone]) await waitUntil(() => d.received(room).includes('after the rosters'), 15_000 * SLOW, `${d.name} reads past them`);
    expect(phone.app.snapshot.removedFromAccount).not.toBe(true);
    expect(ownOf(phone).roster).toEqual(current);
    expect(ownOf(laptop).roster).toEqual(current);
    expect(active(phone, room)).toBe(true);
    expect(active(laptop, room)).toBe(true);
    // The phone still speaks in the room.
    await say(phone, 'phone still here');
    await waitUntil(() => bob.received(room).includes('phone still here'), 15_000 * SLOW, 'Bob reads the phone');
  }, 60_000 * SLOW);

  it('after Alice removes it, the phone cannot be added again, cannot undo the retirement, and reads nothing sent after', async () => {
    const phoneKey = ownOf(phone).deviceKey;
    const phoneChat = coreOf(phone).chat!;
    const phoneMailbox = phoneChat.mailboxes()[0]!;
    const oldCap = capOf(phone, room);
    expect(oldCap).toBeDefined();
    const r = await laptop.app.handlers['devices.remove']({ deviceKey: phoneKey });
    expect(r).toMatchObject({ removedFrom: 1, notRemovedFrom: [], keyPackagesRetired: true });
    await waitUntil(() => !active(phone, room), 20_000 * SLOW, 'the phone out of the room');
    await waitUntil(() => phone.app.snapshot.removedFromAccount === true, 15_000 * SLOW, 'the phone shows it was removed');

    // Nobody can claim its KeyPackages (one-time or last resort), so nobody can add it anywhere.
    for (let i = 0; i < 3; i++) {
      await expect(api.claimKeyPackage(session(bob), addr['Alice phone']!.accountId)).rejects.toMatchObject({ status: 404 });
    }
    // With its own session it cannot register a fresh retire secret, nor upload packages again.
    await expect(api.registerRetireHash(session(phone), sha256(randomBytes(32)))).rejects.toMatchObject({ code: 'conflict' });
    await coreOf(phone).directory?.supply.replenish().catch(() => undefined);
    await expect(api.claimKeyPackage(session(bob), addr['Alice phone']!.accountId)).rejects.toMatchObject({ status: 404 });

    // The queue no longer takes its old capability (the Remove rotated it).
    await expect(api.unregisterQueue(fromB64(posted[0]!.queue)!, oldCap!, phoneMailbox.mailboxId)).rejects.toMatchObject({ status: 404 });

    // A message after the Remove, handed to the phone byte for byte: it holds no state to read it with.
    const before = posted.length;
    await say(laptop, 'the phone must not read this');
    await waitUntil(() => bob.received(room).includes('the phone must not read this'), 15_000 * SLOW, 'Bob reads it');
    const after = posted.slice(before).map((p) => p.payload);
    expect(after.length).toBeGreaterThan(0);
    for (const payload of after) await phoneChat.receive(phoneMailbox.mailboxId, { id: randomId(), kind: 'group', payload: fromB64(payload)! });
    expect(phone.received(room)).not.toContain('the phone must not read this');
    expect(await coreOf(phone).deps.db.get('groups', room)).toBeUndefined();
    // It refuses to send.
    await expect(say(phone, 'let me back in')).rejects.toMatchObject({ code: 'forbidden' });
  }, 90_000 * SLOW);
});

/** The queue capability the phone held for the room (before its removal). */
function capOf(d: Device, id: string): Uint8Array | undefined {
  const meta = (coreOf(d).chat as unknown as { c: { metas: Map<string, { cap?: string }> } }).c.metas.get(id);
  return meta?.cap === undefined ? undefined : (fromB64(meta.cap) ?? undefined);
}
