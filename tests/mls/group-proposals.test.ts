/**
 * Proposal types beyond Add/Remove/Update, by value and by reference:
 * PreSharedKey (external and resumption), GroupContextExtensions (required
 * capabilities, external senders), ReInit, proposals from external senders
 * and new members. Plus a deep-freeze check that operations never mutate
 * their inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { bytesEqual, bytesToHex } from '../../lib/bytes.ts';
import { CredentialType } from '../../lib/mls/tree/credential.ts';
import { ExtensionType, externalSendersCodec, requiredCapabilitiesCodec, type Extension } from '../../lib/mls/group/extensions.ts';
import { ContentType, SenderType, WireFormat, type FramedContent, type MLSMessage } from '../../lib/mls/framing/framing.ts';
import {
  createCommit,
  createProposal,
  defaultCapabilities,
  encodeGroupState,
  encodeMessage,
  epochAuthenticator,
  generateIdentity,
  generateKeyPackage,
  joinFromWelcome,
  processMessage,
  proposeAdd,
  proposeRemove,
  sendApplicationMessage,
  type GroupState,
} from '../../lib/mls/group.ts';
import { protectPublicMessage, signFramedContent } from '../../lib/mls/framing/message-protection.ts';
import { ProposalType, type Proposal } from '../../lib/mls/group/proposals.ts';
import { PskType, ResumptionPskUsage, type PreSharedKeyId } from '../../lib/mls/keys/psk.ts';
import { ProtocolVersion } from '../../lib/mls/framing/protocol-version.ts';
import { deliverAll, expectRejected, makeGroup, utf8 } from './group-fixture.ts';

const same = (states: GroupState[]) => expect(new Set(states.map((s) => bytesToHex(epochAuthenticator(s)))).size).toBe(1);

/** Freeze every plain object and array reachable from `v` (class instances keep their private caches). */
function deepFreeze<T>(v: T, seen = new Set<unknown>()): T {
  if (v === null || typeof v !== 'object' || seen.has(v) || ArrayBuffer.isView(v)) return v;
  seen.add(v);
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return v;
  for (const x of Object.values(v as object)) deepFreeze(x, seen);
  return Object.freeze(v);
}

for (const suiteId of [1, 2, 3]) {
  describe(`proposals suite ${suiteId}`, () => {
    const cs = getCipherSuite(suiteId);
    let g: GroupState[];
    beforeAll(async () => {
      g = (await makeGroup(suiteId, 3)).map((s) => deepFreeze(s));
    });
    const externalPsk = { id: utf8.encode('app-psk'), psk: utf8.encode('a shared secret') };
    const pskLookup = (id: PreSharedKeyId) => (id.psktype === PskType.external && bytesEqual(id.pskId, externalPsk.id) ? externalPsk.psk : undefined);
    const pskProposal = (id: PreSharedKeyId): Proposal => ({ proposalType: ProposalType.psk, psk: { psk: id } });
    const extId = (): PreSharedKeyId => ({ psktype: PskType.external, pskId: externalPsk.id, pskNonce: cs.randomBytes(cs.kdf.size) });

    it(`suite ${suiteId}: external PSK by value and by reference; resumption PSK of the previous epoch`, async () => {
      const r1 = await createCommit(g[0]!, { proposals: [pskProposal(extId())], pskLookup });
      let [b, c] = await deliverAll([g[1]!, g[2]!], r1.commit, undefined, { pskLookup });
      let a: GroupState | undefined = r1.state;
      same([a, b!, c!]);

      const p = await createProposal(b!, pskProposal(extId()), { wireFormat: WireFormat.publicMessage });
      b = p.state;
      [a, c] = await deliverAll([a, c!], p.message, undefined, { pskLookup });
      const r2 = await createCommit(c!, { pskLookup });
      c = r2.state;
      [a, b] = await deliverAll([a!, b], r2.commit, undefined, { pskLookup });
      same([a!, b!, c]);

      const resumption: PreSharedKeyId = {
        psktype: PskType.resumption,
        usage: ResumptionPskUsage.application,
        pskGroupId: a!.context.groupId,
        pskEpoch: a!.context.epoch - 1n,
        pskNonce: cs.randomBytes(cs.kdf.size),
      };
      const r3 = await createCommit(a!, { proposals: [pskProposal(resumption)] });
      [b, c] = await deliverAll([b!, c], r3.commit);
      same([r3.state, b!, c!]);
    });

    it(`suite ${suiteId}: GroupContextExtensions with required_capabilities; an Add lacking them is rejected (V-KP-2)`, async () => {
      const required: Extension = {
        extensionType: ExtensionType.requiredCapabilities,
        extensionData: encode(requiredCapabilitiesCodec, { extensionTypes: [], proposalTypes: [], credentialTypes: [CredentialType.basic] }),
      };
      const p = await createProposal(g[1]!, { proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [required] } });
      const [a, c] = await deliverAll([g[0]!, g[2]!], p.message);
      const r = await createCommit(a!);
      const [b2, c2] = await deliverAll([p.state, c!], r.commit);
      same([r.state, b2!, c2!]);
      expect(r.state.context.extensions).toEqual([required]);

      const id = await generateIdentity(cs, utf8.encode('x509-only'));
      const noBasic = await generateKeyPackage(cs, id, { capabilities: defaultCapabilities(cs, { credentials: [CredentialType.x509] }) });
      await expectRejected(r.state, 'V-KP-2', (s) =>
        createCommit(s, { proposals: [{ proposalType: ProposalType.add, add: { keyPackage: noBasic.keyPackage } }] }),
      );
    });

    it(`suite ${suiteId}: Add and Remove by reference`, async () => {
      const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('by-ref')));
      const pa = await proposeAdd(g[1]!, kp.keyPackage);
      const pr = await proposeRemove(g[2]!, g[1]!.ownLeaf);
      let [a] = await deliverAll([g[0]!], pa.message);
      [a] = await deliverAll([a!], pr.message);
      let [c] = await deliverAll([pr.state], pa.message);
      const r = await createCommit(a!);
      [c] = await deliverAll([c!], r.commit);
      const [bob] = await deliverAll([pa.state], pr.message);
      const out = await processMessage(bob!, encodeMessage(r.commit));
      expect(out.kind === 'commit' && out.removed).toBe(true);
      const d = await joinFromWelcome(r.welcome!, kp.keyPackage, kp.privateKeys);
      same([r.state, c!, d]);
      expect(r.state.tree.leaf(g[1]!.ownLeaf)?.signatureKey).toEqual(kp.keyPackage.leafNode.signatureKey);
    });

    it(`suite ${suiteId}: proposals from an external sender and from a new member (V-SND-1)`, async () => {
      const ds = await generateIdentity(cs, utf8.encode('delivery-service'));
      const senders: Extension = {
        extensionType: ExtensionType.externalSenders,
        extensionData: encode(externalSendersCodec, [{ signatureKey: ds.signaturePublicKey, credential: ds.credential }]),
      };
      const r0 = await createCommit(g[0]!, {
        proposals: [{ proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [senders] } }],
      });
      let [a, b, c] = [r0.state, ...(await deliverAll([g[1]!, g[2]!], r0.commit))] as GroupState[];

      const externalMessage = async (proposal: Proposal, sender: FramedContent['sender'], key: Uint8Array, ctx = a!.context): Promise<MLSMessage> => {
        const content = { groupId: ctx.groupId, epoch: ctx.epoch, sender, authenticatedData: new Uint8Array(0), contentType: ContentType.proposal, proposal } as FramedContent;
        const ac = await signFramedContent(cs, { wireFormat: WireFormat.publicMessage, content, groupContext: ctx, signaturePrivateKey: key });
        return { version: ProtocolVersion.mls10, wireFormat: WireFormat.publicMessage, publicMessage: protectPublicMessage(cs, ac, { groupContext: ctx }) };
      };
      // The external sender removes Carol; a new member proposes to add itself.
      const removeCarol = await externalMessage({ proposalType: ProposalType.remove, remove: { removed: c!.ownLeaf } }, { senderType: SenderType.external, senderIndex: 0 }, ds.signaturePrivateKey);
      const newcomer = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('newcomer')));
      const selfAdd = await externalMessage({ proposalType: ProposalType.add, add: { keyPackage: newcomer.keyPackage } }, { senderType: SenderType.newMemberProposal }, newcomer.privateKeys.signaturePrivateKey);
      [a, b, c] = await deliverAll([a!, b!, c!], removeCarol);
      // V-SND-4: proposals from new members only when the application accepts them.
      await expectRejected(a!, 'V-SND-4', (s) => processMessage(s, encodeMessage(selfAdd)));
      [a, b, c] = await deliverAll([a!, b!, c!], selfAdd, undefined, { acceptNewMemberProposals: true });
      // An external sender may not send an Update.
      const upd = await externalMessage({ proposalType: ProposalType.update, update: { leafNode: b!.tree.leaf(b!.ownLeaf)! } }, { senderType: SenderType.external, senderIndex: 0 }, ds.signaturePrivateKey);
      await expectRejected(a!, 'V-SND-1', (s) => processMessage(s, encodeMessage(upd)));

      const r = await createCommit(b!);
      const [a2] = await deliverAll([a!], r.commit);
      const out = await processMessage(c!, encodeMessage(r.commit));
      expect(out.kind === 'commit' && out.removed).toBe(true);
      const n = await joinFromWelcome(r.welcome!, newcomer.keyPackage, newcomer.privateKeys);
      same([a2!, r.state, n]);
    });

    it(`suite ${suiteId}: a committed ReInit stops the group for sending`, async () => {
      const reInit: Proposal = {
        proposalType: ProposalType.reinit,
        reInit: { groupId: cs.randomBytes(16), version: ProtocolVersion.mls10, cipherSuite: suiteId, extensions: [] },
      };
      const r = await createCommit(g[0]!, { proposals: [reInit], path: false });
      const [b] = await deliverAll([g[1]!], r.commit);
      same([r.state, b!]);
      expect(r.state.active).toBe(false);
      expect(b!.active).toBe(false);
      await expect(sendApplicationMessage(b!, utf8.encode('x'))).rejects.toThrow('can no longer send');
    });

    it(`suite ${suiteId}: a ReInit by reference is committed alone and stops the group`, async () => {
      const reInit: Proposal = {
        proposalType: ProposalType.reinit,
        reInit: { groupId: cs.randomBytes(16), version: ProtocolVersion.mls10, cipherSuite: suiteId, extensions: [] },
      };
      const p = await createProposal(g[1]!, reInit);
      const [a, c] = await deliverAll([g[0]!, g[2]!], p.message);
      const r = await createCommit(a!, { path: false });
      const [b2, c2] = await deliverAll([p.state, c!], r.commit);
      same([r.state, b2!, c2!]);
      expect([r.state, b2!, c2!].every((s) => !s.active)).toBe(true);
    });

    it(`suite ${suiteId}: operations on deep-frozen states never mutate them`, async () => {
      const before = g.map((s) => bytesToHex(encodeGroupState(s)));
      const r = await createCommit(g[0]!);
      await deliverAll([g[1]!, g[2]!], r.commit);
      const m = await sendApplicationMessage(g[2]!, utf8.encode('hi'));
      await deliverAll([g[0]!, g[1]!], m.message);
      expect(g.map((s) => bytesToHex(encodeGroupState(s)))).toEqual(before);
    });
  });
}

describe('pending proposal selection and resync (suite 1)', () => {
  it('suite 1: conflicting pending proposals are resolved (Remove wins over Update, own Remove skipped)', async () => {
    let g = await makeGroup(1, 4);
    // Bob proposes an Update, Carol proposes to remove Bob and to remove Alice; Dave commits.
    const u = await (await import('../../lib/mls/group.ts')).proposeUpdate(g[1]!);
    g[1] = u.state;
    g = await deliverAll(g, u.message, 1);
    const r1 = await proposeRemove(g[2]!, g[1]!.ownLeaf);
    g[2] = r1.state;
    g = await deliverAll(g, r1.message, 2);
    const r2 = await proposeRemove(g[2]!, g[3]!.ownLeaf);
    g[2] = r2.state;
    g = await deliverAll(g, r2.message, 2);
    const c = await createCommit(g[3]!);
    const [a, cc] = await deliverAll([g[0]!, g[2]!], c.commit);
    same([a!, cc!, c.state]);
    expect([...c.state.tree.memberIndices()]).toEqual([0, 2, 3]);
  });

  it('suite 1: resync by external Commit replacing our old leaf', async () => {
    const g = await makeGroup(1, 3);
    const { joinByExternalCommit, exportGroupInfo } = await import('../../lib/mls/group.ts');
    // Bob lost his state but kept his identity: same credential, same signature key (V-EC-6).
    const bobLeaf = g[1]!.tree.leaf(g[1]!.ownLeaf)!;
    const bobAgain = { credential: bobLeaf.credential, signaturePublicKey: bobLeaf.signatureKey, signaturePrivateKey: g[1]!.signaturePrivateKey };
    const ext = await joinByExternalCommit(await exportGroupInfo(g[0]!), bobAgain, { removeLeaf: g[1]!.ownLeaf });
    const [a, c] = await deliverAll([g[0]!, g[2]!], ext.commit);
    same([a!, c!, ext.state]);
    expect(ext.state.ownLeaf).toBe(1);
    const old = await processMessage(g[1]!, encodeMessage(ext.commit));
    expect(old.kind === 'commit' && old.removed).toBe(true);
  });
});
