/**
 * What the chat service needs of the device directory (app/directory.ts):
 * our own address, the relay session that claims KeyPackages, and the
 * private parts of our published KeyPackages (for Welcomes).
 */
import type { DeviceAddress } from './device-address.ts';
import type { KeyPackageStore } from './key-package-store.ts';

export interface ChatDirectory {
  /** This device's address (its Welcome mailbox is made first if missing). */
  address(): Promise<DeviceAddress>;
  /** The relay session token while valid (claiming a KeyPackage names the claimer's account). */
  session(): string | undefined;
  /** Our KeyPackages' private parts; undefined while locked. */
  keyPackages(): KeyPackageStore | undefined;
  /** A Welcome used one of our packages: top the supply up. */
  used(): void;
}
