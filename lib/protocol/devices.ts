/**
 * Our own devices as the settings show them, and removing one
 * (lib/background/device-removal.ts). Part of the channel contract
 * (channel.ts re-exports it and merges `DeviceRequests` into its requests).
 */

/** One device in our current roster. */
export interface OwnDeviceView {
  /** base64url of the device's key: what `devices.remove` names. */
  deviceKey: string;
  /** "Firefox on Linux". */
  name: string;
  /** When it was added to the account, ms since the epoch. */
  addedAt: number;
  thisDevice: boolean;
  /** Its removal started and has not finished (it resumes by itself). */
  removing: boolean;
}

/** What removing a device did. */
export interface DeviceRemovalView {
  /** Conversations it was removed from. */
  removedFrom: number;
  /** Names of the conversations where our role does not allow removing it: it stays a member there. */
  notRemovedFrom: string[];
  /** Nobody can add it anywhere through the relay's directory any more. */
  keyPackagesRetired: boolean;
}

export interface DeviceRequests {
  /** The devices of our current roster (this one first). */
  'devices.list': { params: null; result: { devices: OwnDeviceView[] } };
  /** Remove one of our other devices from every conversation and from the account. */
  'devices.remove': { params: { deviceKey: string }; result: DeviceRemovalView };
}

/** A device key from a view: base64url of 32 bytes. */
export const DEVICE_KEY_SHAPE = /^[A-Za-z0-9_-]{43}$/;
