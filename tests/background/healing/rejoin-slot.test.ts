// Rejoin slot derivation: every member of an epoch derives the same slot from the MLS exporter, a
// different epoch (or group) gives another, and the keys follow the spec in rejoin-slot.ts.
import { describe, expect, it } from 'vitest';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { createCommit, createGroup, exportSecret, generateIdentity } from '../../../lib/mls/group.ts';
import { deliverAll, makeGroup } from '../../mls/group-fixture.ts';
import { deriveSlot, isSlot, slotFromSeed, slotRecord } from '../../../lib/background/healing/rejoin-slot.ts';
import { toB64 } from '../../../lib/bytes.ts';

const suite = getCipherSuite(1);
const enc = new TextEncoder();

describe('rejoin slot', () => {
  it('is the same for every member of an epoch and changes with the epoch', async () => {
    const [a, b, c] = await makeGroup(1, 3);
    const slot = toB64(deriveSlot(a!).slotId);
    expect(toB64(deriveSlot(b!).slotId)).toBe(slot);
    expect(toB64(deriveSlot(c!).slotId)).toBe(slot);
    const next = await createCommit(a!, { proposals: [] });
    const [b2] = await deliverAll([b!], next.commit);
    expect(toB64(deriveSlot(next.state).slotId)).toBe(toB64(deriveSlot(b2!).slotId));
    expect(toB64(deriveSlot(next.state).slotId)).not.toBe(slot);
    // Another group at the same epoch: another slot.
    const [other] = await makeGroup(1, 3);
    expect(toB64(deriveSlot(other!).slotId)).not.toBe(slot);
  });

  it('follows its spec: HKDF-SHA256 of the exporter seed, one info per key', async () => {
    const state = await createGroup(suite, await generateIdentity(suite, enc.encode('carol')));
    const seed = exportSecret(state, 'microchat rejoin slot', state.context.groupId, 32);
    const k = deriveSlot(state);
    const x = (what: string, n: number): string => toB64(hkdf(sha256, seed, undefined, enc.encode(`microchat rejoin slot ${what}`), n));
    expect(toB64(k.slotId)).toBe(x('id', 16));
    expect(toB64(k.readKey)).toBe(x('read', 32));
    expect(toB64(k.writeKey)).toBe(x('write', 32));
    expect(toB64(k.signingKey)).toBe(x('sign', 32));
    expect(toB64(k.verifyKey)).toBe(toB64(ed25519.getPublicKey(k.signingKey)));
    expect(toB64(slotFromSeed(seed).slotId)).toBe(toB64(k.slotId));
    // Read, write and signing keys are distinct: holding the blob's read key gives no write access.
    expect(new Set([toB64(k.readKey), toB64(k.writeKey), toB64(k.signingKey)]).size).toBe(3);
  });

  it('is kept as an invite record marked as a slot', async () => {
    const state = await createGroup(suite, await generateIdentity(suite, enc.encode('dave')));
    const rec = slotRecord(deriveSlot(state), 1_900_000_000, 4);
    expect(isSlot(rec)).toBe(true);
    expect(isSlot({ ...rec, slot: undefined })).toBe(false);
    expect(rec.oneTime).toBe(false);
  });
});
