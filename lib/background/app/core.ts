/**
 * What the parts of the background app share: the dependencies, the
 * published view state, and the session open right now (the vault, the
 * account, its token wallet, chat service and relay connection). Each part
 * (account-flows.ts, lock-control.ts, connection.ts, ...) reads and sets these
 * fields; the façade (../background-app.ts) only routes requests to them.
 */
import type { ChatService } from '../chat-service.ts';
import type { AccountRecord } from '../account.ts';
import { ChannelError, ErrorCode, type AppState, type Settings } from '../../protocol/channel.ts';
import { RelayApi, type RelayConnection } from '../relay-api.ts';
import type { TokenWallet } from '../tokens.ts';
import type { Vault } from '../vault.ts';
import { lockKind, type WrappedKey } from '../lock.ts';
import type { BackgroundDeps } from './deps.ts';
import type { ChatDirectory } from '../chat-directory.ts';
import { ViewPublisher } from './view-publisher.ts';
import { t } from '../../platform/i18n.ts';

/** What the other parts use of the device directory (directory.ts; declared here so core does not import it). */
export interface DirectoryPart {
  /** The connection is up: make the Welcome mailbox if missing, top the KeyPackages up. */
  online(): void;
  forChat(): ChatDirectory;
  readonly supply: { replenish(): Promise<void> };
}

/** What the other parts call of our own devices (devices.ts; declared here so core does not import it). */
export interface DevicesPart {
  opened(): Promise<void>;
  online(): void;
  removed(): void;
  /** This worker stops (BackgroundApp.stop): no retry of a removal fires here any more. */
  stop(): void;
}

export class AppCore {
  readonly view: ViewPublisher;
  api: RelayApi;
  /** Undefined while locked: nothing sealed can be read until `unlock`. */
  vault: Vault | undefined;
  /** The wrapped key the lock opens: the lock in place, or the one being turned on when that was cut short. */
  wrapped: WrappedKey | undefined;
  account: AccountRecord | undefined;
  wallet: TokenWallet | undefined;
  chat: ChatService | undefined;
  connection: RelayConnection | undefined;
  /** This device's address, Welcome mailbox and KeyPackage supply (directory.ts); set by the façade. */
  directory: DirectoryPart | undefined;
  /** Our own devices and removing one (devices.ts); set by the façade. */
  devices: DevicesPart | undefined;
  /** The relay session expired: the person signs in again with the passkey (shown as the lock screen). */
  needsLogin = false;

  constructor(
    readonly deps: BackgroundDeps,
    vault: Vault | undefined,
    relayUrl: string,
    settings: Settings,
    wrapped: WrappedKey | undefined,
  ) {
    this.vault = vault;
    this.wrapped = wrapped;
    this.api = this.relayApi(relayUrl);
    this.view = new ViewPublisher(
      {
        version: deps.version,
        relay: { url: relayUrl, state: 'unknown' },
        connection: 'offline',
        account: wrapped === undefined ? { state: 'none' } : lockedView(wrapped, wrapped.displayName),
        conversations: [],
        settings,
        unreadTotal: 0,
      },
      deps.platform,
    );
  }

  get state(): AppState {
    return this.view.state;
  }

  get snapshot(): AppState {
    return this.view.snapshot;
  }

  update(next: AppState): void {
    this.view.update(next);
  }

  relayApi(url: string): RelayApi {
    return new RelayApi(url, this.deps.fetch === undefined ? {} : { fetch: this.deps.fetch });
  }

  needChat(): ChatService {
    if (this.vault === undefined) throw new ChannelError(ErrorCode.Locked, t('bg_err_locked_unlock_passkey'));
    if (this.chat === undefined) throw new ChannelError(ErrorCode.Forbidden, t('bg_err_create_account_first'));
    return this.chat;
  }

  unlockedAccount(): { account: AccountRecord; vault: Vault } {
    const account = this.account;
    const vault = this.vault;
    if (vault === undefined) throw new ChannelError(ErrorCode.Locked, t('bg_err_locked'));
    if (account === undefined) throw new ChannelError(ErrorCode.Forbidden, t('bg_err_create_account_first'));
    return { account, vault };
  }

  accountView(): AppState['account'] {
    const a = this.account;
    if (a === undefined) return this.state.account;
    // Messages keep arriving while the session is expired (mailboxes are anonymous); sending
    // works while tokens last. Signing in again renews the session.
    if (this.needsLogin) return { state: 'locked', displayName: a.displayName };
    const w = this.wrapped;
    if (w === undefined) return { state: 'ready', displayName: a.displayName, lockEnabled: false };
    return { state: 'ready', displayName: a.displayName, lockEnabled: true, lockMethod: lockKind(w) === 'prf' ? 'passkey' : 'passphrase' };
  }
}

export function lockedView(wrapped: WrappedKey, displayName: string): AppState['account'] {
  return lockKind(wrapped) === 'passphrase' ? { state: 'locked', displayName, unlockWith: 'passphrase' } : { state: 'locked', displayName };
}

/** When the relay session counts as expired (a minute before its end), in ms since the epoch. */
export function sessionEnds(a: AccountRecord): number {
  return (a.session.expiresAt - 60) * 1000;
}

export function sessionExpired(a: AccountRecord): boolean {
  return sessionEnds(a) <= Date.now();
}
