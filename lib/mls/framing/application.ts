/**
 * Application data and the values an application derives from the epoch
 * (RFC 9420 §15, §8.5, §8.7): sending an application message (always a
 * PrivateMessage, with optional authenticated_data and padding), the
 * exporter, and the epoch authenticator.
 *
 * Receiving application messages goes through `group.ts`'s `processMessage`,
 * which also reads late messages of retained past epochs.
 */
import { UsageError } from '../errors.ts';
import { ContentType, WireFormat, type MLSMessage } from './framing.ts';
import { withSecretTree, type GroupState } from '../group/group-state.ts';
import { mlsExporter } from '../keys/key-schedule.ts';
import { protectAsMember, signAsMember } from './message-send.ts';

export interface ApplicationOptions {
  /** Sent in the clear but authenticated (§6.3.1 PrivateContentAAD). */
  readonly authenticatedData?: Uint8Array;
  readonly paddingLength?: number;
}

/**
 * §15: encrypt `data` for the current epoch. §12.4 "a member that has
 * observed valid proposals MUST commit before sending application data":
 * V-APP-1 refuses to send while proposals are pending.
 */
export async function createApplicationMessage(
  state: GroupState,
  data: Uint8Array,
  options: ApplicationOptions = {},
): Promise<{ state: GroupState; message: MLSMessage }> {
  if (state.pendingProposals.length > 0) {
    throw new UsageError('[V-APP-1] commit the pending proposals before sending application data');
  }
  const copy = withSecretTree(state);
  const signing = signAsMember(
    state,
    { contentType: ContentType.application, applicationData: data },
    WireFormat.privateMessage,
    options.authenticatedData,
  );
  // The signature runs in WebCrypto, off this thread; meanwhile derive our
  // leaf's ratchets in the copy (the first message of an epoch walks the
  // secret tree from its root). A failure here recurs, and is reported, when
  // protectAsMember takes the key, after the signing promise is awaited.
  try {
    copy.secretTree.deriveLeaf(state.ownLeaf);
  } catch {
    // reported below
  }
  const ac = await signing;
  return protectAsMember(state, ac, options, copy);
}

/** §8.5 MLS-Exporter(label, context, length) for the current epoch. */
export function exportSecret(state: GroupState, label: string, context: Uint8Array, length: number): Uint8Array {
  return mlsExporter(state.suite, state.keys.exporterSecret, label, context, length);
}

/** §8.7 the epoch authenticator: equal for all members in the same epoch with the same view. */
export function epochAuthenticator(state: GroupState): Uint8Array {
  return state.keys.epochAuthenticator.slice();
}
