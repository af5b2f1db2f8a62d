/**
 * Creating a group (RFC 9420 §11): a one-member tree holding the creator's
 * leaf, epoch 0, an empty confirmed transcript hash, a fresh random epoch
 * secret, and the interim transcript hash from the confirmation tag over the
 * empty transcript.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { UsageError } from '../errors.ts';
import type { Extension } from './extensions.ts';
import type { GroupContext } from './group-context.ts';
import { DEFAULT_GROUP_CONFIG, startEpoch, type GroupConfig, type GroupState } from './group-state.ts';
import { generateKeyPackage, type GenerateKeyPackageOptions, type SigningIdentity } from '../join/key-package-gen.ts';
import { computeConfirmationTag, deriveEpochSecrets, randomEpochSecret } from '../keys/key-schedule.ts';
import { checkExtensionsSupported } from './proposal-apply.ts';
import { ProtocolVersion } from '../framing/protocol-version.ts';
import { RatchetTree } from '../tree/ratchet-tree.ts';
import { computeInterimTranscriptHash } from '../keys/transcript-hash.ts';
import { TreeKemPrivate } from '../tree/treekem.ts';
import type { LeafIndex } from '../tree/tree-math.ts';

export interface CreateGroupOptions extends GenerateKeyPackageOptions {
  /** Default: KDF.Nh random bytes (§11). */
  readonly groupId?: Uint8Array;
  /** GroupContext extensions (e.g. required_capabilities, external_senders). */
  readonly groupExtensions?: readonly Extension[];
  readonly config?: Partial<GroupConfig>;
}

/** §11: a new one-member group with `identity` as its creator at leaf 0. */
export async function createGroup(suite: CipherSuite, identity: SigningIdentity, options: CreateGroupOptions = {}): Promise<GroupState> {
  const config: GroupConfig = { ...DEFAULT_GROUP_CONFIG, ...options.config };
  checkConfig(config);
  // The creator's leaf is built like a KeyPackage leaf (source key_package, with a lifetime).
  const { keyPackage, privateKeys } = await generateKeyPackage(suite, identity, options);
  const leaf = keyPackage.leafNode;
  const tree = RatchetTree.create(suite, leaf);
  const extensions = options.groupExtensions ?? [];
  checkExtensionsSupported(tree, extensions);
  const context: GroupContext = {
    version: ProtocolVersion.mls10,
    cipherSuite: suite.id,
    groupId: options.groupId ?? suite.randomBytes(suite.kdf.size),
    epoch: 0n,
    treeHash: tree.treeHash(),
    confirmedTranscriptHash: new Uint8Array(0),
    extensions,
  };
  const epochSecret = randomEpochSecret(suite);
  const secrets = deriveEpochSecrets(suite, epochSecret);
  epochSecret.fill(0);
  const confirmationTag = computeConfirmationTag(suite, secrets.confirmationKey, context.confirmedTranscriptHash);
  const ownLeaf = 0 as LeafIndex;
  return startEpoch({
    suite,
    config,
    context,
    tree,
    ownLeaf,
    treeKeys: TreeKemPrivate.fromLeafKey(ownLeaf, { privateKey: privateKeys.encryptionPrivateKey, publicKey: leaf.encryptionKey }),
    signaturePrivateKey: identity.signaturePrivateKey,
    secrets,
    interimTranscriptHash: computeInterimTranscriptHash(suite, context.confirmedTranscriptHash, confirmationTag),
    confirmationTag,
  });
}

export function checkConfig(c: GroupConfig): void {
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new UsageError(`config ${k} must be a uint32, got ${v}`);
  }
}
