/**
 * Our own identity on this device: the person's identity key and roster
 * (identity-key.ts) with this device's key (device-key.ts). Made at account
 * creation, or at the first unlock of an account made before identities
 * (`ensure`). Everything another part needs from it goes through here:
 * the `person` claim for a leaf, a new roster when a device is linked or
 * removed, and the bundle a new device receives at linking.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toB64 } from '../../bytes.ts';
import type { Database } from '../db.ts';
import type { DeviceAddress } from '../device-address.ts';
import type { Vault } from '../vault.ts';
import { createDeviceKey, loadDeviceKey, type DeviceKey } from './device-key.ts';
import { thisDeviceName } from './device-name.ts';
import { loadIdentity, newIdentitySecret, saveIdentity, type IdentityKey } from './identity-key.ts';
import { signLeafBinding } from './leaf-binding.ts';
import { readLinkBundle, type LinkBundle } from './link-bundle.ts';
import type { PersonClaim } from './person-proof.ts';
import { newerRoster, signRoster, verifyRoster, type Roster, type RosterDevice } from './roster.ts';

const RETIRE_LABEL = 'MicroChat key-package retire v1';

/** What `OwnIdentity.read` found: either may be missing (a new account, or one made before identities). */
export interface KeptKeys {
  device: DeviceKey | undefined;
  identity: IdentityKey | undefined;
}

export class OwnIdentity {
  private readonly rosterListeners: (() => void)[] = [];

  private constructor(
    private readonly db: Database,
    private readonly vault: Vault,
    private identity: IdentityKey,
    private readonly device: DeviceKey,
  ) {}

  /** Read our device key and identity, both at once, as they are (only reads; `ensure` makes what is missing). */
  static async read(db: Database, vault: Vault): Promise<KeptKeys> {
    const [device, identity] = await Promise.all([loadDeviceKey(db, vault), loadIdentity(db, vault)]);
    return { device, identity };
  }

  /** Load ours (or take what `read` found); make what is missing (a new identity lists this device alone, version 1). */
  static async ensure(db: Database, vault: Vault, deviceName = thisDeviceName(), now = Date.now(), kept = OwnIdentity.read(db, vault)): Promise<OwnIdentity> {
    const found = await kept;
    const device = found.device ?? (await createDeviceKey(db, vault));
    let identity = found.identity;
    if (identity === undefined) {
      const { personId, secret } = newIdentitySecret();
      const roster = signRoster(secret, personId, 1, [{ deviceKey: toB64(device.publicKey), name: deviceName, addedAt: now }]);
      await saveIdentity(db, vault, { personId, secret, roster });
      identity = (await loadIdentity(db, vault))!;
    }
    return new OwnIdentity(db, vault, identity, device);
  }

  get personId(): string {
    return toB64(this.identity.personId);
  }

  /** base64url of the identity public key: who we are to the others. */
  get identityKey(): string {
    return toB64(this.identity.publicKey);
  }

  get identityPublicKey(): Uint8Array {
    return this.identity.publicKey;
  }

  get deviceKey(): string {
    return toB64(this.device.publicKey);
  }

  get roster(): Roster {
    return this.identity.roster;
  }

  /** Our claim for our leaf in one group (the fields of the `person` app message). */
  claimFor(groupId: Uint8Array, leafSignatureKey: Uint8Array): PersonClaim {
    return {
      personId: this.personId,
      identityKey: this.identityKey,
      deviceKey: this.deviceKey,
      leafSig: toB64(signLeafBinding(this.device.secret, groupId, leafSignatureKey)),
      roster: this.identity.roster,
    };
  }

  /** Called after this device signs a new roster or takes a linked identity (the chat announces it everywhere). */
  onRosterChange(listener: () => void): void {
    this.rosterListeners.push(listener);
  }

  /**
   * A roster with `newDevice` added (or its entry replaced, same device key), version + 1; kept as ours.
   * `ownAddress`: where this device is reached, written into its own entry (a first device has none
   * until it links another, and "Message" to the person reaches only the devices whose address is listed).
   */
  async signRosterWith(newDevice: RosterDevice, ownAddress?: DeviceAddress): Promise<Roster> {
    const others = this.identity.roster.devices
      .filter((d) => d.deviceKey !== newDevice.deviceKey)
      .map((d) => (ownAddress !== undefined && d.deviceKey === this.deviceKey ? { ...d, address: { ...ownAddress } } : d));
    return this.resign([...others, newDevice]);
  }

  /** A roster without that device, version + 1; kept as ours. Our own device cannot be removed here. */
  async removeFromRoster(deviceKey: string): Promise<Roster> {
    if (deviceKey === this.deviceKey) throw new RangeError('this device cannot remove itself from the roster');
    return this.resign(this.identity.roster.devices.filter((d) => d.deviceKey !== deviceKey));
  }

  /**
   * A roster of ours that one of our other devices signed (seen in a
   * conversation): kept when it is valid and newer, so the next roster this
   * device signs builds on it instead of reusing its version number.
   * Returns whether it was taken.
   */
  async adoptRoster(roster: Roster): Promise<boolean> {
    const { personId, secret, publicKey } = this.identity;
    if (!verifyRoster(publicKey, personId, roster) || newerRoster(this.identity.roster, roster, personId) !== roster) return false;
    if (roster === this.identity.roster) return false;
    await saveIdentity(this.db, this.vault, { personId, secret, roster });
    this.identity = { ...this.identity, roster };
    return true;
  }

  /**
   * The secret that retires the KeyPackages of a device's relay account
   * (device-removal.ts): derived from the identity key, so every device of
   * the person, and nobody else, can compute it for any of them. Bound to
   * the account id, so the relay cannot tie two of the person's accounts.
   */
  retireSecretFor(accountId: string): Uint8Array {
    return hkdf(sha256, this.identity.secret, undefined, new TextEncoder().encode(`${RETIRE_LABEL}\0${accountId}`), 32);
  }

  /** For the linking part to encrypt and send: the identity private key, personId and roster. */
  exportForLink(): LinkBundle {
    return { v: 1, personId: this.personId, identitySecret: toB64(this.identity.secret), roster: this.identity.roster };
  }

  /**
   * On a new device: take the person's identity from the bundle in place of
   * the one made at sign-up. Throws LinkBundleError for a bundle that does
   * not check (link-bundle.ts); nothing changes then.
   */
  async importFromLink(bundle: unknown): Promise<void> {
    const { personId, secret, roster } = readLinkBundle(bundle);
    await saveIdentity(this.db, this.vault, { personId, secret, roster });
    this.identity = (await loadIdentity(this.db, this.vault))!;
    this.changed();
  }

  private async resign(devices: RosterDevice[]): Promise<Roster> {
    const { personId, secret } = this.identity;
    const roster = signRoster(secret, personId, this.identity.roster.version + 1, devices);
    await saveIdentity(this.db, this.vault, { personId, secret, roster });
    this.identity = { ...this.identity, roster };
    this.changed();
    return roster;
  }

  private changed(): void {
    for (const l of this.rosterListeners) l();
  }
}
