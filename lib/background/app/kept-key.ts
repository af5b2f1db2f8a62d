/**
 * The unlocked data key kept for a stopped worker (unlocked-key.ts), seen
 * from the app: every call is best effort, because without the kept key the
 * person only unlocks again after the next worker stop.
 */
import type { LockTimeout, UnlockedKeyStore } from '../unlocked-key.ts';
import type { AppCore } from './core.ts';

export class KeptKey {
  constructor(private readonly core: AppCore) {}

  private get store(): UnlockedKeyStore | undefined {
    return this.core.deps.unlockedKeys;
  }

  /** Whether a kept key can outlive this worker at all (storage.session exists). */
  get available(): boolean {
    return this.store !== undefined;
  }

  async keep(raw: Uint8Array, gen: number | undefined): Promise<void> {
    // Best effort: without it the person unlocks again after the next worker stop.
    await this.store?.keep(raw, gen, this.core.state.settings.lockTimeout).catch(() => undefined);
  }

  /** The key kept for this generation of the lock, once; undefined when none. */
  async take(gen: number | undefined): Promise<Uint8Array | undefined> {
    // A storage failure reads as no kept key: locked, as without it.
    return this.store?.take(gen).catch(() => undefined);
  }

  /** Wipe the kept key (Lock now, expiry, lock turned off, sign-out). */
  async forget(): Promise<void> {
    // Best effort: session storage is memory only and goes with the browser anyway.
    await this.store?.wipe().catch(() => undefined);
  }

  /** Use moves the deadline; false when it has passed. */
  async touch(used: boolean): Promise<boolean> {
    if (this.store === undefined) return true;
    // A passed deadline is known before any storage call; a failure here is the write that moves the deadline,
    // which then stands as it was.
    return this.store.touch(this.core.state.settings.lockTimeout, used).catch(() => true);
  }

  expired(): boolean {
    return this.store?.expired() === true;
  }

  async retime(timeout: LockTimeout): Promise<void> {
    // Best effort: the old deadline stays until the next use moves it.
    await this.store?.retime(timeout).catch(() => undefined);
  }
}
