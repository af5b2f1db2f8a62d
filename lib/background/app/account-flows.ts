/**
 * The account on this device and its relay session: creating it with a
 * passkey, signing in again when the session expired, renaming, and ending
 * it (sign out, or delete everywhere; account-removal.ts).
 */
import { loadAccount, saveAccount, tokenStore, type AccountRecord } from '../account.ts';
import { ChannelError, ErrorCode, type AppState, type RelayStatus } from '../../protocol/channel.ts';
import { vaultKeySlot } from '../db.ts';
import { classify, isUnreachable, reportIfBug } from '../failure.ts';
import { TokenWallet } from '../tokens.ts';
import { Vault } from '../vault.ts';
import { deriveKek, loadWrappedKey, prfResult, withPrf } from '../lock.ts';
import { randomBytes } from '../../bytes.ts';
import { rotateDataKey } from '../key-rotation.ts';
import { deleteAccountEverywhere, wipeDevice } from '../account-removal.ts';
import { OwnIdentity } from '../identity/own-identity.ts';
import { sessionExpired, type AppCore } from './core.ts';
import type { RelayLink } from './connection.ts';
import type { KeptKey } from './kept-key.ts';
import type { AppNotifications } from './notifications.ts';
import type { SessionOpener } from './session.ts';
import { t } from '../../platform/i18n.ts';

/** Tokens issued at sign-up (a refill tops up to the wallet's usual supply later). */
const FIRST_BATCH = 50;

export class AccountFlows {
  private ceremony: { ceremonyId: string; displayName: string; salt: Uint8Array } | undefined;
  /** The relay login an unlock (or a sign-in again) doubles as, while its passkey ceremony runs. */
  private loginCeremony: string | undefined;

  constructor(
    private readonly core: AppCore,
    private readonly session: SessionOpener,
    private readonly kept: KeptKey,
    private readonly link: RelayLink,
    private readonly notifications: AppNotifications,
    /** Ceremonies of other parts (turning the lock on) that must not outlive the account either. */
    private readonly forgetCeremonies: () => void,
  ) {}

  async registrationOptions(displayName: string): Promise<{ options: unknown }> {
    const core = this.core;
    const name = displayName.trim();
    if (name === '') throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_pick_name'));
    if (core.account !== undefined || core.wrapped !== undefined) throw new ChannelError(ErrorCode.Forbidden, t('bg_err_already_account'));
    try {
      const { ceremonyId, options } = await core.api.registrationStart(core.deps.rpId);
      // Ask for the PRF extension: when the authenticator evaluates it at creation, the lock is turned on.
      const salt = randomBytes(32);
      this.ceremony = { ceremonyId, displayName: name, salt };
      return { options: withPrf(options, salt) };
    } catch (err) {
      throw accountProblem(err);
    }
  }

  async completeRegistration(displayName: string, response: unknown): Promise<AppState> {
    const core = this.core;
    const ceremony = this.ceremony;
    if (ceremony === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_start_registration'));
    if (core.account !== undefined) throw new ChannelError(ErrorCode.Forbidden, t('bg_err_already_account'));
    this.ceremony = undefined;
    const name = displayName.trim() || ceremony.displayName;
    const credentialId = typeof (response as { id?: unknown }).id === 'string' ? (response as { id: string }).id.slice(0, 1024) : '';
    try {
      const session = await core.api.registrationFinish(ceremony.ceremonyId, response);
      const vault = core.vault;
      if (vault === undefined) throw new ChannelError(ErrorCode.Locked, t('bg_err_locked'));
      const prf = prfResult(response);
      if (prf !== undefined) {
        const kek = deriveKek(prf, ceremony.salt);
        prf.fill(0);
        let raw: Uint8Array | undefined;
        try {
          const how = { kind: 'prf' as const, salt: ceremony.salt, credentialId, displayName: name };
          const marker = await rotateDataKey(core.deps.db, vault, { to: 'wrapped', kek, how, keep: (r) => (raw = r.slice()) }, core.deps.rotation);
          if (raw !== undefined) await this.kept.keep(raw, marker.gen);
        } finally {
          kek.fill(0);
          raw?.fill(0);
        }
        core.wrapped = await loadWrappedKey(core.deps.db);
      }
      // No device mailbox and no token spent here: every conversation pays for its own mailbox
      // when it is created or joined. The first batch is issued now, with the new session, on
      // its own connection, and spent later on the delivery path: the relay sees no
      // issue-then-spend at sign-up.
      const session0 = session.token;
      const first = await TokenWallet.open(() => core.api, tokenStore(core.deps.db, vault), () => session0, this.session.issuerOption());
      // Best effort: a batch not issued now is issued by the refill once online.
      await first.issue(FIRST_BATCH).catch(() => undefined);
      const account: AccountRecord = {
        v: 1,
        relayUrl: core.api.baseUrl,
        accountId: session.accountId,
        displayName: name,
        credentialId,
        session: { token: session.token, expiresAt: session.expiresAt },
      };
      // The person's identity key and this device's key are made with the account (docs/identity.md).
      await OwnIdentity.ensure(core.deps.db, vault);
      await saveAccount(core.deps.db, vault, account);
      await this.session.activate(account);
      return core.snapshot;
    } catch (err) {
      throw accountProblem(err);
    }
  }

  /** Options for signing in again (expired session): a plain relay login with our passkey. */
  async signInOptions(account: AccountRecord): Promise<{ options: unknown }> {
    try {
      const start = await this.core.api.loginStart(this.core.deps.rpId);
      this.loginCeremony = start.ceremonyId;
      return { options: { ...start.options, allowCredentials: [{ id: account.credentialId, type: 'public-key' }] } };
    } catch (err) {
      throw accountProblem(err);
    }
  }

  /** Start the relay login an unlock doubles as; undefined when the relay does not answer (unlocking is local). */
  async startLogin(): Promise<Record<string, unknown> | undefined> {
    try {
      const start = await this.core.api.loginStart(this.core.deps.rpId);
      this.loginCeremony = start.ceremonyId;
      return start.options;
    } catch (err) {
      // Our own bug fails the request (the view says so); nothing has changed yet.
      if (classify(err).kind === 'bug') throw err;
      // Offline, or the relay said no: unlocking is local; the session is refreshed another time.
      this.loginCeremony = undefined;
      return undefined;
    }
  }

  /** Finish the relay login the unlock doubled as, if one was started; best effort: the account as it is otherwise. */
  async renewSession(account: AccountRecord, vault: Vault, response: unknown): Promise<AccountRecord> {
    const ceremonyId = this.loginCeremony;
    this.loginCeremony = undefined;
    if (ceremonyId === undefined || response === undefined) return account;
    return (await this.finishLogin(ceremonyId, response, account, vault)) ?? account;
  }

  /**
   * Finish a relay login and keep the new session in the account record;
   * undefined when it did not work out (the old session stays until it
   * expires) or the passkey belongs to another account.
   */
  async finishLogin(ceremonyId: string, response: unknown, account: AccountRecord, vault: Vault): Promise<AccountRecord | undefined> {
    try {
      const session = await this.core.api.loginFinish(ceremonyId, response);
      if (session.accountId !== account.accountId) return undefined;
      const next: AccountRecord = { ...account, session: { token: session.token, expiresAt: session.expiresAt } };
      await saveAccount(this.core.deps.db, vault, next);
      return next;
    } catch (err) {
      // The relay may be unreachable, or refused the login: the old session stays until it expires. The unlock
      // (or the lock) this login doubled as is done by now, so even our own bug does not undo it: it is logged.
      reportIfBug('finishing a relay login', err);
      return undefined;
    }
  }

  async signInAgain(response: unknown): Promise<AppState> {
    const core = this.core;
    const account = core.account;
    const vault = core.vault;
    const ceremonyId = this.loginCeremony;
    this.loginCeremony = undefined;
    if (account === undefined || vault === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_no_account_sign_in'));
    if (ceremonyId === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_start_sign_in'));
    try {
      const session = await core.api.loginFinish(ceremonyId, response);
      if (session.accountId !== account.accountId) throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_other_account_passkey'));
      const next: AccountRecord = { ...account, session: { token: session.token, expiresAt: session.expiresAt } };
      await saveAccount(core.deps.db, vault, next);
      core.account = next;
      core.needsLogin = false;
      core.update({ ...core.state, account: core.accountView() });
      void core.wallet?.refill();
      return core.snapshot;
    } catch (err) {
      throw accountProblem(err);
    }
  }

  /** A new display name: kept in the sealed account record, then announced in every conversation (never to the relay). */
  async setDisplayName(displayName: string): Promise<AppState> {
    const core = this.core;
    const name = displayName.trim();
    if (name === '') throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_pick_name'));
    const account = core.account;
    const vault = core.vault;
    if (account === undefined || vault === undefined) throw new ChannelError(ErrorCode.Locked, t('bg_err_locked'));
    if (name === account.displayName) return core.snapshot;
    const next: AccountRecord = { ...account, displayName: name };
    await saveAccount(core.deps.db, vault, next);
    core.account = next;
    core.update({ ...core.state, account: core.accountView() });
    await core.chat?.announceName();
    return core.snapshot;
  }

  /** Sign out: end the relay session (best effort, briefly), then wipe this device (account-removal.ts). */
  async signOut(): Promise<AppState> {
    const core = this.core;
    const account = core.account;
    if (account === undefined && core.wrapped === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_no_account'));
    if (account !== undefined && !sessionExpired(account)) {
      // Best effort: a session the relay does not hear about ends at its expiry; nothing of it stays here.
      await Promise.race([core.api.logout(account.session.token).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
    }
    return this.forget();
  }

  /** Delete the account: leave every conversation, delete it at the relay, then wipe this device. */
  async deleteAccount(): Promise<AppState> {
    const core = this.core;
    const { account } = core.unlockedAccount();
    const chat = core.needChat();
    if (core.needsLogin || sessionExpired(account)) {
      throw new ChannelError(ErrorCode.Forbidden, t('bg_err_session_expired'));
    }
    await deleteAccountEverywhere({
      reachRelay: async () => void (await core.api.limits()),
      conversations: () => chat.summaries(),
      leave: (id) => chat.leave(id),
      deleteAtRelay: () => core.api.deleteAccount(account.session.token),
    });
    return this.forget();
  }

  /** Drop everything of the account in memory and on disk; the view goes back to onboarding. */
  private async forget(): Promise<AppState> {
    const core = this.core;
    // Nothing of the account may outlive a sign-out: not the unlocked key kept for a stopped worker, not a notification.
    await this.kept.forget();
    this.notifications.clearAll();
    this.link.giveUp();
    const chat = core.chat;
    core.chat = undefined;
    // Best effort: its store is wiped next, whatever the close left unfinished.
    await chat?.close().catch(() => undefined);
    core.wallet = undefined;
    core.account = undefined;
    core.needsLogin = false;
    core.wrapped = undefined;
    this.ceremony = undefined;
    this.loginCeremony = undefined;
    this.forgetCeremonies();
    await wipeDevice(core.deps.db, core.vault);
    core.vault = await Vault.open(vaultKeySlot(core.deps.db));
    const relay: RelayStatus = { url: core.state.relay.url, state: 'unknown' };
    core.update({ ...core.state, account: { state: 'none' }, connection: 'offline', relay, conversations: [], unreadTotal: 0 });
    // Onboarding shows whether the relay answers; ask it rather than keep what the live connection last said.
    void this.link.checkRelay();
    return core.snapshot;
  }

  /** The account record sealed in this vault, if any (read after an unlock). */
  load(vault: Vault): Promise<AccountRecord | undefined> {
    return loadAccount(this.core.deps.db, vault);
  }
}

/** What the view is told when an account step fails; our own bug is reported as one (Internal), never as the relay's doing. */
function accountProblem(err: unknown): ChannelError {
  if (err instanceof ChannelError) return err;
  if (isUnreachable(err)) return new ChannelError(ErrorCode.Unavailable, t('bg_err_relay_unreachable_settings'), { cause: err });
  const { relayCode } = classify(err);
  if (relayCode === 'ceremony_failed') return new ChannelError(ErrorCode.InvalidInput, t('bg_err_passkey_unverified'), { cause: err });
  // Any other answer of the relay's (a refusal, a busy relay, a malformed answer) is the relay's to explain.
  if (relayCode !== undefined) return new ChannelError(ErrorCode.Unavailable, t('bg_relay_refused', (err as Error).message), { cause: err });
  return new ChannelError(ErrorCode.Internal, t('bg_err_create_account_failed'), { cause: err });
}
