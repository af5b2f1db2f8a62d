/**
 * Shared fixture for group tests: a few members in one group, message
 * delivery, and a helper that signs and MACs an arbitrary (possibly invalid)
 * Commit as a given member, so rejection tests exercise the receiver's rules
 * rather than its signature or membership-tag checks.
 */
import { expect } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { bytesToHex } from '../../lib/bytes.ts';
import { signWithLabel } from '../../lib/mls/keys/crypto-ops.ts';
import { keyPackageTbsCodec, type KeyPackage } from '../../lib/mls/join/key-package.ts';
import { protectPublicMessage, signFramedContent } from '../../lib/mls/framing/message-protection.ts';
import { ProtocolVersion } from '../../lib/mls/framing/protocol-version.ts';
import type { Commit } from '../../lib/mls/group/commit.ts';
import { ContentType, WireFormat, type FramedContent, type FramedWireFormat, type MLSMessage, type Sender } from '../../lib/mls/framing/framing.ts';
import {
  createCommit,
  createGroup,
  encodeGroupState,
  encodeMessage,
  epochAuthenticator,
  generateIdentity,
  generateKeyPackage,
  joinFromWelcome,
  processMessage,
  sendApplicationMessage,
  type GroupConfig,
  type GroupState,
  type ProcessOptions,
} from '../../lib/mls/group.ts';
import { protectAsMember, signAsMember } from '../../lib/mls/framing/message-send.ts';
import { ProposalType, type Proposal } from '../../lib/mls/group/proposals.ts';

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

/**
 * Sign and protect an arbitrary proposal as a non-member (`external` or
 * `new_member_proposal` sender) in `state`'s epoch, as an outsider knowing
 * only the group id and epoch would (a PublicMessage without membership tag).
 */
export async function outsiderProposal(state: GroupState, proposal: Proposal, sender: Sender, signaturePrivateKey: Uint8Array): Promise<MLSMessage> {
  const ctx = state.context;
  const content = { groupId: ctx.groupId, epoch: ctx.epoch, sender, authenticatedData: new Uint8Array(0), contentType: ContentType.proposal, proposal } as FramedContent;
  const ac = await signFramedContent(state.suite, { wireFormat: WireFormat.publicMessage, content, groupContext: ctx, signaturePrivateKey });
  return { version: ProtocolVersion.mls10, wireFormat: WireFormat.publicMessage, publicMessage: protectPublicMessage(state.suite, ac, { groupContext: ctx }) };
}

/** A fresh KeyPackage whose init_key equals its leaf encryption_key (V-KP-4), correctly signed. */
export async function keyPackageWithInitKeyReused(suiteId: number, name: string): Promise<{ keyPackage: KeyPackage; signaturePrivateKey: Uint8Array }> {
  const cs = getCipherSuite(suiteId);
  const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode(name)));
  const tbs = { ...kp.keyPackage, initKey: kp.keyPackage.leafNode.encryptionKey };
  const signature = await signWithLabel(cs, kp.privateKeys.signaturePrivateKey, 'KeyPackageTBS', encode(keyPackageTbsCodec, tbs));
  return { keyPackage: { ...tbs, signature }, signaturePrivateKey: kp.privateKeys.signaturePrivateKey };
}

/**
 * The group is still alive: every member in turn sends an application
 * message that every other member reads, then commits (as the app does
 * before sending, committing whatever is pending first), and every other
 * member follows into the same epoch. Returns the members' new states.
 */
export async function expectGroupLive(states: GroupState[]): Promise<GroupState[]> {
  let g = [...states];
  for (let i = 0; i < g.length; i++) {
    const text = `still talking ${i} ${g[i]!.context.epoch}`;
    if (g[i]!.pendingProposals.length > 0) {
      const c = await createCommit(g[i]!);
      g = await deliverAll(g, c.commit, i);
      g[i] = c.state;
    }
    const sent = await sendApplicationMessage(g[i]!, utf8.encode(text));
    g[i] = sent.state;
    const bytes = encodeMessage(sent.message);
    for (let j = 0; j < g.length; j++) {
      if (j === i) continue;
      const r = await processMessage(g[j]!, bytes);
      expect(r.kind === 'application' && new TextDecoder().decode(r.data)).toBe(text);
      g[j] = r.state;
    }
    const c = await createCommit(g[i]!);
    g = await deliverAll(g, c.commit, i);
    g[i] = c.state;
    expect(new Set(g.map((s) => bytesToHex(epochAuthenticator(s)))).size).toBe(1);
  }
  return g;
}
