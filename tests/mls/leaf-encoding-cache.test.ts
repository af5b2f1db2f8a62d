// A LeafNode object keeps its encoding (leaf-node.ts `encodedLeaves`): the
// bytes it was decoded from, or its first encoding, reused by the tree hash,
// the LeafNodeTBS of its signature and every tree encoding. Those reused bytes
// must be exactly what encoding the fields from scratch gives (a copy of the
// object, which is not in the cache), for every leaf_node_source and for
// signatures whose length prefix takes one or two bytes.
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../lib/bytes.ts';
import { decode, encode } from '../../lib/mls/codec/codec.ts';
import { CredentialType } from '../../lib/mls/tree/credential.ts';
import { encodeLeafNodeTbs, encodedLeafNode, LeafNodeSource, leafNodeCodec, type LeafNodeIn } from '../../lib/mls/tree/leaf-node.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';

const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
const hex = bytesToHex;

function leaves(signatureLength: number): LeafNodeIn[] {
  const base = {
    encryptionKey: fill(32, 1),
    signatureKey: fill(32, 2),
    credential: { credentialType: CredentialType.basic, identity: fill(70, 3) },
    capabilities: { versions: [1], cipherSuites: [1, 2], extensions: [], proposals: [], credentials: [1, 2] },
    extensions: [{ extensionType: 0xf0f0, extensionData: fill(5, 4) }],
    signature: fill(signatureLength, 5),
  };
  return [
    { ...base, leafNodeSource: LeafNodeSource.keyPackage, lifetime: { notBefore: 1n, notAfter: 2n ** 63n } },
    { ...base, leafNodeSource: LeafNodeSource.update },
    { ...base, leafNodeSource: LeafNodeSource.commit, parentHash: fill(32, 6) },
  ];
}

describe('a LeafNode keeps its encoding', () => {
  const binding = { groupId: fill(16, 9), leafIndex: 1023 as LeafIndex };
  for (const signatureLength of [0, 63, 64, 16383, 16384]) {
    it(`decoded and encoded leaves, signature of ${signatureLength} bytes`, () => {
      for (const leaf of leaves(signatureLength)) {
        const fresh = encode(leafNodeCodec, { ...leaf });
        const decoded = decode(leafNodeCodec, fresh);
        expect(decoded).toEqual(leaf);
        // Reused bytes (decoded object) = encoding from scratch (a copy of it).
        expect(hex(encodedLeafNode(decoded))).toBe(hex(fresh));
        expect(hex(encode(leafNodeCodec, decoded))).toBe(hex(encode(leafNodeCodec, { ...decoded })));
        expect(hex(encodeLeafNodeTbs(decoded, binding))).toBe(hex(encodeLeafNodeTbs({ ...decoded }, binding)));
        // The same for an object whose first encoding is cached.
        encode(leafNodeCodec, leaf);
        expect(hex(encodeLeafNodeTbs(leaf, binding))).toBe(hex(encodeLeafNodeTbs({ ...leaf }, binding)));
        // The TBS never carries the signature, and binds update/commit leaves to the group and index.
        const tbs = encodeLeafNodeTbs(decoded, binding);
        const withoutBinding = leaf.leafNodeSource === LeafNodeSource.keyPackage ? fresh.length : fresh.length + 1 + 16 + 4;
        const sigField = (signatureLength < 0x40 ? 1 : signatureLength < 0x4000 ? 2 : 4) + signatureLength;
        expect(tbs.length).toBe(withoutBinding - sigField);
      }
    });
  }

  it('an update or commit leaf without a binding is refused, cached or not', () => {
    for (const leaf of leaves(64).filter((l) => l.leafNodeSource !== LeafNodeSource.keyPackage)) {
      const decoded = decode(leafNodeCodec, encode(leafNodeCodec, leaf));
      expect(() => encodeLeafNodeTbs(decoded)).toThrow(/needs groupId and leafIndex/);
      expect(() => encodeLeafNodeTbs({ ...decoded })).toThrow(/needs groupId and leafIndex/);
    }
  });

  it('the kept bytes are a copy: changing the input afterwards changes nothing', () => {
    const [leaf] = leaves(64);
    const bytes = encode(leafNodeCodec, leaf!);
    const decoded = decode(leafNodeCodec, bytes);
    const before = hex(encodedLeafNode(decoded));
    bytes.fill(0);
    expect(hex(encodedLeafNode(decoded))).toBe(before);
  });
});
