/**
 * People as the views see them (the members dialog): a person's devices in a
 * conversation, their verified mark and safety number. Part of the channel
 * contract (channel.ts re-exports it); nothing here is secret.
 */

/** How others reach one device without a link (lib/background/device-address.ts, again here for the views). */
export interface DeviceAddress {
  accountId: string;
  welcomeMailboxId: string;
}

/** One device of a person in a conversation: a leaf of the group. */
export interface PersonDeviceView {
  memberId: string;
  /** "Firefox on Linux" from the person's roster; the member's label when they proved no identity. */
  name: string;
  /** When the person added the device (ms since the epoch), from their roster. */
  addedAt?: number;
  address?: DeviceAddress;
}

/** Verified: the safety number was compared; changed: their identity or devices changed since. */
export type VerificationView = 'unverified' | 'verified' | 'changed';

/**
 * A person in a conversation: the devices their identity key vouches for
 * (docs/identity.md). A member without a valid proof is a person of their
 * own, keyed 'leaf:' + memberId.
 */
export interface PersonView {
  /** base64url identity key, or 'leaf:' + memberId when the member proved no identity. */
  personKey: string;
  displayName: string;
  /** Us, with our other devices (the same identity key as ours). */
  self: boolean;
  verification: VerificationView;
  /** 60 digits in groups of five, for people with an identity key other than ours. */
  safetyNumber?: string;
  devices: PersonDeviceView[];
}

/** What the QR code of a safety number holds: the digits, tagged so a scanner knows what it read. */
export const SAFETY_QR_PREFIX = 'microchat:safety:1:';
export function safetyNumberQrPayload(safetyNumber: string): string {
  return SAFETY_QR_PREFIX + safetyNumber.replace(/ /g, '');
}
