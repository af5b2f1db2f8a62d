/**
 * The KeyPackage supply's decisions (key-package-supply.ts) against a
 * scripted relay: fill to the batch below the low mark, a last-resort
 * package when the relay has none or ours is near its end, private parts
 * stored before upload, expired ones pruned, no session no upload, and
 * concurrent top-ups never overlapping.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { decode } from '../../lib/mls/codec/codec.ts';
import { isLastResort } from '../../lib/mls/group.ts';
import { keyPackageCodec } from '../../lib/mls/join/key-package.ts';
import { openDatabase, vaultKeySlot } from '../../lib/background/db.ts';
import { Vault } from '../../lib/background/vault.ts';
import { KeyPackageStore } from '../../lib/background/key-package-store.ts';
import { BATCH, KeyPackageSupply, LIFETIME_S, LOW } from '../../lib/background/key-package-supply.ts';
import type { KeyPackageCounts, RelayApi } from '../../lib/background/relay-api.ts';

let n = 0;
const DAY = 86_400;

async function setup() {
  const db = await openDatabase(`kp-supply-${process.pid}-${n++}`);
  const store = new KeyPackageStore(db, await Vault.open(vaultKeySlot(db)));
  const relay = { counts: { oneTime: 0, lastResort: false } as KeyPackageCounts, uploads: [] as { oneTime: Uint8Array[]; lastResort?: Uint8Array; storedBefore: number }[], countCalls: 0 };
  let inFlight = 0;
  let overlapped = false;
  const api = {
    async countKeyPackages() {
      relay.countCalls++;
      inFlight++;
      if (inFlight > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { ...relay.counts };
    },
    async uploadKeyPackages(_s: string, oneTime: Uint8Array[], lastResort?: Uint8Array) {
      relay.uploads.push({ oneTime, ...(lastResort === undefined ? {} : { lastResort }), storedBefore: (await store.refs()).size });
      relay.counts = { oneTime: relay.counts.oneTime + oneTime.length, lastResort: relay.counts.lastResort || lastResort !== undefined };
      return { ...relay.counts };
    },
  } as unknown as RelayApi;
  let now = 1_800_000_000;
  let session: string | undefined = 'session';
  const supply = new KeyPackageSupply({ suite: getCipherSuite(1), api: () => api, session: () => session, store: () => store, now: () => now });
  return {
    store,
    relay,
    supply,
    overlapped: () => overlapped,
    setNow: (t: number) => void (now = t),
    now: () => now,
    signOut: () => void (session = undefined),
  };
}

describe('KeyPackage supply', () => {
  it('a new device uploads a full batch and a last-resort package, private parts stored first', async () => {
    const s = await setup();
    await s.supply.replenish();
    expect(s.relay.uploads).toHaveLength(1);
    const up = s.relay.uploads[0]!;
    expect(up.oneTime).toHaveLength(BATCH);
    expect(up.storedBefore).toBe(BATCH + 1);
    expect(isLastResort(decode(keyPackageCodec, up.lastResort!))).toBe(true);
    expect(up.oneTime.every((b) => !isLastResort(decode(keyPackageCodec, b)))).toBe(true);
    // Above the low mark with a fresh last-resort package: nothing more.
    await s.supply.replenish();
    expect(s.relay.uploads).toHaveLength(1);
  });

  it('below the low mark it fills back to the batch, without a new last-resort package', async () => {
    const s = await setup();
    await s.supply.replenish();
    s.relay.counts = { oneTime: LOW, lastResort: true };
    await s.supply.replenish();
    expect(s.relay.uploads).toHaveLength(1);
    s.relay.counts = { oneTime: LOW - 1, lastResort: true };
    await s.supply.replenish();
    expect(s.relay.uploads[1]!.oneTime).toHaveLength(BATCH - LOW + 1);
    expect(s.relay.uploads[1]!.lastResort).toBeUndefined();
  });

  it('replaces the last-resort package when the relay lost it, or ours nears its end', async () => {
    const s = await setup();
    await s.supply.replenish();
    s.relay.counts = { oneTime: BATCH, lastResort: false };
    await s.supply.replenish();
    expect(s.relay.uploads[1]).toMatchObject({ oneTime: [] });
    expect(s.relay.uploads[1]!.lastResort).toBeDefined();
    s.relay.counts = { oneTime: BATCH, lastResort: true };
    s.setNow(s.now() + LIFETIME_S - 29 * DAY);
    await s.supply.replenish();
    expect(s.relay.uploads).toHaveLength(3);
    expect(s.relay.uploads[2]!.lastResort).toBeDefined();
  });

  it('forgets private parts a month after their lifetime ended, and keeps them until then', async () => {
    const s = await setup();
    await s.supply.replenish();
    s.relay.counts = { oneTime: BATCH, lastResort: true };
    s.setNow(s.now() + LIFETIME_S + 30 * DAY);
    await s.supply.replenish();
    // The last-resort one was renewed (near its end), the old ones still kept for late Welcomes.
    expect((await s.store.refs()).size).toBe(BATCH + 2);
    s.setNow(s.now() + 2 * DAY);
    await s.supply.replenish();
    expect((await s.store.refs()).size).toBe(1);
  });

  it('without a session it uploads nothing; concurrent top-ups run one at a time', async () => {
    const s = await setup();
    await Promise.all([s.supply.replenish(), s.supply.replenish(), s.supply.replenish()]);
    expect(s.overlapped()).toBe(false);
    expect(s.relay.uploads).toHaveLength(1);
    expect(s.relay.countCalls).toBe(2);
    s.signOut();
    s.relay.counts = { oneTime: 0, lastResort: false };
    await s.supply.replenish();
    expect(s.relay.uploads).toHaveLength(1);
  });
});
