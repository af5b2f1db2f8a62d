/**
 * Joining a group from a Welcome (RFC 9420 §12.4.3.1), with the ratchet tree
 * from the GroupInfo's ratchet_tree extension or supplied out of band.
 *
 * The cryptographic half (group secrets, welcome key, GroupInfo signature and
 * confirmation tag) is `welcome-join.ts`; this module adds the tree: its
 * integrity (tree hash, parent hashes, structure, every leaf valid), finding
 * our leaf, our private keys from the path secret, and the group state.
 *
 * Also shared with external joins: `treeFromGroupInfo`; both validate the
 * tree with `validateTree` (tree-validation.ts).
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { getCipherSuite } from '../../crypto/suites.ts';
import { encode } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { UsageError, ValidationError } from '../errors.ts';
import { ExtensionType, findExtension } from '../group/extensions.ts';
import { WireFormat, type MLSMessage } from '../framing/framing.ts';
import type { GroupContext } from '../group/group-context.ts';
import type { GroupInfo } from './group-info.ts';
import { DEFAULT_GROUP_CONFIG, startEpoch, type GroupConfig, type GroupState } from '../group/group-state.ts';
import type { KeyPackagePrivate } from './key-package-gen.ts';
import type { KeyPackageIn } from './key-package.ts';
import { leafNodeCodec } from '../tree/leaf-node.ts';
import { checkDistinctExtensionTypes, supportsExtensions, type LeafValidationOptions } from '../tree/leaf-node-validation.ts';
import { checkConfig } from '../group/group-create.ts';
import type { PskLookup } from '../keys/psk.ts';
import { RatchetTree, RatchetTreeIn } from '../tree/ratchet-tree.ts';
import { validateTree } from '../tree/tree-validation.ts';
import type { RatchetTreeNode } from '../tree/tree-node.ts';
import { TreeKemPrivate } from '../tree/treekem.ts';
import type { LeafIndex } from '../tree/tree-math.ts';
import { processWelcomeSecrets, welcomeRecipientFor } from './welcome-join.ts';
import type { Welcome } from './welcome.ts';

export interface JoinOptions extends LeafValidationOptions {
  /** The tree, when the Welcome's GroupInfo does not carry a ratchet_tree extension (validated like one). */
  readonly ratchetTree?: readonly RatchetTreeNode[] | RatchetTreeIn;
  readonly pskLookup?: PskLookup;
  readonly config?: Partial<GroupConfig>;
  /** Extension types this client implements (default: what our KeyPackage advertises). */
  readonly supportedExtensions?: readonly number[];
  /** V-JOIN-5: group ids we are already in (§12.4.3.1 "group_id is unique"). */
  readonly existingGroupIds?: readonly Uint8Array[];
}

/** The tree given out of band, or the one in the GroupInfo's ratchet_tree extension (V-JOIN-1); not yet validated. */
export function treeFromGroupInfo(
  suite: CipherSuite,
  groupInfo: GroupInfo,
  given: readonly RatchetTreeNode[] | RatchetTreeIn | undefined,
): RatchetTreeIn {
  if (given instanceof RatchetTreeIn || given instanceof RatchetTree) return given;
  if (given !== undefined) return RatchetTreeIn.fromNodes(suite, given);
  const ext = findExtension(groupInfo.extensions, ExtensionType.ratchetTree);
  if (ext === undefined) throw new ValidationError('V-JOIN-1', 'no ratchet tree: neither in the GroupInfo nor supplied');
  return RatchetTreeIn.decode(suite, ext.extensionData);
}

/**
 * V-JOIN-4 (§12.4.3, §13.4): we must support every non-default GroupContext
 * extension. V-JOIN-6: the GroupContext and GroupInfo extension lists hold no type twice.
 */
export function checkWeSupportExtensions(context: GroupContext, ourCapabilities: readonly number[], groupInfo?: GroupInfo): void {
  checkDistinctExtensionTypes(context.extensions, 'V-JOIN-6', 'GroupContext');
  if (groupInfo !== undefined) checkDistinctExtensionTypes(groupInfo.extensions, 'V-JOIN-6', 'GroupInfo');
  const unsupported = supportsExtensions({ extensions: ourCapabilities }, context.extensions);
  if (unsupported !== undefined) throw new ValidationError('V-JOIN-4', `group extension ${unsupported} is not supported by us`);
}

/** V-JOIN-3 (§12.4.3.1): our leaf is the one identical to our KeyPackage's leaf. */
export function findOwnLeaf(tree: RatchetTree, keyPackage: KeyPackageIn): LeafIndex {
  const mine = encode(leafNodeCodec, keyPackage.leafNode);
  for (const i of tree.memberIndices()) {
    const leaf = tree.leaf(i)!;
    if (bytesEqual(leaf.signature, keyPackage.leafNode.signature) && bytesEqual(encode(leafNodeCodec, leaf), mine)) return i;
  }
  throw new ValidationError('V-JOIN-3', 'our KeyPackage leaf is not in the tree');
}

/**
 * §12.4.3.1: join from a Welcome with one of our KeyPackages and its private
 * keys. The KeyPackage need not be trusted (it may come back from storage as
 * a `KeyPackageIn`): it only names our leaf and init key, and a wrong one
 * fails to join (V-WEL-2, V-JOIN-3).
 */
export async function joinFromWelcome(
  welcomeMessage: MLSMessage | Welcome,
  keyPackage: KeyPackageIn,
  privateKeys: KeyPackagePrivate,
  options: JoinOptions = {},
): Promise<GroupState> {
  const welcome = 'wireFormat' in welcomeMessage ? unwrapWelcome(welcomeMessage) : welcomeMessage;
  const suite = getCipherSuite(keyPackage.cipherSuite);
  const config: GroupConfig = { ...DEFAULT_GROUP_CONFIG, ...options.config };
  checkConfig(config);
  let received: RatchetTreeIn | undefined;
  const result = await processWelcomeSecrets(suite, welcome, welcomeRecipientFor(suite, keyPackage, privateKeys.initPrivateKey), {
    signerPublicKey: (index, groupInfo) => {
      received ??= treeFromGroupInfo(suite, groupInfo, options.ratchetTree);
      return index < received.leafCount ? received.leaf(index as LeafIndex)?.signatureKey : undefined;
    },
    ...(options.pskLookup === undefined ? {} : { pskLookup: options.pskLookup }),
  });
  const { groupInfo, secrets } = result;
  const context = groupInfo.groupContext;
  try {
    if (received === undefined) throw new ValidationError('V-JOIN-1', 'no ratchet tree');
    if (options.existingGroupIds?.some((g) => bytesEqual(g, context.groupId))) {
      throw new ValidationError('V-JOIN-5', 'we are already in a group with this group_id');
    }
    checkWeSupportExtensions(context, options.supportedExtensions ?? keyPackage.leafNode.capabilities.extensions, groupInfo);
    const tree = await validateTree(received, context, options);

    const me = findOwnLeaf(tree, keyPackage);

    const leafKey = { privateKey: privateKeys.encryptionPrivateKey, publicKey: keyPackage.leafNode.encryptionKey };
    const treeKeys =
      result.pathSecret === undefined
        ? TreeKemPrivate.fromLeafKey(me, leafKey)
        : await TreeKemPrivate.fromWelcomePathSecret(suite, tree, me, leafKey, groupInfo.signer, result.pathSecret);

    return startEpoch({
      suite,
      config,
      context,
      contextBytes: result.groupContextBytes,
      tree,
      ownLeaf: me,
      treeKeys,
      signaturePrivateKey: privateKeys.signaturePrivateKey,
      secrets,
      interimTranscriptHash: result.interimTranscriptHash,
      confirmationTag: groupInfo.confirmationTag,
    });
  } catch (err) {
    for (const s of Object.values(secrets) as Uint8Array[]) s.fill(0);
    throw err;
  }
}

function unwrapWelcome(m: MLSMessage): Welcome {
  if (m.wireFormat !== WireFormat.welcome) throw new UsageError('not a Welcome message');
  return m.welcome;
}
