/**
 * device-add-plan.ts: which devices an add adds, which are there already,
 * and which stranded leaves (an earlier add whose Welcome was lost) it removes.
 */
import { describe, expect, it } from 'vitest';
import { planAdds, recordIntent, recordWelcomes, type PlanInput } from '../../lib/background/device-add-plan.ts';
import type { Roster } from '../../lib/background/identity/roster.ts';

const id = (c: string): string => c.repeat(21) + 'A';
const bob = { accountId: id('b'), welcomeMailboxId: id('B') };
const phone = { accountId: id('p'), welcomeMailboxId: id('P') };
const ours: Roster = { version: 1, devices: [{ deviceKey: 'dev-a', name: 'A', addedAt: 0 }, { deviceKey: 'dev-p', name: 'Phone', addedAt: 0, address: phone }], sig: 's' };
const base: PlanInput = { added: undefined, members: new Set(['me']), proofs: {}, own: { identityKey: 'alice', roster: ours } };

describe('planAdds', () => {
  it('adds a device never added, or whose earlier leaf is gone', () => {
    expect(planAdds([bob], base)).toEqual({ add: [bob], present: [], stranded: [] });
    expect(planAdds([bob], { ...base, added: [{ accountId: bob.accountId, memberId: 'gone', welcomeKept: true }] })).toEqual({ add: [bob], present: [], stranded: [] });
  });

  it('a leaf of the device with its Welcome kept: present; without: stranded, and the device is added again', () => {
    const members = new Set(['me', 'b1']);
    expect(planAdds([bob], { ...base, members, added: [{ accountId: bob.accountId, memberId: 'b1', welcomeKept: true }] })).toEqual({ add: [], present: [bob], stranded: [] });
    expect(planAdds([bob], { ...base, members, added: [{ accountId: bob.accountId, memberId: 'b1' }] })).toEqual({ add: [bob], present: [], stranded: ['b1'] });
  });

  it('our own device proven here by our roster is present; another person’s roster naming an address proves nothing', () => {
    const members = new Set(['me', 'p1', 'm1']);
    const proofs = {
      proofs: { p1: { personId: 'pa', identityKey: 'alice', deviceKey: 'dev-p', signed: true }, m1: { personId: 'pm', identityKey: 'mallory', deviceKey: 'dev-m', signed: true } },
      rosters: { alice: ours, mallory: { version: 1, devices: [{ deviceKey: 'dev-m', name: 'M', addedAt: 0, address: bob }], sig: 's' } },
    };
    expect(planAdds([phone, bob], { ...base, members, proofs })).toEqual({ add: [bob], present: [phone], stranded: [] });
  });
});

describe('the record', () => {
  it('keeps intents of leaves in the group and the new one; marks Welcomes kept and drops leaves gone', () => {
    const members = new Set(['me', 'b1']);
    const a = recordIntent([{ accountId: bob.accountId, memberId: 'b1' }, { accountId: phone.accountId, memberId: 'gone' }], members, bob.accountId, 'b2');
    expect(a).toEqual([{ accountId: bob.accountId, memberId: 'b1' }, { accountId: bob.accountId, memberId: 'b2' }]);
    expect(recordWelcomes(a, [bob.accountId], new Set(['me', 'b2']))).toEqual([{ accountId: bob.accountId, memberId: 'b2', welcomeKept: true }]);
  });
});
