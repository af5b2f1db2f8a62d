// The queue capability on the client: derived from the epoch with the MLS
// exporter (the same for every member, new with every Commit, unknown to a
// removed member), hashed exactly as the relay hashes it; and the rules for
// the mailbox ids members announce to each other.
import { describe, expect, it } from 'vitest';
import { hashCapability } from '../../relay/delivery.ts';
import { createCommit, processMessage, encodeMessage } from '../../lib/mls/group.ts';
import { ProposalType } from '../../lib/mls/group/proposals.ts';
import { encodeAppMessage, parseAppMessage } from '../../lib/background/app-messages.ts';
import { capabilityHash, queueCapability } from '../../lib/background/queue-capability.ts';
import { mailboxesOfRemoved, pruneMailboxes, recordAnnouncement, removedLeaves, someoneJoined } from '../../lib/background/member-mailboxes.ts';
import { makeGroup } from '../mls/group-fixture.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('queue capability', () => {
  it('is the same for every member of an epoch, new after a removal, and the removed member cannot follow', async () => {
    const [a, b, c] = await makeGroup(1, 3);
    const c0 = queueCapability(a!);
    expect(c0).toHaveLength(32);
    expect(hex(queueCapability(b!))).toBe(hex(c0));
    expect(hex(queueCapability(c!))).toBe(hex(c0));
    const removal = await createCommit(a!, { proposals: [{ proposalType: ProposalType.remove, remove: { removed: 2 as never } }] });
    const b1 = (await processMessage(b!, encodeMessage(removal.commit))).state;
    const c1 = await processMessage(c!, encodeMessage(removal.commit));
    expect(c1.kind === 'commit' && c1.removed).toBe(true);
    const next = queueCapability(removal.state);
    expect(hex(next)).not.toBe(hex(c0));
    expect(hex(queueCapability(b1))).toBe(hex(next));
  });

  it('is hashed with the queue id exactly as the relay hashes it', () => {
    const queue = new Uint8Array(32).fill(1);
    const cap = new Uint8Array(32).fill(2);
    expect(capabilityHash(queue, cap)).toBe(hashCapability(queue, cap));
    expect(capabilityHash(new Uint8Array(32).fill(3), cap)).not.toBe(hashCapability(queue, cap));
  });
});

describe('member mailboxes', () => {
  const MB = (n: number): string => String.fromCharCode(65 + n).repeat(22);

  it('the mailbox announcement parses strictly', () => {
    const m = { v: 1 as const, t: 'mailbox' as const, id: 'x1', at: 5, mailboxId: MB(0) };
    expect(parseAppMessage(encodeAppMessage(m))).toEqual(m);
    for (const bad of [{ ...m, mailboxId: 'short' }, { ...m, mailboxId: 7 }, { ...m, mailboxId: `${MB(0)}A` }, { ...m, mailboxId: undefined }]) {
      expect(parseAppMessage(new TextEncoder().encode(JSON.stringify(bad)))).toBeNull();
    }
  });

  it('an id another leaf claims is refused; a removed leaf\'s id is unregistered unless a remaining leaf claims it', () => {
    let map = recordAnnouncement(undefined, 1, MB(1))!;
    map = recordAnnouncement(map, 2, MB(2))!;
    expect(recordAnnouncement(map, 3, MB(1))).toBeNull();
    map = recordAnnouncement(map, 2, MB(3))!;
    expect(map).toEqual({ 1: MB(1), 2: MB(3) });
    expect(mailboxesOfRemoved(map, [2])).toEqual([MB(3)]);
    expect(mailboxesOfRemoved({ 1: MB(1), 2: MB(1) }, [2])).toEqual([]);
    expect(mailboxesOfRemoved(undefined, [1])).toEqual([]);
    expect(pruneMailboxes(map, [2])).toEqual({ 1: MB(1) });
  });

  it('removed leaves and joins are read from the two epochs', async () => {
    const [a] = await makeGroup(1, 3);
    const removal = await createCommit(a!, { proposals: [{ proposalType: ProposalType.remove, remove: { removed: 1 as never } }] });
    expect(removedLeaves(a!, removal.state)).toEqual([1]);
    expect(someoneJoined(a!, removal.state)).toBe(false);
    expect(someoneJoined(removal.state, a!)).toBe(true);
  });
});
