/**
 * Contacts without links over a real relay: Alice adds Bob's device by its
 * address (a KeyPackage claimed from the directory, one Add Commit, a
 * Welcome in Bob's Welcome mailbox) and they write both ways; a direct
 * conversation; hostile Welcomes and bad KeyPackages are refused with
 * nothing changed; the conversation's roles decide who may add.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { decode, encode } from '../../lib/mls/codec/codec.ts';
import { createCommit, createGroup, encodeMessage, generateIdentity, generateKeyPackage } from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import { keyPackageCodec } from '../../lib/mls/join/key-package.ts';
import { makeKeyPackageRef } from '../../lib/mls/keys/crypto-ops.ts';
import { randomBytes, randomId, toB64 } from '../../lib/bytes.ts';
import type { AppCore } from '../../lib/background/app/core.ts';
import { roleCapabilities } from '../../lib/background/conversation-roles.ts';
import type { DeviceAddress } from '../../lib/background/device-address.ts';
import { KeyPackageStore } from '../../lib/background/key-package-store.ts';
import { BATCH, directoryCapabilities } from '../../lib/background/key-package-supply.ts';
import { newPseudonym } from '../../lib/background/member-names.ts';
import { RelayApi, type MailboxCredentials } from '../../lib/background/relay-api.ts';
import * as text from '../../lib/background/text.ts';
import { sealWelcome } from '../../lib/background/welcome-envelope.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const coreOf = (d: Device): AppCore => (d.app as unknown as { core: AppCore }).core;
const suite = getCipherSuite(1);

describe('contacts without links over a real relay', () => {
  let relay: RelayProcess;
  let api: RelayApi;
  let alice: Device;
  let bob: Device;
  let carol: Device;
  let dave: Device;
  const addr: Record<string, DeviceAddress> = {};
  let club = '';
  const registered: MailboxCredentials[] = [];
  let failWelcomes = false;
  const session = (d: Device): string => coreOf(d).account!.session.token;
  const stored = (d: Device): Promise<Map<string, unknown>> => new KeyPackageStore(d.db, coreOf(d).vault!).all();
  const ids = (d: Device): string[] => d.app.snapshot.conversations.map((c) => c.id);
  const active = (d: Device, id: string): boolean => d.app.snapshot.conversations.some((c) => c.id === id && c.status === 'active');
  const names = async (d: Device, id: string): Promise<string[]> =>
    (await d.app.handlers['conversation.get']({ conversationId: id })).members.map((m) => m.displayName).sort();
  const say = (d: Device, id: string, t: string) => d.app.handlers['message.send']({ conversationId: id, text: t });
  const postWelcome = (to: DeviceAddress, payload: Uint8Array) =>
    coreOf(carol).wallet!.spend((token) => api.sendWelcome(to.welcomeMailboxId, token, payload));
  const welcomeBoxEmpty = async (d: Device): Promise<boolean> => (await api.fetchMailbox(coreOf(d).account!.welcomeMailbox!)).length === 0;

  beforeAll(async () => {
    relay = await startRelay();
    api = new RelayApi(relay.url);
    // Alice's registrations to queues are recorded: the mailboxes she makes for the devices she adds.
    const aliceFetch: typeof fetch = async (input, init) => {
      if (failWelcomes && String(input).endsWith('/v1/mailboxes/welcome')) throw new TypeError('network down');
      if (String(input).endsWith('/v1/queues/register') && typeof init?.body === 'string') {
        const b = JSON.parse(init.body) as { mailboxId: string; secret: string };
        registered.push({ mailboxId: b.mailboxId, secret: b.secret });
      }
      return fetch(input, init);
    };
    [alice, bob, carol] = await Promise.all([
      startDevice(relay.url, 'Alice', { fetch: aliceFetch }),
      startDevice(relay.url, 'Bob'),
      startDevice(relay.url, 'Carol'),
    ]);
    // Dave never connects: no Welcome mailbox, no KeyPackages at the relay.
    dave = await startDevice(relay.url, 'Dave', { WebSocket: false });
    await waitUntil(() => [alice, bob, carol].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'all online');
    for (const d of [alice, bob, carol]) {
      addr[d.name] = await d.app.handlers['device.address']({});
      await waitUntil(async () => (await api.countKeyPackages(session(d))).oneTime === BATCH, 15_000, `${d.name}'s KeyPackages`);
    }
    addr.Dave = { accountId: coreOf(dave).account!.accountId, welcomeMailboxId: randomId() };
    ({ conversationId: club } = await alice.app.handlers['conversation.create']({ name: 'Club' }));
  });

  afterAll(async () => {
    for (const d of [alice, bob, carol, dave]) d?.app.stop();
    await relay?.stop();
  });

  it("Alice adds Bob's device by its address; Bob joins by the Welcome and they write both ways", async () => {
    const before = (await stored(bob)).size;
    const mark = registered.length;
    await alice.app.handlers['conversation.addDevices']({ conversationId: club, devices: [addr.Bob!] });
    const handed = registered[mark]!;
    await waitUntil(() => active(bob, club), 15_000, 'Bob in the Club');
    // Bob moves to a mailbox of his own: the one Alice made for him (and could read) is deleted.
    const gone = async (): Promise<boolean> => api.fetchMailbox(handed).then(() => false, (e: { status?: number }) => e.status === 404);
    await waitUntil(gone, 15_000, 'the handed mailbox deleted');
    expect(bob.app.snapshot.conversations.find((c) => c.id === club)?.name).toBe('Club');
    await say(alice, club, 'hello Bob');
    await waitUntil(() => bob.received(club).includes('hello Bob'), 15_000, 'Bob reads Alice');
    await say(bob, club, 'hello Alice');
    await waitUntil(() => alice.received(club).includes('hello Alice'), 15_000, 'Alice reads Bob');
    // Names travel encrypted once Bob is in (profiles), as after an invite link.
    await waitUntil(async () => (await names(alice, club)).join() === 'Alice,Bob', 15_000, 'Alice knows Bob by name');
    await waitUntil(async () => (await names(bob, club)).join() === 'Alice,Bob', 15_000, 'Bob knows Alice by name');
    const bobSystem = (await bob.app.handlers['messages.page']({ conversationId: club, beforeSeq: null, limit: 50 })).messages.map((m) => m.text);
    expect(bobSystem).toContain(text.YOU_WERE_ADDED);
    // The one-time package is spent: its private parts are gone from Bob's device.
    expect((await stored(bob)).size).toBe(before - 1);
    expect(await api.countKeyPackages(session(bob))).toMatchObject({ oneTime: BATCH - 1, lastResort: true });
  });

  it('startDirect makes a conversation with the devices in it', async () => {
    const { conversationId } = await carol.app.handlers['conversation.startDirect']({ devices: [addr.Bob!], name: 'Carol & Bob' });
    await waitUntil(() => active(bob, conversationId), 15_000, 'Bob in the direct conversation');
    await say(bob, conversationId, 'hi Carol');
    await waitUntil(() => carol.received(conversationId).includes('hi Carol'), 15_000, 'Carol reads Bob');
    expect((await carol.app.handlers['conversation.get']({ conversationId })).summary.memberCount).toBe(2);
    // Named after the other person on each side: Carol's name for it here, Carol's own name on Bob's device.
    expect(carol.app.snapshot.conversations.find((c) => c.id === conversationId)?.name).toBe('Carol & Bob');
    expect(bob.app.snapshot.conversations.find((c) => c.id === conversationId)?.name).toBe('Carol');
  });

  it('a device with no KeyPackage, or one whose KeyPackage is bad, is not added and nothing changes', async () => {
    const epoch = async (): Promise<number> => (await alice.app.handlers['conversation.get']({ conversationId: club })).epoch;
    const e0 = await epoch();
    await expect(alice.app.handlers['conversation.addDevices']({ conversationId: club, devices: [addr.Dave!] })).rejects.toMatchObject({
      message: text.NO_KEY_PACKAGE,
    });
    // A badly signed package, then one naming a person instead of a pseudonym (both uploaded by Dave's own account).
    const id = await generateIdentity(suite, newPseudonym());
    const good = (await generateKeyPackage(suite, id, { capabilities: directoryCapabilities(suite) })).keyPackage;
    const forged = encode(keyPackageCodec, { ...good, signature: randomBytes(good.signature.length) });
    const named = encode(keyPackageCodec, (await generateKeyPackage(suite, await generateIdentity(suite, new TextEncoder().encode('Dave')), { capabilities: directoryCapabilities(suite) })).keyPackage);
    for (const bad of [forged, named]) {
      await api.uploadKeyPackages(session(dave), [bad]);
      await expect(alice.app.handlers['conversation.addDevices']({ conversationId: club, devices: [addr.Dave!] })).rejects.toMatchObject({
        message: text.BAD_KEY_PACKAGE,
      });
    }
    expect(await epoch()).toBe(e0);
    expect(await names(alice, club)).toEqual(['Alice', 'Bob']);
    // A malformed address never reaches the relay.
    await expect(
      alice.app.handlers['conversation.addDevices']({ conversationId: club, devices: [{ accountId: 'x', welcomeMailboxId: 'y' }] }),
    ).rejects.toBeDefined();
  });

  it('hostile Welcomes are dropped with nothing changed; the same Welcome made right joins', async () => {
    const kpBytes = await api.claimKeyPackage(session(carol), addr.Bob!.accountId);
    const kp = decode(keyPackageCodec, kpBytes);
    const ref = makeKeyPackageRef(suite, kpBytes);
    const mallory = await generateIdentity(suite, newPseudonym());
    const g = await createGroup(suite, mallory, { capabilities: roleCapabilities(suite) });
    const r = await createCommit(g, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: kp } }] });
    const welcome = encodeMessage(r.welcome!);
    const mailbox = await coreOf(carol).wallet!.spend((token) => api.createMailbox(token));
    const details = { queue: toB64(randomBytes(32)), name: 'Mallory', mailbox };
    const tampered = welcome.slice();
    tampered[tampered.length - 5]! ^= 1;
    const before = { conversations: ids(bob), stored: (await stored(bob)).size };
    for (const payload of [
      randomBytes(200),
      // A Welcome that opens, with details sealed under the wrong epoch's exporter (the relay could make these).
      await sealWelcome(g, ref, welcome, details),
      // The right details with a Welcome altered on the way.
      await sealWelcome(r.state, ref, tampered, details),
    ]) {
      await postWelcome(addr.Bob!, payload);
      await waitUntil(() => welcomeBoxEmpty(bob), 15_000, 'the hostile Welcome handled');
    }
    expect(ids(bob)).toEqual(before.conversations);
    expect((await stored(bob)).size).toBe(before.stored);
    // Control: the same Welcome with the right details joins Bob to Mallory's group.
    await postWelcome(addr.Bob!, await sealWelcome(r.state, ref, welcome, details));
    await waitUntil(() => active(bob, toB64(r.state.context.groupId)), 15_000, "Bob in Mallory's group");
    expect((await stored(bob)).size).toBe(before.stored - 1);
    // Replayed, it names a package Bob no longer holds: dropped.
    await postWelcome(addr.Bob!, await sealWelcome(r.state, ref, welcome, details));
    await waitUntil(() => welcomeBoxEmpty(bob), 15_000, 'the replay handled');
    expect(bob.app.snapshot.conversations.filter((c) => c.id === toB64(r.state.context.groupId))).toHaveLength(1);
  });

  it('only those the roles allow may add: with "admins only", Bob (not an admin) cannot, Alice can', async () => {
    await alice.app.handlers['conversation.setInvitePolicy']({ conversationId: club, policy: 'admins' });
    await waitUntil(async () => (await bob.app.handlers['conversation.get']({ conversationId: club })).roles?.invitePolicy === 'admins', 15_000, 'Bob sees the policy');
    const carolCount = (await api.countKeyPackages(session(carol))).oneTime;
    await expect(bob.app.handlers['conversation.addDevices']({ conversationId: club, devices: [addr.Carol!] })).rejects.toMatchObject({
      message: text.ONLY_ADMINS_INVITE,
    });
    // Refused before any claim: Carol's supply is untouched.
    expect((await api.countKeyPackages(session(carol))).oneTime).toBe(carolCount);
    await alice.app.handlers['conversation.addDevices']({ conversationId: club, devices: [addr.Carol!] });
    await waitUntil(() => active(carol, club), 15_000, 'Carol in the Club');
    await say(carol, club, 'hello all');
    await waitUntil(() => alice.received(club).includes('hello all') && bob.received(club).includes('hello all'), 15_000, 'both read Carol');
  });

  it('a Welcome that cannot be posted is kept and goes out once the relay is back', async () => {
    const { conversationId } = await alice.app.handlers['conversation.create']({ name: 'Later' });
    failWelcomes = true;
    await expect(alice.app.handlers['conversation.addDevices']({ conversationId, devices: [addr.Carol!] })).rejects.toMatchObject({
      message: text.WELCOME_NOT_DELIVERED,
    });
    // Carol is a member in the group already (the Commit is in), but has no Welcome yet.
    expect((await alice.app.handlers['conversation.get']({ conversationId })).summary.memberCount).toBe(2);
    expect(active(carol, conversationId)).toBe(false);
    failWelcomes = false;
    await coreOf(alice).chat!.flush();
    await waitUntil(() => active(carol, conversationId), 15_000, 'Carol in once the Welcome went');
    await say(carol, conversationId, 'made it');
    await waitUntil(() => alice.received(conversationId).includes('made it'), 15_000, 'Alice reads Carol');
  });
});
