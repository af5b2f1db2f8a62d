// The pure inbox decides when this device was removed from its account
// (lib/background/app/devices.ts shows it): a Commit removing our leaf counts
// only when its committer's leaf is vouched for by our own roster. A member
// replaying our roster with a device key of its own, or another person, does
// not put us in the removed state.
import { beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { createCommit, createGroup, encodeMessage, generateIdentity, generateKeyPackage, joinFromWelcome, removeProposal, type GroupState } from '../../../lib/mls/group.ts';
import { randomBytes, toB64 } from '../../../lib/bytes.ts';
import type { ConversationMeta } from '../../../lib/background/chat-store.ts';
import { hashOf } from '../../../lib/background/conversations.ts';
import { ownMemberId } from '../../../lib/background/group-members.ts';
import { frame, interpret } from '../../../lib/background/inbox.ts';
import { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import type { MemberProof } from '../../../lib/background/identity/person-proof.ts';
import { newPseudonym } from '../../../lib/background/member-names.ts';
import { freshStore } from './support.ts';

const suite = getCipherSuite(1);

describe('removed from the account, as the inbox sees it', () => {
  let us: GroupState;
  let them: GroupState;
  let ours: OwnIdentity;
  let other: OwnIdentity;
  const otherDevice = toB64(randomBytes(32));

  beforeAll(async () => {
    const creator = await createGroup(suite, await generateIdentity(suite, newPseudonym()));
    const kp = await generateKeyPackage(suite, await generateIdentity(suite, newPseudonym()));
    const add = await createCommit(creator, { proposals: [{ proposalType: 1, add: { keyPackage: kp.keyPackage } }] });
    us = add.state;
    them = await joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys);
    const a = await freshStore();
    ours = await OwnIdentity.ensure(a.db, a.vault, 'Chrome on Linux', 1);
    await ours.signRosterWith({ deviceKey: otherDevice, name: 'Firefox on Android', addedAt: 2 });
    const b = await freshStore();
    other = await OwnIdentity.ensure(b.db, b.vault, 'Bob', 1);
  });

  async function removedUsWith(proof: MemberProof, identity: OwnIdentity): Promise<string[]> {
    const meta: ConversationMeta = {
      v: 1,
      id: toB64(us.context.groupId),
      name: 'Plans',
      status: 'active',
      queue: toB64(new Uint8Array(32)),
      unread: 0,
      lastActivity: 1,
      nextSeq: 3,
      memberCount: 2,
      epoch: Number(us.context.epoch),
      invites: [],
      proofs: { [ownMemberId(them)]: proof },
      rosters: { [identity.identityKey]: identity.roster },
    };
    const c = await createCommit(them, { proposals: [removeProposal(us.ownLeaf)] });
    const bytes = encodeMessage(c.commit);
    const out = await interpret(frame(hashOf(bytes), bytes)!, {
      meta,
      group: us,
      pending: undefined,
      selfName: 'Alice',
      readReceipts: true,
      now: 1000,
      ownIdentityKey: ours.identityKey,
    });
    expect(out.transition.metas![0]!.status).toBe('removed');
    return out.effects.map((e) => e.do);
  }

  it('a Remove by one of our own devices (in our roster) puts us in the removed state', async () => {
    const effects = await removedUsWith({ personId: ours.personId, identityKey: ours.identityKey, deviceKey: otherDevice, signed: true }, ours);
    expect(effects).toContain('removedByOwnDevice');
  });

  it('a member presenting our roster with a device key that is not in it does not', async () => {
    const effects = await removedUsWith({ personId: ours.personId, identityKey: ours.identityKey, deviceKey: toB64(randomBytes(32)), signed: true }, ours);
    expect(effects).not.toContain('removedByOwnDevice');
  });

  it('an unsigned claim of one of our devices does not', async () => {
    const effects = await removedUsWith({ personId: ours.personId, identityKey: ours.identityKey, deviceKey: otherDevice, signed: false }, ours);
    expect(effects).not.toContain('removedByOwnDevice');
  });

  it('another person removing us is an ordinary removal', async () => {
    const effects = await removedUsWith({ personId: other.personId, identityKey: other.identityKey, deviceKey: other.deviceKey, signed: true }, other);
    expect(effects).not.toContain('removedByOwnDevice');
    expect(effects).toContain('detach');
  });
});
