/**
 * The leaf binding: a device's statement "this leaf of this group is me".
 *
 *   leafSig = Ed25519(device key, "MicroChat leaf v1" || 0x00 || groupId || leaf signature key)
 *
 * It ties one MLS leaf to one device (and through the roster, to a person),
 * and only inside that group: it names the group, so it cannot be replayed
 * in another conversation, and the leaf's signature key, so another member
 * cannot present it for their own leaf. It travels only inside encrypted
 * MLS content (the `person` app message), never where the relay reads.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { Canonical } from './canonical.ts';

export const LEAF_LABEL = 'MicroChat leaf v1';

export function leafBindingBytes(groupId: Uint8Array, leafSignatureKey: Uint8Array): Uint8Array {
  return new Canonical(LEAF_LABEL).bytes(groupId).bytes(leafSignatureKey).done();
}

export function signLeafBinding(deviceSecret: Uint8Array, groupId: Uint8Array, leafSignatureKey: Uint8Array): Uint8Array {
  return ed25519.sign(leafBindingBytes(groupId, leafSignatureKey), deviceSecret);
}

/** False (never a throw) for a wrong key, a wrong group or leaf, or malformed bytes. */
export function verifyLeafBinding(deviceKey: Uint8Array, groupId: Uint8Array, leafSignatureKey: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (deviceKey.length !== 32 || sig.length !== 64) return false;
    return ed25519.verify(sig, leafBindingBytes(groupId, leafSignatureKey), deviceKey);
  } catch {
    return false;
  }
}
