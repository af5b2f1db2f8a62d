// Leaf bindings: a device's signature for its own leaf in one group, and
// nothing else. Attacker cases: another group, another leaf, another device
// key, a roster signature presented as a binding, malformed bytes.
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes.ts';
import { signLeafBinding, verifyLeafBinding } from '../../../lib/background/identity/leaf-binding.ts';
import { signRoster } from '../../../lib/background/identity/roster.ts';
import { fromB64, toB64 } from '../../../lib/bytes.ts';

const key = () => {
  const secret = ed25519.utils.randomSecretKey();
  return { secret, pub: ed25519.getPublicKey(secret) };
};

describe('leaf binding', () => {
  const device = key();
  const group = randomBytes(32);
  const leaf = key().pub;
  const sig = signLeafBinding(device.secret, group, leaf);

  it('holds for the device, group and leaf it was made for', () => {
    expect(verifyLeafBinding(device.pub, group, leaf, sig)).toBe(true);
  });

  it('does not hold in another group (no replay across conversations)', () => {
    expect(verifyLeafBinding(device.pub, randomBytes(32), leaf, sig)).toBe(false);
  });

  it("does not hold for another member's leaf (copying someone's binding)", () => {
    expect(verifyLeafBinding(device.pub, group, key().pub, sig)).toBe(false);
  });

  it('does not hold under another device key', () => {
    expect(verifyLeafBinding(key().pub, group, leaf, sig)).toBe(false);
  });

  it('does not accept a roster signature of the same key (domain separation)', () => {
    const r = signRoster(device.secret, group.subarray(0, 16), 1, [{ deviceKey: toB64(leaf), name: 'x', addedAt: 0 }]);
    expect(verifyLeafBinding(device.pub, group, leaf, fromB64(r.sig)!)).toBe(false);
  });

  it('is false, never a throw, for malformed keys and signatures', () => {
    expect(verifyLeafBinding(new Uint8Array(32), group, leaf, sig)).toBe(false);
    expect(verifyLeafBinding(device.pub.subarray(1), group, leaf, sig)).toBe(false);
    expect(verifyLeafBinding(device.pub, group, leaf, sig.subarray(1))).toBe(false);
    expect(verifyLeafBinding(device.pub, group, leaf, new Uint8Array(64).fill(0xff))).toBe(false);
  });
});
