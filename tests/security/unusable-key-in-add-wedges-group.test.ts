/**
 * Attack: a hostile member adds a "member" whose leaf encryption key no one
 * can encrypt to (all zero: a small-order X25519 point, not a point at all on
 * P-256), in a Commit of her own. Were it accepted, the leaf would sit in
 * every member's tree and every later UpdatePath, which encrypts to it, would
 * fail: no one could commit, nor send after a proposal (V-APP-1), again.
 *
 * Defence: V-KP-7 (§10.1, RFC 9180 §7.1): a KeyPackage's init and leaf keys
 * must be keys the KEM can encrypt to; every receiver rejects the Commit,
 * keeps its state byte for byte, and the group goes on.
 */
import { describe, it, vi } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { signWithLabel } from '../../lib/mls/keys/crypto-ops.ts';
import { createCommit, encodeMessage, generateIdentity, generateKeyPackage, processMessage } from '../../lib/mls/group.ts';
import type * as KeyPackageGen from '../../lib/mls/join/key-package-gen.ts';
import { keyPackageTbsCodec } from '../../lib/mls/join/key-package.ts';
import { encodeLeafNodeTbs } from '../../lib/mls/tree/leaf-node.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import { expectGroupLive, expectRejected, makeGroup, utf8 } from '../mls/group-fixture.ts';

/** While on, KeyPackage validation is skipped: Mallory runs her own, careless code. */
const mallorysCode = { on: false };

vi.mock('../../lib/mls/join/key-package-gen.ts', async (importOriginal) => {
  const real = await importOriginal<typeof KeyPackageGen>();
  return {
    ...real,
    validateKeyPackage: (kp: Parameters<typeof real.validateKeyPackage>[0], ctx: Parameters<typeof real.validateKeyPackage>[1]) =>
      mallorysCode.on ? Promise.resolve() : real.validateKeyPackage(kp, ctx),
  };
});

const MALLORY = 1;

for (const suiteId of [1, 2, 3]) {
  const cs = getCipherSuite(suiteId);
  describe(`an Add of a key no one can encrypt to wedges the group (suite ${suiteId})`, () => {
    it('every member rejects Mallory\'s Commit (V-KP-7) and the group goes on', async () => {
      const g = await makeGroup(suiteId, 3);
      const id = await generateIdentity(cs, utf8.encode('ghost'));
      const kp = await generateKeyPackage(cs, id);
      const leafContent = { ...kp.keyPackage.leafNode, encryptionKey: new Uint8Array(cs.hpke.publicKeySize) };
      const leafNode = { ...leafContent, signature: await signWithLabel(cs, id.signaturePrivateKey, 'LeafNodeTBS', encodeLeafNodeTbs(leafContent)) };
      const tbs = { ...kp.keyPackage, leafNode };
      const keyPackage = { ...tbs, signature: await signWithLabel(cs, id.signaturePrivateKey, 'KeyPackageTBS', encode(keyPackageTbsCodec, tbs)) };

      mallorysCode.on = true;
      const forged = await createCommit(g[MALLORY]!, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage } }] }).finally(() => {
        mallorysCode.on = false;
      });
      const bytes = encodeMessage(forged.commit);
      for (const i of [0, 2]) await expectRejected(g[i]!, 'V-KP-7', (s) => processMessage(s, bytes));
      await expectGroupLive(g);
    });
  });
}
