// Safety numbers: one per pair of people, whatever devices they have and
// whatever the epoch; any other identity key gives another number.
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toB64 } from '../../../lib/bytes.ts';
import { OwnIdentity } from '../../../lib/background/identity/own-identity.ts';
import { readSafetyNumberQr, safetyNumber, safetyNumberQr } from '../../../lib/background/identity/safety-number.ts';
import { qrDrawing } from '../../../lib/view/qr-path.ts';
import { freshStore } from './support.ts';

const key = () => ed25519.getPublicKey(ed25519.utils.randomSecretKey());

describe('safety number', () => {
  it('is 60 digits in groups of five, the same for both people', () => {
    const a = key();
    const b = key();
    const n = safetyNumber(a, b);
    expect(n).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(safetyNumber(b, a)).toBe(n);
  });

  it('changes when either identity key changes (a swapped key cannot keep the number)', () => {
    const a = key();
    const b = key();
    const n = safetyNumber(a, b);
    expect(safetyNumber(a, key())).not.toBe(n);
    expect(safetyNumber(key(), b)).not.toBe(n);
    const flipped = b.slice();
    flipped[31] = flipped[31]! ^ 1;
    expect(safetyNumber(a, flipped)).not.toBe(n);
  });

  it('does not change when a person adds or removes a device', async () => {
    const { db, vault } = await freshStore();
    const alice = await OwnIdentity.ensure(db, vault);
    const bob = key();
    const before = safetyNumber(alice.identityPublicKey, bob);
    const phone = toB64(key());
    await alice.signRosterWith({ deviceKey: phone, name: 'Phone', addedAt: 1 });
    expect(safetyNumber(alice.identityPublicKey, bob)).toBe(before);
    await alice.removeFromRoster(phone);
    expect(safetyNumber(alice.identityPublicKey, bob)).toBe(before);
  });

  it('fits a QR code and reads back; anything else is not a safety number', () => {
    const n = safetyNumber(key(), key());
    const payload = safetyNumberQr(n);
    expect(readSafetyNumberQr(payload)).toBe(n);
    expect(qrDrawing(payload).size).toBeGreaterThan(0);
    expect(readSafetyNumberQr('microchat:safety:1:123')).toBeNull();
    expect(readSafetyNumberQr('microchat:join?r=x')).toBeNull();
    expect(readSafetyNumberQr(payload.replace(/^microchat/, 'other'))).toBeNull();
  });
});
