/**
 * Our external Commit to a conversation's queue: a join by invite link
 * (join.ts) or a rejoin by resync (healing/rejoin.ts). By the time it is
 * posted the conversation is stored as joining with the Commit pending; it is
 * then confirmed by the relay's order like any Commit of ours (epoch-sync.ts).
 */
import type { GroupState } from '../mls/group.ts';
import type { ChannelError } from '../protocol/channel.ts';
import { isStale, JoinConflict, relayProblem } from './chat-errors.ts';
import type { Conversations } from './conversations.ts';
import type { EpochSync } from './epoch-sync.ts';
import { capabilityHash, queueCapability } from './queue-capability.ts';
import * as text from './text.ts';

/**
 * What a join makes of a refused request to the queue: a capability the queue
 * has moved past means someone committed since our GroupInfo, like a Commit
 * that beat ours (JoinConflict: the join reads the GroupInfo again and tries
 * once more); anything else is the relay's problem.
 */
export function joinProblem(err: unknown): ChannelError {
  return isStale(err) ? new JoinConflict({ cause: err }) : relayProblem(err, text.Activity.join);
}

export interface ExternalCommit {
  queue: Uint8Array;
  /** The capability of the GroupInfo's epoch, which the post presents. */
  cap: Uint8Array;
  payload: Uint8Array;
  /** What the pending Commit is known by (`hashOf(payload)`). */
  hash: string;
  /** The group's state with the Commit in: the relay swaps in its capability as it stores the Commit. */
  state: GroupState;
}

/**
 * Posts the Commit (paid with a token) and waits until the relay's order
 * confirms it. If the post fails, `undo` takes back what the join stored, the
 * Commit's waiters are settled with the problem, and the problem is thrown.
 */
export async function postExternalCommit(c: Conversations, epochs: EpochSync, commit: ExternalCommit, undo: () => Promise<void>): Promise<void> {
  const confirmed = epochs.waitConfirmed(commit.hash);
  // Awaited below only when the post went out; otherwise its rejection is the same problem thrown here.
  confirmed.catch(() => undefined);
  try {
    const rotateTo = capabilityHash(commit.queue, queueCapability(commit.state));
    await c.deps.wallet().spend((token) => c.deps.api().send(commit.queue, commit.cap, token, commit.payload, rotateTo));
  } catch (err) {
    await undo();
    const problem = joinProblem(err);
    epochs.settle(commit.hash, problem);
    throw problem;
  }
  await confirmed;
}
