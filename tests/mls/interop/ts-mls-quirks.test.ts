/**
 * Two places where ts-mls 1.6.4 departs from RFC 9420, pinned so that the
 * shims in `peer.ts` are known to be needed (and can be dropped once ts-mls
 * fixes them), and to show that our engine does not accept the departures:
 *  - §5.1.1: ECDSA signature public keys are uncompressed points; ts-mls'
 *    P-256 keygen yields 33-byte compressed ones, in its default KeyPackages;
 *  - §12.4.3.2: external_pub's extension_data is `struct { HPKEPublicKey
 *    external_pub; }` (an opaque<V>); ts-mls writes the bare key.
 */
import { describe, expect, it } from 'vitest';
import {
  createGroup,
  createGroupInfoWithExternalPubAndRatchetTree,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
} from 'ts-mls';
import { MlsError } from '../../../lib/mls/errors.ts';
import { ourMember } from './ours.ts';
import { ecdsaUncompressed, peerSuite, unprefixOpaque, varintPrefix } from './peer.ts';
import { utf8 } from './member.ts';

describe('ts-mls 1.6.4 departures from RFC 9420', () => {
  it('suite 2: ts-mls KeyPackages carry a compressed P-256 signature key, which our engine refuses to add', async () => {
    const cs = await peerSuite(2);
    const kp = await generateKeyPackage({ credentialType: 'basic', identity: utf8('p') }, defaultCapabilities(), defaultLifetime, [], cs);
    expect(kp.publicPackage.leafNode.signaturePublicKey.length).toBe(33);
    expect(ecdsaUncompressed(2, kp.publicPackage.leafNode.signaturePublicKey).length).toBe(65);
    const bytes = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: kp.publicPackage });
    const alice = await ourMember('alice', 2);
    await alice.createGroup(utf8('quirk group'));
    await expect(alice.commit({ adds: [bytes] })).rejects.toBeInstanceOf(MlsError);
    expect(alice.epoch()).toBe(0n);
  });

  it('suite 1: ts-mls writes external_pub as the bare key, which our external join refuses', async () => {
    const cs = await peerSuite(1);
    const kp = await generateKeyPackage({ credentialType: 'basic', identity: utf8('p') }, defaultCapabilities(), defaultLifetime, [], cs);
    const state = await createGroup(utf8('quirk group'), kp.publicPackage, kp.privatePackage, [], cs);
    const gi = await createGroupInfoWithExternalPubAndRatchetTree(state, [], cs);
    const ext = gi.extensions.find((e) => e.extensionType === 'external_pub');
    expect(ext?.extensionData.length).toBe(32); // X25519 key, no length prefix
    const dave = await ourMember('dave', 1);
    const bytes = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo: gi });
    await expect(dave.joinExternal(bytes)).rejects.toBeInstanceOf(MlsError);
    expect(dave.active()).toBe(false);
  });

  it('the opaque<V> helpers of the shim round-trip and refuse a wrong length', () => {
    for (const n of [0, 1, 32, 63, 64, 65, 133, 16383, 16384]) {
      const body = new Uint8Array(n).fill(7);
      const prefixed = new Uint8Array([...varintPrefix(n), ...body]);
      expect(unprefixOpaque(prefixed)).toEqual(body);
      expect(unprefixOpaque(prefixed.subarray(0, prefixed.length - 1))).toBeUndefined();
    }
  });
});
