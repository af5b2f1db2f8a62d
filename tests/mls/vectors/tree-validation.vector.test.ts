/**
 * Official tree-validation vectors (RFC 9420 §4.1.1, §7.8, §7.9.2, §7.3):
 * resolutions and tree hashes of every node, parent-hash validity (V-PH-1),
 * structural checks (V-TREE-1..4) and leaf signatures (V-TREE-5), then the
 * production join path: `validateTree`, which every Welcome and external join
 * runs on the tree it receives.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { RatchetTree, RatchetTreeIn } from '../../../lib/mls/tree/ratchet-tree.ts';
import { validateTree, verifyLeafSignatures, verifyParentHashes, verifyStructure } from '../../../lib/mls/tree/tree-validation.ts';
import { nodeIndex } from '../../../lib/mls/tree/tree-math.ts';

interface TreeValidationCase {
  cipher_suite: number;
  tree: string;
  group_id: string;
  resolutions: number[][];
  tree_hashes: string[];
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/tree-validation.json', import.meta.url), 'utf8'),
) as TreeValidationCase[];

describe('tree-validation.json', () => {
  cases.forEach((c, i) => {
    it(`suite ${c.cipher_suite} case ${i}: resolutions, tree hashes, V-PH-1 parent hashes, V-TREE-1..4 structure, V-TREE-5 leaf signatures, validateTree join checks`, async () => {
      const suite = getCipherSuite(c.cipher_suite);
      const treeBytes = hexToBytes(c.tree);
      const tree = RatchetTreeIn.decode(suite, treeBytes);
      expect(tree.nodeCount).toBe(c.tree_hashes.length);
      for (let x = 0; x < tree.nodeCount; x++) {
        expect(tree.resolution(nodeIndex(x))).toEqual(c.resolutions[x]);
        expect(bytesToHex(tree.nodeTreeHash(nodeIndex(x)))).toBe(c.tree_hashes[x]);
      }
      expect(() => verifyParentHashes(tree)).not.toThrow();
      expect(() => verifyStructure(tree)).not.toThrow();
      await expect(verifyLeafSignatures(tree, hexToBytes(c.group_id))).resolves.toBeUndefined();
      // All joiner checks together, as a join runs them (V-TREE-7 root hash, V-LN-8 unique keys, ...).
      const rootHash = hexToBytes(c.tree_hashes[tree.rootIndex]!);
      const expected = { groupId: hexToBytes(c.group_id), treeHash: rootHash, extensions: [] };
      await expect(validateTree(tree, expected)).resolves.toBeInstanceOf(RatchetTree);
      // Re-encoding gives back the exact input (trailing blanks dropped, §12.4.3.3).
      expect(bytesToHex(tree.encode())).toBe(c.tree);
    });
  });
});
