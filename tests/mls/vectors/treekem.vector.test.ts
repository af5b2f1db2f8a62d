/**
 * Official treekem vectors (RFC 9420 §7.4–§7.6, §7.9.2): for every case and
 * every UpdatePath, merge it (V-PH-2 parent-hash check), decrypt it at every
 * other member (path secret, commit secret), check the tree hash after; then
 * create a fresh UpdatePath from the same sender and check that every other
 * member decrypts the same commit secret.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { RatchetTree } from '../../../lib/mls/tree/ratchet-tree.ts';
import { verifyLeafSignatures, verifyParentHashes } from '../../../lib/mls/tree/tree-validation.ts';
import { groupContextCodec } from '../../../lib/mls/group/group-context.ts';
import { updatePathCodec } from '../../../lib/mls/tree/update-path.ts';
import {
  TreeKemPrivate,
  createUpdatePath,
  decryptUpdatePath,
  mergeUpdatePath,
  signCommitLeafNode,
} from '../../../lib/mls/tree/treekem.ts';
import { leafIndex, nodeIndex, type LeafIndex } from '../../../lib/mls/tree/tree-math.ts';
import { trustTestPath } from '../support/trust-test-input.ts';

interface TreeKemCase {
  cipher_suite: number;
  group_id: string;
  epoch: number;
  confirmed_transcript_hash: string;
  ratchet_tree: string;
  leaves_private: {
    index: number;
    encryption_priv: string;
    signature_priv: string;
    path_secrets: { node: number; path_secret: string }[];
  }[];
  update_paths: {
    sender: number;
    update_path: string;
    path_secrets: (string | null)[];
    commit_secret: string;
    tree_hash_after: string;
  }[];
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/treekem.json', import.meta.url), 'utf8'),
) as TreeKemCase[];

describe('treekem.json', () => {
  cases.forEach((c, i) => {
    it(`suite ${c.cipher_suite} case ${i}`, async () => {
      const suite = getCipherSuite(c.cipher_suite);
      const tree = RatchetTree.decodeTrusted(suite, hexToBytes(c.ratchet_tree));
      const groupId = hexToBytes(c.group_id);
      const groupContext = (treeHash: Uint8Array): Uint8Array =>
        encode(groupContextCodec, {
          version: 1,
          cipherSuite: c.cipher_suite,
          groupId,
          epoch: BigInt(c.epoch),
          treeHash,
          confirmedTranscriptHash: hexToBytes(c.confirmed_transcript_hash),
          extensions: [],
        });

      // Private states, checked against the public tree (V-TK-1).
      const privates = new Map<number, TreeKemPrivate>();
      const signatureKeys = new Map<number, Uint8Array>();
      for (const lp of c.leaves_private) {
        const li = leafIndex(lp.index);
        const leaf = tree.leaf(li)!;
        const priv = hexToBytes(lp.encryption_priv);
        expect(await suite.hpke.checkKeyPair(priv, leaf.encryptionKey)).toBe(true);
        const state = await TreeKemPrivate.fromPathSecrets(
          suite,
          li,
          { privateKey: priv, publicKey: leaf.encryptionKey },
          lp.path_secrets.map((p) => ({ node: nodeIndex(p.node), pathSecret: hexToBytes(p.path_secret) })),
        );
        state.checkConsistent(tree);
        privates.set(lp.index, state);
        signatureKeys.set(lp.index, hexToBytes(lp.signature_priv));
      }

      for (const up of c.update_paths) {
        const sender = leafIndex(up.sender);
        const updatePath = decode(updatePathCodec, hexToBytes(up.update_path));
        const merged = mergeUpdatePath(tree, sender, trustTestPath(updatePath));
        expect(bytesToHex(merged.treeHash())).toBe(up.tree_hash_after);
        const gc = groupContext(merged.treeHash());
        let receivers = 0;
        for (const [j, me] of privates) {
          if (j === up.sender || tree.leaf(j as LeafIndex) === undefined) continue;
          const out = await decryptUpdatePath({ suite, tree: merged, sender, updatePath, groupContext: gc, me });
          expect(bytesToHex(out.pathSecret)).toBe(up.path_secrets[j]);
          expect(bytesToHex(out.commitSecret)).toBe(up.commit_secret);
          out.privateKeys.checkConsistent(merged);
          receivers++;
        }
        expect(receivers).toBe(c.leaves_private.length - 1);

        // A fresh UpdatePath from the same sender reaches everyone.
        const base = tree.leaf(sender)!;
        const created = await createUpdatePath({
          suite,
          tree,
          sender,
          signLeaf: (encryptionKey, parentHash) =>
            signCommitLeafNode(suite, base, encryptionKey, parentHash, signatureKeys.get(up.sender)!, groupId, sender),
          groupContext,
        });
        created.privateKeys.checkConsistent(created.tree);
        const wire = decode(updatePathCodec, encode(updatePathCodec, created.updatePath));
        const remerged = mergeUpdatePath(tree, sender, trustTestPath(wire));
        expect(bytesToHex(remerged.treeHash())).toBe(bytesToHex(created.tree.treeHash()));
        expect(() => verifyParentHashes(remerged)).not.toThrow();
        await verifyLeafSignatures(remerged, groupId);
        const gc2 = groupContext(remerged.treeHash());
        for (const [j, me] of privates) {
          if (j === up.sender || tree.leaf(j as LeafIndex) === undefined) continue;
          const out = await decryptUpdatePath({ suite, tree: remerged, sender, updatePath: wire, groupContext: gc2, me });
          expect(bytesToHex(out.commitSecret)).toBe(bytesToHex(created.commitSecret));
        }
      }
    });
  });
});
