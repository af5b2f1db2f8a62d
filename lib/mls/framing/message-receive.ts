/**
 * Receiving a framed message as a member (RFC 9420 §6.2, §6.3): pick the
 * epoch's keys, find the sender's signature key, and unprotect into an
 * AuthenticatedContent. Handshake messages are accepted only for the current
 * epoch; application messages also for a bounded number of past epochs whose
 * keys are retained (§14.1 "Delayed and Reordered Application Messages").
 *
 * A PrivateMessage consumes a ratchet generation, so it is opened with a copy
 * of the secret tree and a new state comes back; on any failure the caller's
 * state is untouched.
 */
import { decode } from '../codec/codec.ts';
import { UsageError, ValidationError } from '../errors.ts';
import { ExtensionType, externalSendersCodec, findExtension } from '../group/extensions.ts';
import {
  ContentType,
  SenderType,
  WireFormat,
  type AuthenticatedContent,
  type FramedContent,
  type MLSMessage,
  type Sender,
} from './framing.ts';
import type { GroupState, PastEpoch } from '../group/group-state.ts';
import { withState } from '../group/group-state.ts';
import { unprotectPrivateMessage, unprotectPublicMessage } from './message-protection.ts';
import { ProposalType } from '../group/proposals.ts';
import type { LeafIndex } from '../tree/tree-math.ts';
import { bytesEqual } from '../../bytes.ts';

export interface Received {
  readonly state: GroupState;
  readonly content: AuthenticatedContent;
  /** The epoch the message belongs to (earlier than the current one for late application messages). */
  readonly epoch: bigint;
}

/** §6.1: the signature key for each sender type, in the current epoch. */
export function senderSignatureKey(state: GroupState): (sender: Sender, content: FramedContent) => Uint8Array | undefined {
  return (sender, content) => {
    switch (sender.senderType) {
      case SenderType.member:
        return sender.leafIndex < state.tree.leafCount ? state.tree.leaf(sender.leafIndex)?.signatureKey : undefined;
      case SenderType.external: {
        const ext = findExtension(state.context.extensions, ExtensionType.externalSenders);
        // V-RCV-4 (§12.1.8.1): external senders exist only with an external_senders extension.
        if (ext === undefined) throw new ValidationError('V-RCV-4', 'external sender but no external_senders extension');
        return decode(externalSendersCodec, ext.extensionData)[sender.senderIndex]?.signatureKey;
      }
      case SenderType.newMemberProposal:
        return content.contentType === ContentType.proposal && content.proposal.proposalType === ProposalType.add
          ? content.proposal.add.keyPackage.leafNode.signatureKey
          : undefined;
      case SenderType.newMemberCommit:
        if (content.contentType !== ContentType.commit) return undefined;
        // V-EC-5 (§12.4.3.2): an external Commit has a path, whose leaf carries the signer's key.
        if (content.commit.path === undefined) throw new ValidationError('V-EC-5', 'an external Commit must carry a path');
        return content.commit.path.leafNode.signatureKey;
    }
  };
}

/**
 * Unprotect a Public- or PrivateMessage addressed to this group.
 *  - V-RCV-1: the message is for this group;
 *  - V-RCV-2: handshake messages only in the current epoch; application
 *    messages in the current or a retained past epoch, never a future one;
 *  - V-RCV-3: a membership tag has the MAC length of the suite (GHSA-8x3w-qj7j-gqhf class);
 *  - V-PROT-*: message-protection's checks (tag, AEAD, signature, padding).
 */
export async function receiveFramed(state: GroupState, message: MLSMessage): Promise<Received> {
  const cs = state.suite;
  if (message.wireFormat === WireFormat.publicMessage) {
    const pm = message.publicMessage;
    if (!bytesEqual(pm.content.groupId, state.context.groupId)) throw new ValidationError('V-RCV-1', 'message for another group');
    if (pm.content.epoch !== state.context.epoch) {
      throw new ValidationError('V-RCV-2', `PublicMessage for epoch ${pm.content.epoch}, group is in ${state.context.epoch}`);
    }
    if (pm.membershipTag !== undefined && pm.membershipTag.length !== cs.hash.size) {
      throw new ValidationError('V-RCV-3', `membership_tag of ${pm.membershipTag.length} bytes, expected ${cs.hash.size}`);
    }
    const content = await unprotectPublicMessage(cs, pm, {
      groupContext: state.context,
      contextBytes: state.contextBytes,
      membershipKey: state.keys.membershipKey,
      signatureKey: senderSignatureKey(state),
    });
    return { state, content, epoch: state.context.epoch };
  }
  if (message.wireFormat !== WireFormat.privateMessage) throw new UsageError('not a framed (Public/Private) message');
  const pm = message.privateMessage;
  if (!bytesEqual(pm.groupId, state.context.groupId)) throw new ValidationError('V-RCV-1', 'message for another group');
  if (pm.epoch === state.context.epoch) {
    const secretTree = state.secretTree.clone();
    const content = await unprotectPrivateMessage(cs, pm, {
      groupContext: state.context,
      contextBytes: state.contextBytes,
      secretTree,
      senderDataSecret: state.keys.senderDataSecret,
      memberSignatureKey: (leaf: LeafIndex) => state.tree.leaf(leaf)?.signatureKey,
    });
    return { state: withState(state, { secretTree }), content, epoch: pm.epoch };
  }
  const idx = state.pastEpochs.findIndex((e) => e.context.epoch === pm.epoch);
  if (pm.contentType !== ContentType.application || idx < 0) {
    throw new ValidationError(
      'V-RCV-2',
      `PrivateMessage (content type ${pm.contentType}) for epoch ${pm.epoch}; group is in ${state.context.epoch}` +
        (idx < 0 ? ' and keeps no keys for it' : ''),
    );
  }
  const past = state.pastEpochs[idx]!;
  const secretTree = past.secretTree.clone();
  const content = await unprotectPrivateMessage(cs, pm, {
    groupContext: past.context,
    secretTree,
    senderDataSecret: past.senderDataSecret,
    memberSignatureKey: (leaf: LeafIndex) => past.signers.signatureKey(leaf),
  });
  const updated: PastEpoch = { ...past, secretTree };
  const pastEpochs = state.pastEpochs.map((e, i) => (i === idx ? updated : e));
  return { state: withState(state, { pastEpochs }), content, epoch: pm.epoch };
}
