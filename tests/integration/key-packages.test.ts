/**
 * The KeyPackage supply over a real relay (RFC 9750 §4, RFC 9420 §16.8): a
 * new device uploads a batch of one-time packages and a last-resort one;
 * claims use the one-time packages once each; the last-resort package is
 * handed out only when none is left, and again and again; the supply is
 * filled back up at the next connection, and the last-resort one is not
 * replaced while it is fresh. Every package claimed is one we can open (its
 * private parts are on the device), has a fresh pseudonym and signature key,
 * and validates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { decode } from '../../lib/mls/codec/codec.ts';
import { isLastResort, validateKeyPackage } from '../../lib/mls/group.ts';
import { ProtocolVersion } from '../../lib/mls/framing/protocol-version.ts';
import { keyPackageCodec } from '../../lib/mls/join/key-package.ts';
import { makeKeyPackageRef } from '../../lib/mls/keys/crypto-ops.ts';
import { credentialIdentity } from '../../lib/mls/tree/leaf-node-validation.ts';
import { bytesToHex, fromB64, toB64 } from '../../lib/bytes.ts';
import type { AppCore } from '../../lib/background/app/core.ts';
import { BATCH, LOW } from '../../lib/background/key-package-supply.ts';
import { KeyPackageStore } from '../../lib/background/key-package-store.ts';
import { isPseudonym } from '../../lib/background/member-names.ts';
import { RelayApi } from '../../lib/background/relay-api.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const coreOf = (d: Device): AppCore => (d.app as unknown as { core: AppCore }).core;
const suite = getCipherSuite(1);

describe('KeyPackage supply over a real relay', () => {
  let relay: RelayProcess;
  let alice: Device;
  let bob: Device;
  let api: RelayApi;
  let aliceAccount = '';
  const welcomes: string[] = [];
  const aliceSession = (): string => coreOf(alice).account!.session.token;
  const bobSession = (): string => coreOf(bob).account!.session.token;
  const stored = (): Promise<Map<string, unknown>> => new KeyPackageStore(alice.db, coreOf(alice).vault!).all();
  const claim = async (): Promise<{ bytes: Uint8Array; ref: string }> => {
    const bytes = await api.claimKeyPackage(bobSession(), aliceAccount);
    return { bytes, ref: toB64(makeKeyPackageRef(suite, bytes)) };
  };

  beforeAll(async () => {
    relay = await startRelay();
    api = new RelayApi(relay.url);
    // Bob's Welcomes are recorded, to replay one later as a relay could.
    const bobFetch: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/v1/mailboxes/welcome') && typeof init?.body === 'string') welcomes.push((JSON.parse(init.body) as { payload: string }).payload);
      return fetch(input, init);
    };
    [alice, bob] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob', { fetch: bobFetch })]);
    await waitUntil(() => [alice, bob].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'both online');
    aliceAccount = (await alice.app.handlers['device.address']({})).accountId;
    await waitUntil(async () => (await api.countKeyPackages(aliceSession())).oneTime === BATCH, 15_000, 'the first batch');
  });

  afterAll(async () => {
    for (const d of [alice, bob]) d?.app.stop();
    await relay?.stop();
  });

  it('a new device publishes a batch of one-time packages and one last-resort package, private parts kept', async () => {
    expect(await api.countKeyPackages(aliceSession())).toEqual({ oneTime: BATCH, lastResort: true });
    expect((await stored()).size).toBe(BATCH + 1);
    // The address is stable: asking again makes no second Welcome mailbox.
    expect(await alice.app.handlers['device.address']({})).toEqual(await alice.app.handlers['device.address']({}));
  });

  it('one-time packages go once each, then only the last-resort one, and it stays', async () => {
    const local = await stored();
    const refs = new Set<string>();
    const keys = new Set<string>();
    const names = new Set<string>();
    for (let i = 0; i < BATCH; i++) {
      const { bytes, ref } = await claim();
      const kp = decode(keyPackageCodec, bytes);
      await validateKeyPackage(kp, { suite, version: ProtocolVersion.mls10, groupExtensions: [], now: BigInt(Math.floor(Date.now() / 1000)) });
      expect(isLastResort(kp)).toBe(false);
      expect(local.get(ref)).toBeDefined();
      refs.add(ref);
      keys.add(bytesToHex(kp.leafNode.signatureKey));
      const identity = credentialIdentity(kp.leafNode.credential);
      expect(isPseudonym(identity)).toBe(true);
      names.add(bytesToHex(identity));
    }
    // Never the same package twice; a fresh pseudonym and signature key in each.
    expect([refs.size, keys.size, names.size]).toEqual([BATCH, BATCH, BATCH]);
    expect(await api.countKeyPackages(aliceSession())).toEqual({ oneTime: 0, lastResort: true });

    const first = await claim();
    const second = await claim();
    expect(isLastResort(decode(keyPackageCodec, first.bytes))).toBe(true);
    expect(second.ref).toBe(first.ref);
    expect(refs.has(first.ref)).toBe(false);
    expect(local.get(first.ref)).toMatchObject({ lastResort: true });
    expect(await api.countKeyPackages(aliceSession())).toEqual({ oneTime: 0, lastResort: true });
  });

  it('with no one-time package left, Alice is added by her last-resort package, which stays; the Welcome tops the supply up', async () => {
    const before = await stored();
    const lastResort = [...before].find(([, r]) => (r as { lastResort: boolean } | undefined)?.lastResort)![0];
    const { conversationId } = await bob.app.handlers['conversation.create']({ name: 'Late' });
    await bob.app.handlers['conversation.addDevices']({ conversationId, devices: [await alice.app.handlers['device.address']({})] });
    await waitUntil(() => alice.app.snapshot.conversations.some((c) => c.id === conversationId && c.status === 'active'), 15_000, 'Alice in');
    // Used, and still there for the next adder while nothing else is.
    expect((await stored()).get(lastResort)).toMatchObject({ lastResort: true });
    await waitUntil(async () => (await api.countKeyPackages(aliceSession())).oneTime === BATCH, 15_000, 'replenished after the Welcome');
    expect((await stored()).size).toBe(before.size + BATCH);

    // A relay replaying that Welcome long after (its payload hash forgotten, the conversation deleted here) joins nobody.
    await alice.app.handlers['conversation.delete']({ conversationId });
    await alice.db.clear('seen');
    const payload = fromB64(welcomes.at(-1)!)!;
    const box = coreOf(alice).account!.welcomeMailbox!;
    await coreOf(bob).wallet!.spend((token) => api.sendWelcome(box.mailboxId, token, payload));
    await waitUntil(async () => (await api.fetchMailbox(box)).length === 0, 15_000, 'the replay handled');
    expect(alice.app.snapshot.conversations.some((c) => c.id === conversationId)).toBe(false);
  });

  it('above the low mark nothing is uploaded and the fresh last-resort package stays; below it, the next connection refills', async () => {
    const local = await stored();
    const lastResort = [...local].filter(([, r]) => (r as { lastResort: boolean } | undefined)?.lastResort).map(([ref]) => ref);
    expect(lastResort).toHaveLength(1);
    const next = await claim();
    expect(isLastResort(decode(keyPackageCodec, next.bytes))).toBe(false);
    expect(local.get(next.ref)).toMatchObject({ lastResort: false });
    expect(BATCH - 1).toBeGreaterThanOrEqual(LOW);
    await coreOf(alice).directory!.supply.replenish();
    expect(await api.countKeyPackages(aliceSession())).toEqual({ oneTime: BATCH - 1, lastResort: true });
    for (let i = 0; i < BATCH - 1; i++) await claim();
    // Not replaced: the relay still hands out the same last-resort package.
    expect((await claim()).ref).toBe(lastResort[0]);
    coreOf(alice).directory!.online();
    await waitUntil(async () => (await api.countKeyPackages(aliceSession())).oneTime === BATCH, 15_000, 'refilled at the next connection');
    expect((await stored()).size).toBe(local.size + BATCH);
  });

  it('counts are of the session\'s own account; a session the relay does not know is refused', async () => {
    const bobCounts = await api.countKeyPackages(bobSession());
    expect(bobCounts.oneTime).toBe(BATCH);
    await expect(api.countKeyPackages('A'.repeat(43))).rejects.toMatchObject({ status: 401 });
  });
});
