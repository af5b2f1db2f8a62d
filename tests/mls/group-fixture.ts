/**
 * Shared fixture for group tests: a few members in one group, message
 * delivery, and a helper that signs and MACs an arbitrary (possibly invalid)
 * Commit as a given member, so rejection tests exercise the receiver's rules
 * rather than its signature or membership-tag checks.
 */
import { expect } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { bytesToHex } from '../../lib/mls/codec.ts';
import type { Commit } from '../../lib/mls/commit.ts';
import { ContentType, WireFormat, type FramedWireFormat, type MLSMessage } from '../../lib/mls/framing.ts';
import {
  createCommit,
  createGroup,
  encodeGroupState,
  encodeMessage,
  generateIdentity,
  generateKeyPackage,
  joinFromWelcome,
  processMessage,
  type GroupConfig,
  type GroupState,
  type ProcessOptions,
} from '../../lib/mls/group.ts';
import { protectAsMember, signAsMember } from '../../lib/mls/message-send.ts';
import { ProposalType, type Proposal } from '../../lib/mls/proposals.ts';

export const utf8 = new TextEncoder();

/** A group of `n` members (leaf i = member i), all in the same epoch. */
export async function makeGroup(suiteId: number, n: number, config: Partial<GroupConfig> = {}): Promise<GroupState[]> {
  const cs = getCipherSuite(suiteId);
  const ids = await Promise.all(Array.from({ length: n }, (_, i) => generateIdentity(cs, utf8.encode(`member-${i}`))));
  const creator = await createGroup(cs, ids[0]!, { config });
  if (n === 1) return [creator];
  const kps = await Promise.all(ids.slice(1).map((id) => generateKeyPackage(cs, id)));
  const add = await createCommit(creator, {
    proposals: kps.map((kp): Proposal => ({ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } })),
  });
  const joined = await Promise.all(kps.map((kp) => joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys, { config })));
  return [add.state, ...joined];
}

/** Deliver `msg` to every state in `states` (index `skip` excluded) and return the new states. */
export async function deliverAll(states: GroupState[], msg: MLSMessage, skip?: number, options?: ProcessOptions): Promise<GroupState[]> {
  const bytes = encodeMessage(msg);
  const out: GroupState[] = [];
  for (const [i, s] of states.entries()) {
    out.push(i === skip ? s : (await processMessage(s, bytes, options)).state);
  }
  return out;
}

/**
 * Sign and protect `commit` as `state`'s member. The confirmation tag is
 * `tag` or Nh zero bytes (right length, wrong value) so that checks before
 * the key schedule are what rejects it.
 */
export async function forgeCommit(
  state: GroupState,
  commit: Commit,
  options: { tag?: Uint8Array; wireFormat?: FramedWireFormat } = {},
): Promise<MLSMessage> {
  const wf = options.wireFormat ?? WireFormat.publicMessage;
  const ac = await signAsMember(state, { contentType: ContentType.commit, commit }, wf);
  const tagged = { ...ac, auth: { ...ac.auth, confirmationTag: options.tag ?? new Uint8Array(state.suite.hash.size) } };
  return (await protectAsMember(state, tagged)).message;
}

/** Expect `op` on `state` to fail with rule `rule` (in the message) and to leave `state` byte-identical. */
export async function expectRejected(state: GroupState, rule: string, op: (s: GroupState) => Promise<unknown>): Promise<void> {
  const before = bytesToHex(encodeGroupState(state));
  await expect(op(state)).rejects.toThrow(rule);
  expect(bytesToHex(encodeGroupState(state))).toBe(before);
}
