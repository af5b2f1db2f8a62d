// Attack: a removed member kept every open invite's keys (members hold them to
// republish the GroupInfo each epoch): the link key, the write key and the
// invite's signing key. With them they overwrite the blob (or delete it and
// create it again) with a properly signed GroupInfo of a group they control,
// so a newcomer following the real code lands in the attacker's group.
// Removal revokes: the invites are deleted at the relay before the removal
// Commit goes out, and the relay keeps a tombstone of each id until its
// expiry, so the old keys can neither replace nor re-create it. The inviter
// is told the codes were revoked and makes a new one the attacker never saw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';
import { RelayClient } from '../relay/support/client.ts';
import { attackerGroupInfo, b64, codeParts, heldInvites, sealAsAttacker } from './support/invite-attacker.ts';

describe('a removed member overwrites an invite blob', () => {
  let relay: RelayProcess;
  let alice: Device;
  let bob: Device;
  let carol: Device;

  beforeAll(async () => {
    relay = await startRelay();
    [alice, bob, carol] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob'), startDevice(relay.url, 'Carol')]);
    await waitUntil(() => [alice, bob, carol].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
  });
  afterAll(async () => {
    for (const d of [alice, bob, carol]) d?.app.stop();
    await relay?.stop();
  });

  it('cannot replace or re-create the revoked invite; the newcomer is not lured, and a new code works', async () => {
    const { conversationId } = await alice.app.handlers['conversation.create']({ name: 'Trip' });
    const first = await alice.app.handlers['invite.create']({ conversationId, mode: 'one-time' });
    await bob.app.handlers['invite.join']({ link: first.link });
    const open = await alice.app.handlers['invite.create']({ conversationId, mode: 'expiring', expiresInHours: 24 });
    const { inviteId } = codeParts(open.link);
    // Bob, still a member, learns the open invite's keys like every member does.
    await waitUntil(() => heldInvites(bob, conversationId).some((i) => i.inviteId === inviteId), 15_000, 'Bob holds the invite');
    const stolen = heldInvites(bob, conversationId).find((i) => i.inviteId === inviteId)!;
    const heldBeforeRemoval = heldInvites(bob, conversationId);

    const bobId = (await alice.app.handlers['conversation.get']({ conversationId })).members.find((m) => m.displayName === 'Bob')!.memberId;
    await alice.app.handlers['conversation.removeMember']({ conversationId, memberId: bobId });
    await waitUntil(() => bob.app.snapshot.conversations.find((c) => c.id === conversationId)?.status === 'removed', 15_000, 'Bob removed');

    // Bob, now outside, writes a properly signed blob of his own group with the old keys.
    const evil = await attackerGroupInfo();
    const forged = b64(sealAsAttacker(stolen.key, inviteId, evil.groupInfo, stolen.signingKey));
    const raw = new RelayClient(relay.url);
    const replaced = await raw.call('PUT', `/v1/invites/${inviteId}`, { writeKey: b64(stolen.writeKey), ciphertext: forged });
    expect(replaced.status).toBe(404);
    const [token] = await raw.tokens((await raw.register()).session, 1);
    const recreated = await raw.post('/v1/invites', {
      inviteId,
      writeKey: b64(stolen.writeKey),
      ciphertext: forged,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      oneTime: false,
      token,
    });
    expect(recreated.status).toBe(409);

    // Carol follows the real code: it is dead, and she is in no group of Bob's.
    await expect(carol.app.handlers['invite.join']({ link: open.link })).rejects.toMatchObject({ code: 'not-found' });
    expect(carol.app.snapshot.conversations.map((c) => c.id)).not.toContain(evil.groupId);

    // Alice sees why, and the members dropped the old keys.
    expect(await alice.app.handlers['invite.list']({ conversationId })).toEqual({ invites: [], revoked: true });
    // What Alice still holds is only the rejoin slot made at the removal's epoch (healing/rejoin-slots.ts):
    // none of the invites or slots Bob held while a member.
    const bobHeld = new Set(heldBeforeRemoval.map((i) => i.inviteId));
    expect(heldInvites(alice, conversationId).filter((i) => bobHeld.has(i.inviteId))).toEqual([]);

    // A new code (keys Bob never saw) works.
    const fresh = await alice.app.handlers['invite.create']({ conversationId, mode: 'one-time' });
    expect((await alice.app.handlers['invite.list']({ conversationId })).revoked).toBe(false);
    expect((await carol.app.handlers['invite.join']({ link: fresh.link })).conversationId).toBe(conversationId);
    await waitUntil(
      async () => (await alice.app.handlers['conversation.get']({ conversationId })).members.map((m) => m.displayName).sort().join() === 'Alice,Carol',
      15_000,
      'Alice and Carol',
    );
  });
});
