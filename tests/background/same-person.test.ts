/**
 * identity/same-person.ts: who counts as the same person for rich-message
 * authorship (R-RICH-2/3), and rich-record.ts applying it. The proofs are
 * written by hand: what `checkClaim` found is the `signed` flag, and the
 * roster decides whether it still holds (person-proof.ts `isVouched`).
 */
import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../lib/background/chat-store.ts';
import type { ProofRecord } from '../../lib/background/identity/member-proofs.ts';
import type { Roster } from '../../lib/background/identity/roster.ts';
import { personOf, samePerson, type PersonContext } from '../../lib/background/identity/same-person.ts';
import { applyClaim, type RichClaim } from '../../lib/background/rich-record.ts';

const roster = (...deviceKeys: string[]): Roster => ({ version: 1, devices: deviceKeys.map((deviceKey) => ({ deviceKey, name: deviceKey, addedAt: 0 })), sig: 'sig' });
const proof = (identityKey: string, deviceKey: string, signed = true) => ({ personId: `p-${identityKey}`, identityKey, deviceKey, signed });

// We are Alice on device A1 (member "me"); "a2" is our other device. Bob has two devices, b1 and b2.
// "mallory" claims our identity with a device our roster does not list; "forger" claims Bob's with a bad signature.
const proofs: ProofRecord = {
  proofs: {
    a2: proof('alice', 'dev-a2'),
    b1: proof('bob', 'dev-b1'),
    b2: proof('bob', 'dev-b2'),
    carol: proof('carol', 'dev-c'),
    mallory: proof('alice', 'dev-m'),
    forger: proof('bob', 'dev-f', false),
  },
  rosters: { alice: roster('dev-a1', 'dev-a2'), bob: roster('dev-b1', 'dev-b2', 'dev-f'), carol: roster('dev-c') },
};
const ctx: PersonContext = { proofs, own: { identityKey: 'alice', roster: roster('dev-a1', 'dev-a2') }, ownMemberId: 'me' };

describe('samePerson', () => {
  it('our own devices are us; another person’s devices are that person', () => {
    expect(samePerson(ctx, 'me', 'a2')).toBe(true);
    expect(samePerson(ctx, 'a2', 'me')).toBe(true);
    expect(samePerson(ctx, 'b1', 'b2')).toBe(true);
    expect(samePerson(ctx, 'me', 'me')).toBe(true);
  });

  it('other people, and members whose claim does not hold, are not', () => {
    expect(samePerson(ctx, 'me', 'b1')).toBe(false);
    expect(samePerson(ctx, 'b1', 'carol')).toBe(false);
    // Claims our identity, not in our roster: nobody's, never ours.
    expect(personOf(ctx, 'mallory')).toBeUndefined();
    expect(samePerson(ctx, 'me', 'mallory')).toBe(false);
    expect(samePerson(ctx, 'a2', 'mallory')).toBe(false);
    // Listed in Bob's roster but its signature did not hold.
    expect(samePerson(ctx, 'b1', 'forger')).toBe(false);
    // No proof at all (a member gone, its proof pruned, or one that never sent one).
    expect(samePerson(ctx, 'b1', 'stranger')).toBe(false);
    expect(samePerson(ctx, '', '')).toBe(false);
  });

  it('a device our newer roster dropped is no longer us', () => {
    const dropped: PersonContext = { ...ctx, own: { identityKey: 'alice', roster: { ...roster('dev-a1'), version: 2 } } };
    expect(samePerson(dropped, 'me', 'a2')).toBe(false);
  });

  it('without an identity loaded, each member is only itself', () => {
    const bare: PersonContext = { ...ctx, own: undefined };
    expect(samePerson(bare, 'me', 'a2')).toBe(false);
    expect(samePerson(bare, 'me', 'me')).toBe(true);
  });
});

describe('R-RICH-2/3 by person (applyClaim with samePerson)', () => {
  const same = (a: string, b: string): boolean => samePerson(ctx, a, b);
  const target: MessageRecord = {
    id: 'm1',
    conversationId: 'c',
    seq: 1,
    kind: 'text',
    text: 'hello',
    sender: { memberId: 'b1', displayName: 'Bob', self: false },
    sentAt: 1,
    status: 'received',
    reactions: [{ id: 'r1', memberId: 'b2', displayName: 'Bob', self: false, emoji: '👍', at: 1 }],
  };
  const claim = (from: string, intent: RichClaim['intent']): RichClaim => ({ id: `x-${from}`, intent, from: { memberId: from, displayName: from, self: false }, at: 2 });

  it('another device of the sender edits and deletes; another person or an unvouched claim does not', () => {
    expect(applyClaim(target, claim('b2', { kind: 'edit', original: 'm1', text: 'hi' }), same)).toMatchObject({ text: 'hi', edited: true });
    expect(applyClaim(target, claim('b2', { kind: 'delete', original: 'm1' }), same)).toMatchObject({ deleted: true });
    for (const who of ['carol', 'forger', 'me']) {
      expect(applyClaim(target, claim(who, { kind: 'edit', original: 'm1', text: 'hi' }), same)).toBeNull();
      expect(applyClaim(target, claim(who, { kind: 'delete', original: 'm1' }), same)).toBeNull();
    }
    // Without the person rule, only the same leaf.
    expect(applyClaim(target, claim('b2', { kind: 'edit', original: 'm1', text: 'hi' }))).toBeNull();
  });

  it('another device of who reacted takes it back and does not react twice; nobody else can take it back', () => {
    expect(applyClaim(target, claim('b1', { kind: 'unreact', reaction: 'r1', target: 'm1' }), same)?.reactions).toBeUndefined();
    expect(applyClaim(target, claim('b1', { kind: 'reaction', target: 'm1', emoji: '👍' }), same)).toBeNull();
    expect(applyClaim(target, claim('carol', { kind: 'unreact', reaction: 'r1', target: 'm1' }), same)).toBeNull();
    expect(applyClaim(target, claim('forger', { kind: 'unreact', reaction: 'r1', target: 'm1' }), same)).toBeNull();
  });
});
