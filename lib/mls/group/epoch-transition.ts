/**
 * Moving a group from one epoch to the next once a Commit is known (RFC 9420
 * §8, §8.2, §12.4.1, §12.4.2): the part the committer and every receiver run
 * identically.
 *
 *   signed Commit ─┐
 *   interim[n-1] ──┴─> confirmed[n] ─> GroupContext[n] ─┐
 *   init[n-1] (or external init) + commit_secret + psk_secret ─┴─> key schedule
 *   confirmation_tag = MAC(confirmation_key[n], confirmed[n]);  interim[n] = H(confirmed[n] || tag)
 *
 * Also the PSK lookup a member uses (external PSKs from the application,
 * resumption PSKs from the group's own history) and assembling the new
 * `GroupState`.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { encode } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import type { Extension } from './extensions.ts';
import type { AuthenticatedContent } from '../framing/framing.ts';
import { groupContextCodec, type GroupContext } from './group-context.ts';
import { type GroupState, retainEpoch, retainResumptionPsk, startEpoch, withState } from './group-state.ts';
import {
  advanceKeySchedule,
  computeConfirmationTag,
  type CommitSecret,
  type EpochSecrets,
  type InitSecret,
  type JoinerSecret,
  type WelcomeSecret,
} from '../keys/key-schedule.ts';
import { PskType, ResumptionPskUsage, computePskSecret, resolvePsks, type PreSharedKeyId, type PskLookup, type PskSecret } from '../keys/psk.ts';
import type { RatchetTree } from '../tree/ratchet-tree.ts';
import { computeConfirmedTranscriptHash, computeInterimTranscriptHash } from '../keys/transcript-hash.ts';
import type { TreeKemPrivate } from '../tree/treekem.ts';
import type { LeafIndex } from '../tree/tree-math.ts';

export interface NextEpoch {
  readonly context: GroupContext;
  readonly contextBytes: Uint8Array;
  readonly secrets: EpochSecrets;
  readonly joinerSecret: JoinerSecret;
  readonly welcomeSecret: WelcomeSecret;
  readonly confirmationTag: Uint8Array;
  readonly interimTranscriptHash: Uint8Array;
}

/** The GroupContext fields a Commit changes, for the provisional context of §12.4.1. */
export function provisionalContext(old: GroupContext, treeHash: Uint8Array, extensions: readonly Extension[]): GroupContext {
  return { ...old, epoch: old.epoch + 1n, treeHash, extensions };
}

/**
 * Run the transcript hashes and key schedule for the epoch `commit` creates.
 * `commit` is the signed AuthenticatedContent (its confirmation tag, if any, is ignored).
 */
export function computeNextEpoch(
  suite: CipherSuite,
  old: { readonly context: GroupContext; readonly interimTranscriptHash: Uint8Array },
  tree: RatchetTree,
  extensions: readonly Extension[],
  commit: AuthenticatedContent,
  initSecret: InitSecret,
  commitSecret: CommitSecret,
  pskSecret: PskSecret,
): NextEpoch {
  const confirmedTranscriptHash = computeConfirmedTranscriptHash(suite, old.interimTranscriptHash, commit);
  const context: GroupContext = { ...provisionalContext(old.context, tree.treeHash(), extensions), confirmedTranscriptHash };
  const contextBytes = encode(groupContextCodec, context);
  const { joinerSecret, welcomeSecret, secrets } = advanceKeySchedule(suite, initSecret, commitSecret, pskSecret, contextBytes);
  const confirmationTag = computeConfirmationTag(suite, secrets.confirmationKey, confirmedTranscriptHash);
  const interimTranscriptHash = computeInterimTranscriptHash(suite, confirmedTranscriptHash, confirmationTag);
  return { context, contextBytes, secrets, joinerSecret, welcomeSecret, confirmationTag, interimTranscriptHash };
}

/**
 * The PSKs a member can resolve: external ones through the application's
 * lookup, resumption ones (usage application) from this group's current and
 * retained epochs.
 */
export function memberPskLookup(state: GroupState, external: PskLookup | undefined): PskLookup {
  return (id: PreSharedKeyId) => {
    if (id.psktype === PskType.external) return external?.(id);
    if (id.usage !== ResumptionPskUsage.application || !bytesEqual(id.pskGroupId, state.context.groupId)) {
      return external?.(id);
    }
    if (id.pskEpoch === state.context.epoch) return state.keys.resumptionPsk;
    return state.resumptionPsks.find((p) => p.epoch === id.pskEpoch)?.psk;
  };
}

/** psk_secret for the ids of a Commit (V-PSK-7 when one is missing). */
export function pskSecretFor(suite: CipherSuite, ids: readonly PreSharedKeyId[], lookup: PskLookup): PskSecret {
  return computePskSecret(suite, resolvePsks(ids, lookup));
}

/** Assemble the state of the new epoch; `old` becomes a retained past epoch. */
export function nextGroupState(
  old: GroupState,
  next: NextEpoch,
  parts: {
    readonly tree: RatchetTree;
    readonly ownLeaf: LeafIndex;
    readonly treeKeys: TreeKemPrivate;
    readonly active: boolean;
  },
): GroupState {
  const fresh = startEpoch({
    suite: old.suite,
    config: old.config,
    context: next.context,
    contextBytes: next.contextBytes,
    tree: parts.tree,
    ownLeaf: parts.ownLeaf,
    treeKeys: parts.treeKeys,
    signaturePrivateKey: old.signaturePrivateKey,
    secrets: next.secrets,
    interimTranscriptHash: next.interimTranscriptHash,
    confirmationTag: next.confirmationTag,
  });
  return withState(fresh, {
    pastEpochs: retainEpoch(old),
    resumptionPsks: retainResumptionPsk(old),
    active: parts.active,
  });
}
