// Keys read at a wake derive their Ed25519 public key only when it is first read (the first base-point
// multiplication builds the curve library's precomputed table), and then always give the same key.
import { describe, expect, it, vi } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import type * as Ed25519Module from '@noble/curves/ed25519.js';
import { withLazyPublicKey } from '../../../lib/background/identity/lazy-public-key.ts';
import { loadDeviceKey } from '../../../lib/background/identity/device-key.ts';
import { loadIdentity } from '../../../lib/background/identity/identity-key.ts';
import { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import { freshStore } from './support.ts';

// The library's object is frozen: count derivations through a copy with a counting getPublicKey.
const derived = vi.hoisted(() => ({ count: 0 }));
vi.mock('@noble/curves/ed25519.js', async (importOriginal) => {
  const real = await importOriginal<typeof Ed25519Module>();
  const getPublicKey = (secret: Uint8Array): Uint8Array => {
    derived.count++;
    return real.ed25519.getPublicKey(secret);
  };
  return { ...real, ed25519: { ...real.ed25519, getPublicKey } };
});

describe('lazily derived public keys', () => {
  it('derives the public key on first read only, once, and it is the key of the secret', () => {
    const secret = ed25519.utils.randomSecretKey();
    const before = derived.count;
    const key = withLazyPublicKey({ secret, extra: 7 });
    expect(derived.count).toBe(before);
    expect(key.extra).toBe(7);
    const first = key.publicKey;
    expect(key.publicKey).toBe(first);
    expect(derived.count).toBe(before + 1);
    expect(first).toEqual(ed25519.getPublicKey(secret));
  });

  it('loading the device and identity keys derives no public key; reading them gives the keys made at sign-up', async () => {
    const { db, vault } = await freshStore();
    const made = await OwnIdentity.ensure(db, vault, 'Laptop', 1);
    const before = derived.count;
    const device = (await loadDeviceKey(db, vault))!;
    const identity = (await loadIdentity(db, vault))!;
    const again = await OwnIdentity.ensure(db, vault, 'Laptop', 2);
    expect(derived.count).toBe(before);
    expect(again.deviceKey).toBe(made.deviceKey);
    expect(again.identityKey).toBe(made.identityKey);
    expect(device.publicKey).toEqual(ed25519.getPublicKey(device.secret));
    expect(identity.publicKey).toEqual(ed25519.getPublicKey(identity.secret));
  });
});
