/**
 * Our own devices in the settings, removing one (../device-removal.ts), and
 * this device's side of being removed: when one of our other devices
 * removes it (a Remove of our leaf by a leaf of our own identity, or our
 * roster without us), it remembers that (sealed, `secrets` /
 * `removed-from-account`), shows it, stops sending, retires
 * its own KeyPackages and leaves the person to wipe it (`account.delete`).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ChannelError, ErrorCode, type DeviceRemovalView, type OwnDeviceView } from '../../protocol/channel.ts';
import { DeviceRemoval } from '../device-removal.ts';
import { reportIfBug } from '../failure.ts';
import type { OwnIdentity } from '../identity/own-identity.ts';
import * as text from '../text.ts';
import { sessionExpired, type AppCore } from './core.ts';

const STORE = 'secrets';
const REMOVED = 'removed-from-account';
/** Between tries of a removal that could not go on (offline, a Commit still in flight). */
const RETRY_MS = 3000;

export class OwnDevices {
  private removal: DeviceRemoval | undefined;
  private removing: string | undefined;
  private registeredFor: string | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly core: AppCore) {}

  private own(): OwnIdentity {
    const own = this.core.chat?.people?.own;
    if (own === undefined) throw new ChannelError(ErrorCode.Forbidden, text.SIGNED_OUT);
    return own;
  }

  private job(): DeviceRemoval {
    const { chat, vault } = this.core;
    if (chat === undefined || vault === undefined) throw new ChannelError(ErrorCode.Forbidden, text.SIGNED_OUT);
    this.removal ??= new DeviceRemoval({ db: this.core.deps.db, vault, own: this.own(), chat, api: () => this.core.api });
    return this.removal;
  }

  /** The chat service opened (unlock, restart): show a removal that happened, go on with one under way. */
  async opened(): Promise<void> {
    this.removal = undefined;
    clearTimeout(this.retry);
    // Both read at once (a wake waits for them); a job read for a removed device is left unused.
    const [removedRecord, removing] = await Promise.all([this.core.vault === undefined ? undefined : this.core.deps.db.get(STORE, REMOVED), this.job().pending()]);
    if (removedRecord !== undefined) return this.removed();
    this.removing = removing;
    this.own().onRosterChange(() => this.online());
    this.online();
  }

  /** This worker stops: the job record stays for the next one to resume. */
  stop(): void {
    clearTimeout(this.retry);
    this.removal?.stop();
  }

  /** The connection is up: register our retire hash (again after a linked identity), resume a removal. */
  online(): void {
    if (this.core.chat === undefined || this.core.snapshot.removedFromAccount === true) return;
    void this.registerRetireHash().catch((err: unknown) => reportIfBug('registering the retire hash', err));
    if (this.removing !== undefined) this.resumeSoon(0);
  }

  list(): { devices: OwnDeviceView[] } {
    const own = this.own();
    const devices = own.roster.devices.map((d) => ({
      deviceKey: d.deviceKey,
      name: d.name,
      addedAt: d.addedAt,
      thisDevice: d.deviceKey === own.deviceKey,
      removing: d.deviceKey === this.removing,
    }));
    return { devices: [...devices.filter((d) => d.thisDevice), ...devices.filter((d) => !d.thisDevice)] };
  }

  async remove(deviceKey: string): Promise<DeviceRemovalView> {
    this.refuseWhenRemoved();
    this.removing = deviceKey;
    try {
      const r = await this.job().remove(deviceKey);
      this.removing = undefined;
      return r;
    } finally {
      this.publish();
    }
  }

  /** One of our own devices removed this one. */
  removed(): void {
    const core = this.core;
    if (core.snapshot.removedFromAccount === true) return;
    core.update({ ...core.state, removedFromAccount: true });
    void this.remember().catch((err: unknown) => reportIfBug('remembering the removal', err));
    // Nothing more goes out (sends refuse, background Commits stop). It keeps receiving: the Removes of its
    // other conversations still have to come in, so their group states are dropped here as well.
    core.chat?.cancelTimers();
    void this.retireOwn().catch(() => undefined);
  }

  /** Requests that would send refuse once removed. */
  refuseWhenRemoved(): void {
    if (this.core.snapshot.removedFromAccount === true) throw new ChannelError(ErrorCode.Forbidden, text.DEVICE_REMOVED);
  }

  /**
   * Go on with the removal; when a step cannot be done now (offline, a
   * Commit of ours still being confirmed after a restart) try again later.
   * The job record keeps what is done, so a retry repeats nothing.
   */
  private resumeSoon(delayMs: number): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.removing === undefined || this.core.chat === undefined) return;
      this.job()
        .resume()
        .then(() => {
          this.removing = undefined;
          this.publish();
        })
        .catch((err: unknown) => {
          // A ChannelError is the service saying "not now" (a Commit in flight, offline): no fault to report.
          if (!(err instanceof ChannelError)) reportIfBug('removing a device', err);
          this.resumeSoon(RETRY_MS);
        });
    }, delayMs);
  }

  private publish(): void {
    const core = this.core;
    core.update({ ...core.state });
  }

  private async remember(): Promise<void> {
    const vault = this.core.vault;
    if (vault === undefined) return;
    await vault.writing(async () => {
      const sealed = await vault.sealJson(STORE, REMOVED, { v: 1, at: Date.now() });
      await this.core.deps.db.put(STORE, sealed, REMOVED);
    });
  }

  private session(): string | undefined {
    const a = this.core.account;
    return a === undefined || sessionExpired(a) ? undefined : a.session.token;
  }

  /** The hash of our own retire secret at the relay, so our other devices can retire our KeyPackages. */
  private async registerRetireHash(): Promise<void> {
    const session = this.session();
    const accountId = this.core.account?.accountId;
    if (session === undefined || accountId === undefined) return;
    const own = this.own();
    // By personId, which changes with the identity (a linked one taken): comparing the identity key would derive it
    // on the wake path, which this runs on (identity/lazy-public-key.ts).
    const person = own.personId;
    if (this.registeredFor === person) return;
    await this.core.api.registerRetireHash(session, sha256(own.retireSecretFor(accountId)));
    this.registeredFor = person;
  }

  /** We still hold the identity key: retire our own KeyPackages, so nobody adds this device anywhere. */
  private async retireOwn(): Promise<void> {
    const accountId = this.core.account?.accountId;
    if (accountId === undefined) return;
    await this.core.api.retireKeyPackages(accountId, this.own().retireSecretFor(accountId));
  }
}
