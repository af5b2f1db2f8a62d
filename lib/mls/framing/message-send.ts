/**
 * Sending as a member (RFC 9420 §6): frame a body (proposal, commit or
 * application data) for the current epoch, sign it, and protect it as a
 * PublicMessage (membership tag) or PrivateMessage (secret tree) with the
 * current epoch's keys. A PrivateMessage consumes a ratchet generation, so
 * it is sent from a private copy of the secret tree and a new state returned.
 */
import type { AuthenticatedContent, FramedContent, FramedContentBody, FramedWireFormat, MLSMessage } from './framing.ts';
import { SenderType, WireFormat } from './framing.ts';
import type { GroupState } from '../group/group-state.ts';
import { withSecretTree } from '../group/group-state.ts';
import type { SecretTree } from '../keys/secret-tree.ts';
import { protectPrivateMessage, protectPublicMessage, signFramedContent } from './message-protection.ts';
import { ProtocolVersion } from './protocol-version.ts';
import { UsageError } from '../errors.ts';

export interface SendOptions {
  /** Handshake messages default to PrivateMessage; application data is always private. */
  readonly wireFormat?: FramedWireFormat;
  readonly authenticatedData?: Uint8Array;
  /** Zero padding appended to PrivateMessage content (§6.3.1). */
  readonly paddingLength?: number;
}

/** §6.1: frame `body` as our content in the current epoch and sign it. */
export async function signAsMember(
  state: GroupState,
  body: FramedContentBody,
  wireFormat: FramedWireFormat,
  authenticatedData: Uint8Array = new Uint8Array(0),
): Promise<AuthenticatedContent> {
  if (!state.active) throw new UsageError('this member can no longer send in the group');
  const content = {
    groupId: state.context.groupId,
    epoch: state.context.epoch,
    sender: { senderType: SenderType.member, leafIndex: state.ownLeaf },
    authenticatedData,
    ...body,
  } as FramedContent;
  return signFramedContent(state.suite, {
    wireFormat,
    content,
    groupContext: state.context,
    contextBytes: state.contextBytes,
    signaturePrivateKey: state.signaturePrivateKey,
  });
}

/** §6.2 / §6.3: protect a signed content with the current epoch's keys. */
export async function protectAsMember(
  state: GroupState,
  ac: AuthenticatedContent,
  options: Pick<SendOptions, 'paddingLength'> = {},
  /** A private copy of the secret tree already made with `withSecretTree(state)`. */
  copyOfState?: { state: GroupState; secretTree: SecretTree },
): Promise<{ state: GroupState; message: MLSMessage }> {
  if (ac.wireFormat === WireFormat.publicMessage) {
    const publicMessage = protectPublicMessage(state.suite, ac, {
      groupContext: state.context,
      contextBytes: state.contextBytes,
      membershipKey: state.keys.membershipKey,
    });
    return { state, message: { version: ProtocolVersion.mls10, wireFormat: WireFormat.publicMessage, publicMessage } };
  }
  const copy = copyOfState ?? withSecretTree(state);
  const privateMessage = await protectPrivateMessage(state.suite, ac, {
    secretTree: copy.secretTree,
    senderDataSecret: state.keys.senderDataSecret,
    ...(options.paddingLength === undefined ? {} : { paddingLength: options.paddingLength }),
  });
  return {
    state: copy.state,
    message: { version: ProtocolVersion.mls10, wireFormat: WireFormat.privateMessage, privateMessage },
  };
}
