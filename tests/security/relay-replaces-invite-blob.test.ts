// Attack: the relay answers an invite read with a blob of its choosing: the
// GroupInfo of a group it controls sealed under the link key (the worst case:
// the key leaked to it), or another invite's stored blob. The code pins the
// invite's verify key and the blob is bound to its invite id, so the joiner
// refuses either with a clear message and joins nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';
import { attackerGroupInfo, b64, codeParts, sealAsAttacker } from './support/invite-attacker.ts';

describe('the relay replaces an invite blob', () => {
  let relay: RelayProcess;
  let alice: Device;
  let carol: Device;
  /** What the hostile relay answers to Carol's next invite read, if anything. */
  let forged: Uint8Array | null = null;

  beforeAll(async () => {
    relay = await startRelay();
    // Carol's requests go through the relay's hands: it may rewrite any answer.
    const hostile: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (forged !== null && (init?.method ?? 'GET') === 'GET' && url.includes('/v1/invites/')) {
        return new Response(JSON.stringify({ ciphertext: b64(forged) }), { status: 200, headers: { 'content-type': 'application/json' } });
      }
      return fetch(input, init);
    };
    [alice, carol] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Carol', { fetch: hostile })]);
    await waitUntil(() => [alice, carol].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
  });
  afterAll(async () => {
    for (const d of [alice, carol]) d?.app.stop();
    await relay?.stop();
  });

  const refusedAndNothingJoined = async (link: string, groupId?: string): Promise<void> => {
    await expect(carol.app.handlers['invite.join']({ link })).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringMatching(/tampered with/),
    });
    if (groupId !== undefined) expect(carol.app.snapshot.conversations.map((c) => c.id)).not.toContain(groupId);
    expect(carol.app.snapshot.conversations.filter((c) => c.status === 'active' || c.status === 'joining')).toEqual([]);
  };

  it('a GroupInfo of the relay’s own group, sealed under the (leaked) link key, is refused', async () => {
    const { conversationId } = await alice.app.handlers['conversation.create']({ name: 'Trip' });
    const invite = await alice.app.handlers['invite.create']({ conversationId, mode: 'expiring', expiresInHours: 24 });
    const { inviteId, key } = codeParts(invite.link);
    const evil = await attackerGroupInfo();
    forged = sealAsAttacker(key, inviteId, evil.groupInfo);
    await refusedAndNothingJoined(invite.link, evil.groupId);
    forged = sealAsAttacker(key, inviteId, evil.groupInfo, ed25519.utils.randomSecretKey());
    await refusedAndNothingJoined(invite.link, evil.groupId);
    expect((await alice.app.handlers['conversation.get']({ conversationId })).members).toHaveLength(1);
  });

  it('another invite’s genuine blob served under this invite id is refused', async () => {
    const { conversationId: first } = await alice.app.handlers['conversation.create']({ name: 'First' });
    const { conversationId: second } = await alice.app.handlers['conversation.create']({ name: 'Second' });
    const one = await alice.app.handlers['invite.create']({ conversationId: first, mode: 'expiring', expiresInHours: 24 });
    const other = await alice.app.handlers['invite.create']({ conversationId: second, mode: 'expiring', expiresInHours: 24 });
    const stored = await (await fetch(`${relay.url}/v1/invites/${codeParts(other.link).inviteId}`)).json();
    forged = new Uint8Array(Buffer.from(String(stored.ciphertext), 'base64url'));
    await refusedAndNothingJoined(one.link, second);
    forged = null;
    // The untouched blob still works: the refusals were the forgeries, not the code.
    expect((await carol.app.handlers['invite.join']({ link: one.link })).conversationId).toBe(first);
  });
});
