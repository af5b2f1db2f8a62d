// Attack: someone who holds an invite's write key (and the link key, as any
// invitee does) but not the invite's signing key replaces the blob with the
// GroupInfo of a group they control, so a newcomer following the real code
// lands in the attacker's group. The code pins the invite's verify key: the
// joiner refuses the blob with a clear message and joins nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';
import { attackerGroupInfo, b64, codeParts, heldInvites, sealAsAttacker } from './support/invite-attacker.ts';

describe('a write-key holder replaces an invite blob', () => {
  let relay: RelayProcess;
  let alice: Device;
  let carol: Device;

  beforeAll(async () => {
    relay = await startRelay();
    [alice, carol] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Carol')]);
    await waitUntil(() => [alice, carol].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
  });
  afterAll(async () => {
    for (const d of [alice, carol]) d?.app.stop();
    await relay?.stop();
  });

  for (const variant of ['unsigned', 'signed with a key of its own'] as const) {
    it(`the joiner refuses the replaced blob (${variant}) and joins nothing`, async () => {
      const { conversationId } = await alice.app.handlers['conversation.create']({ name: 'Trip' });
      const invite = await alice.app.handlers['invite.create']({ conversationId, mode: 'expiring', expiresInHours: 24 });
      const { inviteId, key } = codeParts(invite.link);
      const held = heldInvites(alice, conversationId).find((i) => i.inviteId === inviteId)!;

      const evil = await attackerGroupInfo();
      const ciphertext = sealAsAttacker(key, inviteId, evil.groupInfo, variant === 'unsigned' ? undefined : ed25519.utils.randomSecretKey());
      const put = await fetch(`${relay.url}/v1/invites/${inviteId}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ writeKey: b64(held.writeKey), ciphertext: b64(ciphertext) }),
      });
      expect(put.status).toBe(200); // the write key is enough to replace the blob...

      // ...but not to make the code's joiner accept it.
      await expect(carol.app.handlers['invite.join']({ link: invite.link })).rejects.toMatchObject({
        code: 'invalid-input',
        message: expect.stringMatching(/tampered with/),
      });
      expect(carol.app.snapshot.conversations.map((c) => c.id)).not.toContain(evil.groupId);
      expect(carol.app.snapshot.conversations.filter((c) => c.status === 'active' || c.status === 'joining')).toEqual([]);
      expect((await alice.app.handlers['conversation.get']({ conversationId })).members).toHaveLength(1);
    });
  }
});
