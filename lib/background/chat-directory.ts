/**
 * What the chat service needs of the device directory (app/directory.ts):
 * our own address, the relay session that claims KeyPackages, and the
 * private parts of our published KeyPackages (for Welcomes).
 */
import type { DeviceAddress } from './device-address.ts';

export interface ChatDirectory {
  /** This device's address (its Welcome mailbox is made first if missing). */
  address(): Promise<DeviceAddress>;
}
