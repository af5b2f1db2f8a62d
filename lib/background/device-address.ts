/**
 * How others reach one device without a link: its relay account (whose
 * KeyPackage directory entry they claim from) and its Welcome mailbox
 * (where they post the Welcome). Both are random relay ids; neither names a
 * person, and the address travels only inside encrypted MLS content.
 */

export interface DeviceAddress {
  accountId: string;
  welcomeMailboxId: string;
}

/** A relay id: 16 random bytes in base64url without padding (relay/encoding.ts ID_SHAPE). */
const RELAY_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export class DeviceAddressError extends Error {
  override readonly name = 'DeviceAddressError';
}

/** A device address from anywhere (a view, another member): exactly these two fields, each a relay id. */
export function parseDeviceAddress(value: unknown): DeviceAddress {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DeviceAddressError('a device address is an object');
  const keys = Object.keys(value);
  if (keys.length !== 2 || !keys.includes('accountId') || !keys.includes('welcomeMailboxId')) {
    throw new DeviceAddressError('a device address has exactly accountId and welcomeMailboxId');
  }
  const { accountId, welcomeMailboxId } = value as Record<string, unknown>;
  if (typeof accountId !== 'string' || !RELAY_ID.test(accountId)) throw new DeviceAddressError('accountId is not a relay id');
  if (typeof welcomeMailboxId !== 'string' || !RELAY_ID.test(welcomeMailboxId)) throw new DeviceAddressError('welcomeMailboxId is not a relay id');
  return { accountId, welcomeMailboxId };
}

/** Two addresses name the same device. */
export function sameDevice(a: DeviceAddress, b: DeviceAddress): boolean {
  return a.accountId === b.accountId && a.welcomeMailboxId === b.welcomeMailboxId;
}
