/**
 * The lock: unlocking (passkey PRF or passphrase, or the key kept for a
 * stopped worker), turning it on and off (key-rotation.ts moves every sealed
 * record to the new key), locking now, and locking by itself when its
 * timeout passes.
 */
import { ChannelError, ErrorCode, type AppState, type Method } from '../../protocol/channel.ts';
import { Vault, VaultError } from '../vault.ts';
import { deriveKek, loadWrappedKey, lockKind, prfResult, unlockVault, unlockWithPassphrase, withPrf, type WrappedKey } from '../lock.ts';
import { randomBytes, toB64 } from '../../bytes.ts';
import { DEVICE_KEY, loadDeviceKey, loadRotation, NEXT_DEVICE_KEY, resumeRotation, rotateDataKey } from '../key-rotation.ts';
import { passphraseKek, passphraseProblem, PASSPHRASE_KDF, type Argon2Params } from '../passphrase.ts';
import { classify, reportIfBug } from '../failure.ts';
import { lockedView, type AppCore } from './core.ts';
import type { AccountFlows } from './account-flows.ts';
import type { RelayLink } from './connection.ts';
import type { KeptKey } from './kept-key.ts';
import type { AppNotifications } from './notifications.ts';
import type { SessionOpener } from './session.ts';
import { t } from '../../platform/i18n.ts';

/** Requests a view makes by itself as messages arrive or state changes; they do not keep the lock open. */
const NOT_USE: ReadonlySet<string> = new Set<Method>(['state.get', 'relay.check', 'conversation.markRead', 'messages.page']);

export class LockControl {
  /** The PRF salt of a ceremony to turn the lock on (and the relay login it doubles as, when online). */
  private lockCeremony: { salt: Uint8Array; ceremonyId?: string } | undefined;

  constructor(
    private readonly core: AppCore,
    private readonly accounts: AccountFlows,
    private readonly session: SessionOpener,
    private readonly kept: KeptKey,
    private readonly link: RelayLink,
    private readonly notifications: AppNotifications,
  ) {}

  /** Sign-out: a ceremony begun for the account that is gone is forgotten with it. */
  forgetCeremony(): void {
    this.lockCeremony = undefined;
  }

  // -- unlocking -------------------------------------------------------------

  /** Options for the unlock ceremony: a relay login (refreshing the session) with the PRF salt. */
  async unlockOptions(): Promise<{ options: unknown }> {
    const core = this.core;
    const wrapped = core.wrapped;
    if (core.vault !== undefined && core.needsLogin && core.account !== undefined) return this.accounts.signInOptions(core.account);
    if (wrapped === undefined || core.vault !== undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_not_locked'));
    if (lockKind(wrapped) === 'passphrase') throw new ChannelError(ErrorCode.BadRequest, t('bg_err_locked_passphrase'));
    const login = await this.accounts.startLogin();
    const options = login ?? { challenge: toB64(randomBytes(32)), userVerification: 'required', rpId: core.deps.rpId };
    return { options: withPrf(options, wrapped.salt, wrapped.credentialId) };
  }

  async unlock(response: unknown): Promise<AppState> {
    const core = this.core;
    if (core.vault !== undefined && core.needsLogin) return this.accounts.signInAgain(response);
    const wrapped = core.wrapped;
    if (wrapped === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_not_locked'));
    if (core.vault !== undefined) return core.snapshot;
    if (lockKind(wrapped) === 'passphrase') throw new ChannelError(ErrorCode.BadRequest, t('bg_err_locked_passphrase'));
    const prf = prfResult(response);
    if (prf === undefined) throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_no_prf_unlock'));
    let vault: Vault;
    let raw: Uint8Array | undefined;
    try {
      vault = await unlockVault(wrapped, prf, (r) => (raw = r.slice()));
    } catch (err) {
      if (err instanceof VaultError) throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_passkey_wrong'), { cause: err });
      throw err;
    } finally {
      prf.fill(0);
    }
    return this.opened(vault, response, raw);
  }

  /** Unlock a passphrase lock. A wrong passphrase changes nothing; there is no lockout. */
  async unlockPassphrase(passphrase: string): Promise<AppState> {
    const wrapped = this.core.wrapped;
    if (wrapped === undefined || this.core.vault !== undefined || lockKind(wrapped) !== 'passphrase') {
      throw new ChannelError(ErrorCode.BadRequest, t('bg_err_not_locked_passphrase'));
    }
    let vault: Vault;
    let raw: Uint8Array | undefined;
    try {
      vault = await unlockWithPassphrase(wrapped, passphrase, (r) => (raw = r.slice()));
    } catch (err) {
      if (err instanceof VaultError) throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_passphrase_wrong'), { cause: err });
      throw err;
    }
    return this.opened(vault, undefined, raw);
  }

  /** Woken with the lock on: reopen with the key kept in session storage, if it is still there and in time. */
  async reopenKept(wrapped: WrappedKey): Promise<void> {
    if (!this.kept.available) return;
    const raw = await this.kept.take(wrapped.gen);
    if (raw === undefined) return;
    let vault: Vault;
    try {
      vault = await Vault.fromRawKey(raw, wrapped.gen);
    } catch {
      // A kept key that is not a key (storage damaged): locked, as without it, and it is not kept.
      await this.kept.forget();
      return;
    } finally {
      raw.fill(0);
    }
    try {
      await this.opened(vault, undefined);
    } catch (err) {
      // No view is waiting at start-up: a bug is logged, and the app starts locked rather than not at all.
      reportIfBug('reopening with the kept key', err);
      // A kept key that does not open the data (it should not happen): locked, as without it.
      // Best effort: Lock now refuses only when the lock is off, and then there is nothing to lock.
      await this.lockNow().catch(() => undefined);
    }
  }

  /**
   * The lock's key is in hand: finish a key rotation that a dying worker left
   * halfway (both keys are available only now), then load the account.
   */
  private async opened(unlocked: Vault, response: unknown, raw?: Uint8Array): Promise<AppState> {
    const core = this.core;
    let vault = unlocked;
    try {
      const rotation = await loadRotation(core.deps.db);
      if (rotation !== undefined) {
        const device = await loadDeviceKey(core.deps.db, rotation.to === 'wrapped' ? DEVICE_KEY : NEXT_DEVICE_KEY, rotation.gen);
        if (device === undefined) throw new ChannelError(ErrorCode.Internal, t('bg_err_lock_lost_key'));
        const [from, to] = rotation.to === 'wrapped' ? [device, unlocked] : [unlocked, device];
        await resumeRotation(core.deps.db, from, to, rotation, core.deps.rotation);
        vault = to;
        core.wrapped = await loadWrappedKey(core.deps.db);
      }
      // The key that was unwrapped is the lock's current one unless the rotation just finished turned the lock off.
      if (raw !== undefined) await (core.wrapped === undefined ? this.kept.forget() : this.kept.keep(raw, core.wrapped.gen));
    } finally {
      raw?.fill(0);
    }
    core.vault = vault;
    const stored = await this.accounts.load(vault);
    if (stored === undefined) {
      core.update({ ...core.state, account: { state: 'none' } });
      return core.snapshot;
    }
    const account = await this.accounts.renewSession(stored, vault, response);
    await this.session.activate(account);
    return core.snapshot;
  }

  // -- the lock, on and off --------------------------------------------------

  /**
   * Options for a passkey ceremony that evaluates the PRF for a new lock. Like
   * unlocking, it is a relay login when the relay answers (its options carry
   * the RP ID the passkey was made for, and the session is refreshed), else a
   * local ceremony whose challenge goes nowhere.
   */
  async lockOptions(): Promise<{ options: unknown }> {
    const core = this.core;
    const { account } = core.unlockedAccount();
    if (core.wrapped !== undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_lock_already_on'));
    const salt = randomBytes(32);
    let options: Record<string, unknown> = { challenge: toB64(randomBytes(32)), userVerification: 'required', ...(core.deps.rpId === undefined ? {} : { rpId: core.deps.rpId }) };
    let ceremonyId: string | undefined;
    try {
      const start = await core.api.loginStart(core.deps.rpId);
      ceremonyId = start.ceremonyId;
      options = start.options;
    } catch (err) {
      // Our own bug fails the request (the view says so); nothing has changed yet.
      if (classify(err).kind === 'bug') throw err;
      // Offline, or the relay said no: the PRF is local; the session is refreshed another time.
    }
    this.lockCeremony = { salt, ...(ceremonyId === undefined ? {} : { ceremonyId }) };
    return { options: withPrf(options, salt, account.credentialId) };
  }

  /**
   * Turn the lock on: every sealed record moves to a fresh data key that is
   * stored only wrapped under the passkey's PRF or the passphrase; the
   * device key is deleted. Writers wait meanwhile (the chat pauses).
   */
  async enableLock(params: { response: unknown } | { passphrase: string }): Promise<AppState> {
    const core = this.core;
    const { account, vault } = core.unlockedAccount();
    if (core.wrapped !== undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_lock_already_on'));
    let kek: Uint8Array;
    let ceremonyId: string | undefined;
    let how: { kind: 'prf' | 'passphrase'; salt: Uint8Array; kdf?: Argon2Params; credentialId: string; displayName: string };
    if ('passphrase' in params) {
      const problem = passphraseProblem(params.passphrase);
      if (problem !== null) throw new ChannelError(ErrorCode.InvalidInput, problem);
      const salt = randomBytes(32);
      const kdf = core.deps.passphraseKdf ?? PASSPHRASE_KDF;
      kek = await passphraseKek(params.passphrase, salt, kdf);
      how = { kind: 'passphrase', salt, kdf, credentialId: '', displayName: account.displayName };
    } else {
      const ceremony = this.lockCeremony;
      this.lockCeremony = undefined;
      if (ceremony === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_start_lock'));
      ceremonyId = ceremony.ceremonyId;
      if ((params.response as { id?: unknown }).id !== account.credentialId) {
        throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_use_account_passkey'));
      }
      const prf = prfResult(params.response);
      if (prf === undefined) throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_no_prf_lock'));
      kek = deriveKek(prf, ceremony.salt);
      prf.fill(0);
      how = { kind: 'prf', salt: ceremony.salt, credentialId: account.credentialId, displayName: account.displayName };
    }
    let raw: Uint8Array | undefined;
    try {
      const marker = await rotateDataKey(core.deps.db, vault, { to: 'wrapped', kek, how, keep: (r) => (raw = r.slice()) }, core.deps.rotation);
      if (raw !== undefined) await this.kept.keep(raw, marker.gen);
    } catch (err) {
      throw new ChannelError(ErrorCode.Internal, t('bg_err_lock_on_unfinished'), { cause: err });
    } finally {
      kek.fill(0);
      raw?.fill(0);
    }
    core.wrapped = await loadWrappedKey(core.deps.db);
    if ('response' in params && ceremonyId !== undefined) {
      // The login the ceremony doubled as; best effort: the lock is on regardless.
      const current = core.unlockedAccount();
      const renewed = await this.accounts.finishLogin(ceremonyId, params.response, current.account, current.vault);
      if (renewed !== undefined) core.account = renewed;
    }
    core.update({ ...core.state, account: core.accountView() });
    return core.snapshot;
  }

  /** Turn the lock off: every sealed record moves to a fresh device key kept beside the data; the wrapped key is deleted. */
  async disableLock(): Promise<AppState> {
    const core = this.core;
    const { vault } = core.unlockedAccount();
    if (core.wrapped === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_lock_already_off'));
    try {
      await rotateDataKey(core.deps.db, vault, { to: 'device' }, core.deps.rotation);
    } catch (err) {
      throw new ChannelError(ErrorCode.Internal, t('bg_err_lock_off_unfinished'), { cause: err });
    }
    core.wrapped = undefined;
    // The kept key was the wrapped one, now deleted: nothing of it stays in memory storage either.
    await this.kept.forget();
    core.update({ ...core.state, account: core.accountView() });
    return core.snapshot;
  }

  // -- locking ---------------------------------------------------------------

  /**
   * A view asked for something. Past the deadline (a worker kept alive may
   * have missed its alarm) it locks first. Otherwise it is use, which moves
   * the deadline, unless the view asked by itself (reading what just arrived
   * in an open conversation): a busy conversation left on screen still locks.
   */
  async beforeRequest(method?: unknown): Promise<void> {
    if (!this.kept.available || this.core.vault === undefined || this.core.wrapped === undefined) return;
    const used = typeof method !== 'string' || !NOT_USE.has(method);
    if (!(await this.kept.touch(used))) await this.lockNow();
  }

  /** The lock alarm fired, or the worker woke: lock when the deadline has passed. */
  async expireIfDue(): Promise<void> {
    if (this.kept.expired() && this.core.vault !== undefined && this.core.wrapped !== undefined) await this.lockNow();
  }

  /**
   * Lock now: forget the data key (session storage and this worker's
   * memory), close the relay connection and drop every decrypted state.
   * Until the next unlock nothing is received: messages wait at the relay.
   */
  async lockNow(): Promise<AppState> {
    const core = this.core;
    const wrapped = core.wrapped;
    if (wrapped === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_lock_off_first'));
    await this.kept.forget();
    // Locked, nothing of the conversations shows: not even in a notification left on screen.
    this.notifications.clearAll();
    const vault = core.vault;
    // Writers in flight (a record sealed but not yet stored) finish first; none start meanwhile.
    await (vault?.exclusive(async () => undefined) ?? Promise.resolve());
    this.link.stop();
    // Locked, nothing is sent: not even a receipt that was due (the next unlock sends it from the store).
    // Not awaited, and best effort: what it did not finish is in the store for the next unlock.
    void core.chat?.close().catch(() => undefined);
    core.chat = undefined;
    core.wallet = undefined;
    const displayName = core.account?.displayName ?? wrapped.displayName;
    core.account = undefined;
    core.vault = undefined;
    core.needsLogin = false;
    core.update({ ...core.state, connection: 'offline', account: lockedView(wrapped, displayName), conversations: [], unreadTotal: 0 });
    return core.snapshot;
  }
}
