/**
 * Applying a validated proposal list to the group (RFC 9420 §12.3), with the
 * per-proposal validity checks of §12.1 that need the group at hand:
 *
 *   GroupContextExtensions → extensions replaced (used for the checks below)
 *   Update*                → sender's leaf replaced, its direct path blanked
 *   Remove*                → leaf and direct path blanked, tree truncated
 *   Add*                   → leftmost blank leaves, in list order
 *   PreSharedKey*          → ids collected in list order
 *   ExternalInit / ReInit  → noted for the key schedule / the caller
 *
 * Only the nodes the proposals touch change: the returned tree shares the
 * rest (and its cached hashes) with the input tree.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { bytesEqual } from '../../bytes.ts';
import { ValidationError } from '../errors.ts';
import type { Extension } from './extensions.ts';
import { SenderType } from '../framing/framing.ts';
import type { GroupContext } from './group-context.ts';
import { checkKeyPackageContent, validateKeyPackage, validatedKeyPackage } from '../join/key-package-gen.ts';
import type { KeyPackage } from '../join/key-package.ts';
import { LeafNodeSource } from '../tree/leaf-node.ts';
import {
  DEFAULT_EXTENSION_TYPES,
  checkDistinctExtensionTypes,
  checkIdentityContinuity,
  checkPublicKeySize,
  checkUsablePublicKey,
  checkLeafNodeContent,
  checkRequiredCapabilities,
  requiredCapabilitiesOf,
  validatedLeafNode,
  verifyLeafNodeSignature,
  type LeafValidationOptions,
} from '../tree/leaf-node-validation.ts';
import { ProposalType, type ExternalInit, type Proposal, type ReInit } from './proposals.ts';
import type { ResolvedProposal } from './proposal-validation.ts';
import { validatePreSharedKeyId, type PreSharedKeyId } from '../keys/psk.ts';
import { applyProposalsToTree, type CheckedProposal, type RatchetTree, type TreeDraft } from '../tree/ratchet-tree.ts';
import type { LeafIndex } from '../tree/tree-math.ts';

export interface AppliedProposals {
  /** The draft after the proposals (an UpdatePath may still be merged into it). */
  readonly draft: TreeDraft;
  readonly extensions: readonly Extension[];
  /** Leaves filled by Adds, in list order, with their KeyPackages. */
  readonly added: readonly { readonly leaf: LeafIndex; readonly keyPackage: KeyPackage }[];
  /** Leaves whose LeafNode changed (Updates and Adds): checked against the whole tree later. */
  readonly changedLeaves: readonly LeafIndex[];
  readonly pskIds: readonly PreSharedKeyId[];
  readonly externalInit?: ExternalInit;
  readonly reInit?: ReInit;
  readonly hasGroupContextExtensions: boolean;
}

/**
 * Validate each proposal (§12.1) and apply the list (§12.3) to `tree`.
 * Signatures of all Adds and Updates are verified concurrently, unless the
 * caller passes 'already-verified' (proposals checked when they were received,
 * re-tried by a committer choosing which of them it can commit).
 *  - V-KP-*: each Add's KeyPackage is valid for the (new) group context;
 *  - V-LN-*: each Update's leaf is a valid `update` leaf for its sender;
 *  - V-LN-10: an Update changes the sender's encryption key;
 *  - V-LN-12: an Update keeps the sender's credential identity;
 *  - V-LN-13: its encryption key is one the KEM can encrypt to;
 *  - V-REM-1: each Remove names a non-blank leaf;
 *  - V-PSK-*: PSK ids are usable here;
 *  - V-RI-1: a ReInit does not lower the protocol version;
 *  - V-GCE-1/2: new extensions are supported by every member after the Commit.
 */
export async function applyProposalList(
  suite: CipherSuite,
  context: GroupContext,
  tree: RatchetTree,
  list: readonly ResolvedProposal[],
  options: LeafValidationOptions = {},
  signatures: 'verify' | 'already-verified' = 'verify',
): Promise<AppliedProposals> {
  const verify = signatures === 'verify';
  let extensions = context.extensions;
  let hasGroupContextExtensions = false;
  for (const { proposal } of list) {
    if (proposal.proposalType === ProposalType.groupContextExtensions) {
      extensions = proposal.groupContextExtensions.extensions;
      hasGroupContextExtensions = true;
    }
  }

  const checks: Promise<void>[] = [];
  const pskIds: PreSharedKeyId[] = [];
  let externalInit: ExternalInit | undefined;
  let reInit: ReInit | undefined;
  const updated: LeafIndex[] = [];
  const treeList: { proposal: Proposal; sender: LeafIndex }[] = [];
  try {
    for (const { proposal, sender } of list) {
      const senderLeaf = sender.senderType === SenderType.member ? sender.leafIndex : (0 as LeafIndex);
      switch (proposal.proposalType) {
        case ProposalType.add:
        {
          const kpCtx = { ...options, suite, version: context.version, groupExtensions: extensions };
          if (verify) checks.push(validateKeyPackage(proposal.add.keyPackage, kpCtx));
          else checkKeyPackageContent(proposal.add.keyPackage, kpCtx);
          break;
        }
        case ProposalType.update: {
          const leaf = proposal.update.leafNode;
          const current = tree.leaf(senderLeaf);
          if (current === undefined) throw new ValidationError('V-UPD-1', `Update from blank leaf ${senderLeaf}`);
          checkIdentityContinuity(current, leaf, senderLeaf);
          checkPublicKeySize(suite, leaf.encryptionKey, 'V-LN-13', 'Update leaf encryption_key');
          checkLeafNodeContent(leaf, { ...options, expectedSource: LeafNodeSource.update, groupExtensions: extensions });
          // V-LN-10 (§7.3): an Update's encryption_key differs from the one it replaces.
          if (bytesEqual(leaf.encryptionKey, current.encryptionKey)) {
            throw new ValidationError('V-LN-10', `Update for leaf ${senderLeaf} keeps its encryption key`);
          }
          if (verify) {
            checks.push(verifyLeafNodeSignature(suite, leaf, context.groupId, senderLeaf));
            checks.push(checkUsablePublicKey(suite, leaf.encryptionKey, 'V-LN-13', 'Update leaf encryption_key'));
          }
          updated.push(senderLeaf);
          break;
        }
        case ProposalType.psk:
          validatePreSharedKeyId(suite, proposal.psk.psk, 'commit');
          pskIds.push(proposal.psk.psk);
          break;
        case ProposalType.reinit:
          // V-RI-1 (§12.1.5): a ReInit may not lower the version.
          if (proposal.reInit.version < context.version) {
            throw new ValidationError('V-RI-1', `ReInit to version ${proposal.reInit.version} below ${context.version}`);
          }
          reInit = proposal.reInit;
          break;
        case ProposalType.externalInit:
          externalInit = proposal.externalInit;
          break;
        default:
          break;
      }
      treeList.push({ proposal, sender: senderLeaf });
    }
  } catch (err) {
    // Let the signature checks already started settle, so none rejects unobserved.
    await Promise.allSettled(checks);
    throw err;
  }
  await Promise.all(checks);

  // Every Add's KeyPackage passed V-KP-* and every Update's leaf V-LN-* above
  // (the checks awaited): from here on they are trusted.
  const checked = treeList.map(({ proposal, sender }) => ({ proposal: checkedProposal(proposal), sender }));
  const draft = tree.edit();
  const addedLeaves = applyProposalsToTree(draft, checked);
  const addProposals = list.flatMap((p) => (p.proposal.proposalType === ProposalType.add ? [validatedKeyPackage(p.proposal.add.keyPackage)] : []));
  const added = addedLeaves.map((leaf, i) => ({ leaf, keyPackage: addProposals[i]! }));

  if (hasGroupContextExtensions) checkExtensionsSupported(draft, extensions);

  return {
    draft,
    extensions,
    added,
    changedLeaves: [...updated, ...addedLeaves],
    pskIds,
    ...(externalInit === undefined ? {} : { externalInit }),
    ...(reInit === undefined ? {} : { reInit }),
    hasGroupContextExtensions,
  };
}

/** `proposal` with its Update leaf or Add KeyPackage as trusted: only once `applyProposalList`'s checks passed. */
function checkedProposal(proposal: Proposal): CheckedProposal {
  switch (proposal.proposalType) {
    case ProposalType.update:
      return { ...proposal, update: { leafNode: validatedLeafNode(proposal.update.leafNode) } };
    case ProposalType.add:
      return { ...proposal, add: { keyPackage: validatedKeyPackage(proposal.add.keyPackage) } };
    default:
      return proposal;
  }
}

/**
 * V-GCE-1 (§11.1, §12.1.7): every member after the Commit supports the new
 * required_capabilities. V-GCE-2 (§12.4.3, §13.4): and every non-default
 * GroupContext extension type.
 */
export function checkExtensionsSupported(tree: RatchetTree | TreeDraft, extensions: readonly Extension[]): void {
  // V-GCE-3 (§13.4): no extension type twice.
  checkDistinctExtensionTypes(extensions, 'V-GCE-3', 'GroupContext');
  const required = requiredCapabilitiesOf(extensions);
  for (let i = 0; i < tree.leafCount; i++) {
    const leaf = tree.leaf(i as LeafIndex);
    if (leaf === undefined) continue;
    checkRequiredCapabilities(leaf, required, 'V-GCE-1');
    for (const e of extensions) {
      if (!DEFAULT_EXTENSION_TYPES.has(e.extensionType) && !leaf.capabilities.extensions.includes(e.extensionType)) {
        throw new ValidationError('V-GCE-2', `member ${i} does not support group extension ${e.extensionType}`);
      }
    }
  }
}
