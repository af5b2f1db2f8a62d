// The fork check: members of one epoch share a tag, a forked state has another; untagged messages are
// never counted; a fork is confirmed only by FORK_CONFIRMATIONS undecryptable foreign-tagged messages in a row.
import { describe, expect, it } from 'vitest';
import { createCommit, sendApplicationMessage } from '../../../lib/mls/group.ts';
import { FORK_CONFIRMATIONS, ForkCounter, foreignTag, forkTagData } from '../../../lib/background/healing/fork-check.ts';
import { toB64 } from '../../../lib/bytes.ts';
import { makeGroup } from '../../mls/group-fixture.ts';

describe('fork check', () => {
  it('same tag for the members of an epoch; another for a fork of it', async () => {
    const [a, b] = await makeGroup(1, 2);
    expect(toB64(forkTagData(a!))).toBe(toB64(forkTagData(b!)));
    const fromA = await sendApplicationMessage(a!, new Uint8Array([1]), { authenticatedData: forkTagData(a!) });
    expect(foreignTag(fromA.message, b!)).toBe(false);
    // Both commit on their own: same epoch number, different secrets.
    const [ca, cb] = await Promise.all([createCommit(a!, { proposals: [] }), createCommit(b!, { proposals: [] })]);
    expect(ca.state.context.epoch).toBe(cb.state.context.epoch);
    const fromFork = await sendApplicationMessage(ca.state, new Uint8Array([2]), { authenticatedData: forkTagData(ca.state) });
    expect(foreignTag(fromFork.message, cb.state)).toBe(true);
    // Another epoch number, or no tag (an older client): says nothing.
    expect(foreignTag(fromFork.message, b!)).toBe(false);
    const untagged = await sendApplicationMessage(ca.state, new Uint8Array([3]));
    expect(foreignTag(untagged.message, cb.state)).toBe(false);
  });

  it('confirms only after enough undecryptable foreign messages in a row', () => {
    const f = new ForkCounter();
    for (let i = 1; i < FORK_CONFIRMATIONS; i++) expect(f.judged('x', true, false)).toBe(false);
    // One that decrypts in between starts over.
    expect(f.judged('x', false, true)).toBe(false);
    for (let i = 1; i < FORK_CONFIRMATIONS; i++) expect(f.judged('x', true, false)).toBe(false);
    expect(f.judged('x', true, false)).toBe(true);
    // Untagged failures (forged or old) never count; other conversations are apart.
    for (let i = 0; i < 5; i++) expect(f.judged('y', false, false)).toBe(false);
    expect(f.judged('x', true, false)).toBe(false);
  });
});
