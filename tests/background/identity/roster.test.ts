// Rosters: who may sign them, what a replay of an older one gets, and
// malformed fields. Attacker cases first.
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes, toB64 } from '../../../lib/bytes.ts';
import { parseRoster } from '../../../lib/background/identity/person-proof.ts';
import { newerRoster, rosterBytes, rosterHas, signRoster, verifyRoster, type RosterDevice } from '../../../lib/background/identity/roster.ts';
import { leafBindingBytes } from '../../../lib/background/identity/leaf-binding.ts';

const device = (name: string, addedAt = 1000): RosterDevice => ({ deviceKey: toB64(ed25519.getPublicKey(ed25519.utils.randomSecretKey())), name, addedAt });

function person() {
  const secret = ed25519.utils.randomSecretKey();
  return { secret, pub: ed25519.getPublicKey(secret), personId: randomBytes(16) };
}

describe('roster signatures (attacker first)', () => {
  it('rejects a roster signed by another identity key', () => {
    const alice = person();
    const mallory = person();
    const forged = signRoster(mallory.secret, alice.personId, 2, [device('Firefox on Linux')]);
    expect(verifyRoster(alice.pub, alice.personId, forged)).toBe(false);
  });

  it('rejects a roster moved to another personId', () => {
    const alice = person();
    const r = signRoster(alice.secret, alice.personId, 1, [device('Chrome')]);
    expect(verifyRoster(alice.pub, randomBytes(16), r)).toBe(false);
  });

  it('rejects any change after signing: a device added, a name, a version, an address', () => {
    const alice = person();
    const r = signRoster(alice.secret, alice.personId, 3, [device('Chrome')]);
    expect(verifyRoster(alice.pub, alice.personId, r)).toBe(true);
    expect(verifyRoster(alice.pub, alice.personId, { ...r, devices: [...r.devices, device('Evil')] })).toBe(false);
    expect(verifyRoster(alice.pub, alice.personId, { ...r, devices: [{ ...r.devices[0]!, name: 'Other' }] })).toBe(false);
    expect(verifyRoster(alice.pub, alice.personId, { ...r, version: 4 })).toBe(false);
    const addressed = { ...r, devices: [{ ...r.devices[0]!, address: { accountId: 'a1', welcomeMailboxId: 'm1' } }] };
    expect(verifyRoster(alice.pub, alice.personId, addressed)).toBe(false);
  });

  it('does not accept a leaf-binding signature as a roster signature (domain separation)', () => {
    const alice = person();
    const r = signRoster(alice.secret, alice.personId, 1, [device('Chrome')]);
    const body = rosterBytes(alice.personId, 1, r.devices);
    const leaf = leafBindingBytes(alice.personId, body);
    const sig = ed25519.sign(leaf, alice.secret);
    expect(verifyRoster(alice.pub, alice.personId, { ...r, sig: toB64(sig) })).toBe(false);
    expect(new TextDecoder().decode(body.subarray(0, 19))).toBe('MicroChat roster v1');
  });

  it('rejects duplicate devices, empty rosters and a malformed signature without throwing', () => {
    const alice = person();
    const d = device('Chrome');
    const dup = signRoster(alice.secret, alice.personId, 1, [d, d]);
    expect(verifyRoster(alice.pub, alice.personId, dup)).toBe(false);
    const empty = signRoster(alice.secret, alice.personId, 1, []);
    expect(verifyRoster(alice.pub, alice.personId, empty)).toBe(false);
    const r = signRoster(alice.secret, alice.personId, 1, [d]);
    expect(verifyRoster(alice.pub, alice.personId, { ...r, sig: 'AAAA' })).toBe(false);
    expect(verifyRoster(alice.pub, alice.personId, { ...r, devices: [{ ...d, deviceKey: 'short' }] })).toBe(false);
    expect(verifyRoster(new Uint8Array(31), alice.personId, r)).toBe(false);
  });
});

describe('newest roster wins', () => {
  it('ignores a replayed older roster (a removed device replaying the one that listed it)', () => {
    const alice = person();
    const phone = device('Phone');
    const laptop = device('Laptop');
    const v1 = signRoster(alice.secret, alice.personId, 1, [laptop, phone]);
    const v2 = signRoster(alice.secret, alice.personId, 2, [laptop]);
    const kept = newerRoster(newerRoster(undefined, v1, alice.personId), v2, alice.personId);
    expect(kept).toBe(v2);
    expect(newerRoster(kept, v1, alice.personId)).toBe(v2);
    expect(rosterHas(newerRoster(kept, v1, alice.personId), phone.deviceKey)).toBe(false);
  });

  it('orders two rosters of the same version the same way for every receiver', () => {
    const alice = person();
    const a = signRoster(alice.secret, alice.personId, 5, [device('A')]);
    const b = signRoster(alice.secret, alice.personId, 5, [device('B')]);
    expect(newerRoster(a, b, alice.personId)).toBe(newerRoster(b, a, alice.personId));
  });
});

describe('parseRoster (strict)', () => {
  const good = (): Record<string, unknown> => {
    const alice = person();
    return JSON.parse(JSON.stringify(signRoster(alice.secret, alice.personId, 1, [device('Chrome')]))) as Record<string, unknown>;
  };

  it('reads a roster that went through JSON', () => {
    expect(parseRoster(good())).not.toBeNull();
  });

  it.each([
    ['an extra field', (r: Record<string, unknown>) => ({ ...r, extra: 1 })],
    ['version 0', (r: Record<string, unknown>) => ({ ...r, version: 0 })],
    ['a fractional version', (r: Record<string, unknown>) => ({ ...r, version: 1.5 })],
    ['a short signature', (r: Record<string, unknown>) => ({ ...r, sig: 'AAAA' })],
    ['no devices', (r: Record<string, unknown>) => ({ ...r, devices: [] })],
    ['33 devices', (r: Record<string, unknown>) => ({ ...r, devices: Array.from({ length: 33 }, () => device('x')) })],
    ['a device with a 31-byte key', (r: Record<string, unknown>) => ({ ...r, devices: [{ deviceKey: toB64(new Uint8Array(31)), name: 'x', addedAt: 1 }] })],
    ['a device with an empty name', (r: Record<string, unknown>) => ({ ...r, devices: [{ ...device('x'), name: ' ' }] })],
    ['a device with a 65-character name', (r: Record<string, unknown>) => ({ ...r, devices: [{ ...device('x'), name: 'n'.repeat(65) }] })],
    ['a device with an extra field', (r: Record<string, unknown>) => ({ ...r, devices: [{ ...device('x'), admin: true }] })],
    ['a negative addedAt', (r: Record<string, unknown>) => ({ ...r, devices: [{ ...device('x'), addedAt: -1 }] })],
    ['an address with an extra field', (r: Record<string, unknown>) => ({ ...r, devices: [{ ...device('x'), address: { accountId: 'a', welcomeMailboxId: 'b', x: 1 } }] })],
    ['an address with a bad id', (r: Record<string, unknown>) => ({ ...r, devices: [{ ...device('x'), address: { accountId: 'a/b', welcomeMailboxId: 'b' } }] })],
    ['the same device twice', (r: Record<string, unknown>) => {
      const d = device('x');
      return { ...r, devices: [d, d] };
    }],
    ['an array', () => []],
    ['null', () => null],
  ])('rejects %s', (_, change) => {
    expect(parseRoster(change(good()))).toBeNull();
  });
});
