/**
 * Official tree-operations vectors (RFC 9420 §12.1): apply one Add, Update or
 * Remove proposal to a tree and compare the re-encoded tree and tree hashes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode } from '../../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { RatchetTree, RatchetTreeIn, applyProposalsToTree } from '../../../lib/mls/tree/ratchet-tree.ts';
import { proposalCodec } from '../../../lib/mls/group/proposals.ts';
import { leafIndex } from '../../../lib/mls/tree/tree-math.ts';
import { trustTestProposal } from '../support/trust-test-input.ts';

interface TreeOperationsCase {
  cipher_suite: number;
  tree_before: string;
  proposal: string;
  proposal_sender: number;
  tree_hash_before: string;
  tree_after: string;
  tree_hash_after: string;
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/tree-operations.json', import.meta.url), 'utf8'),
) as TreeOperationsCase[];

describe('tree-operations.json', () => {
  cases.forEach((c, i) => {
    it(`suite ${c.cipher_suite} case ${i}`, () => {
      const suite = getCipherSuite(c.cipher_suite);
      const before = RatchetTree.decodeTrusted(suite, hexToBytes(c.tree_before));
      expect(bytesToHex(before.treeHash())).toBe(c.tree_hash_before);
      const proposal = decode(proposalCodec, hexToBytes(c.proposal));
      const draft = before.edit();
      applyProposalsToTree(draft, [{ proposal: trustTestProposal(proposal), sender: leafIndex(c.proposal_sender) }]);
      const after = draft.done();
      expect(bytesToHex(after.encode())).toBe(c.tree_after);
      expect(bytesToHex(after.treeHash())).toBe(c.tree_hash_after);
      // The cached hash must agree with a fresh tree built from the same nodes.
      expect(bytesToHex(RatchetTreeIn.decode(suite, after.encode()).treeHash())).toBe(c.tree_hash_after);
      // The input tree is untouched.
      expect(bytesToHex(before.encode())).toBe(c.tree_before);
      expect(bytesToHex(before.treeHash())).toBe(c.tree_hash_before);
    });
  });
});
