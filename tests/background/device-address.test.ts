/** Device addresses come from views and other members: exactly two relay ids, nothing else. */
import { describe, expect, it } from 'vitest';
import { DeviceAddressError, parseDeviceAddress, sameDevice } from '../../lib/background/device-address.ts';
import { randomId } from '../../lib/bytes.ts';

describe('parseDeviceAddress', () => {
  const good = { accountId: randomId(), welcomeMailboxId: randomId() };

  it('accepts two relay ids and returns a copy', () => {
    const parsed = parseDeviceAddress(good);
    expect(parsed).toEqual(good);
    expect(parsed).not.toBe(good);
    expect(sameDevice(parsed, good)).toBe(true);
    expect(sameDevice(parsed, { ...good, welcomeMailboxId: randomId() })).toBe(false);
  });

  it.each([
    ['null', null],
    ['an array', [good.accountId, good.welcomeMailboxId]],
    ['a string', good.accountId],
    ['a missing field', { accountId: good.accountId }],
    ['an extra field', { ...good, name: 'x' }],
    ['a number id', { ...good, accountId: 5 }],
    ['a short id', { ...good, accountId: 'abc' }],
    ['an id with padding bits set', { ...good, welcomeMailboxId: 'A'.repeat(21) + 'B' }],
    ['an id with a path', { ...good, welcomeMailboxId: '../' + 'A'.repeat(19) }],
  ])('refuses %s', (_, value) => {
    expect(() => parseDeviceAddress(value)).toThrow(DeviceAddressError);
  });
});
