/**
 * The background's application core: it owns the state, persists it, talks to
 * the relay, and publishes the view state to every subscribed view. The
 * service-worker entrypoint only wires this to the browser (platform hooks
 * for the badge, notifications and alarms come in through `Platform`).
 *
 * Start-up is quick by design (the worker is woken often): settings, the
 * vault key, the account record, the token wallet and the conversations'
 * metadata are read; group states are decrypted only when a conversation is
 * used. The live connection then catches up on what the relay holds.
 */
import { ChatService } from './chat-service.ts';
import { loadAccount, saveAccount, tokenStore, type AccountRecord } from './account.ts';
import {
  ChannelError,
  ErrorCode,
  ONE_TIME_INVITE_HOURS,
  type AppState,
  type LiveEvent,
  type Method,
  type MessageView,
  type Params,
  type RelayStatus,
  type Result,
  type MuteDuration,
  type NotificationContent,
  type Settings,
  type ViewPresence,
} from '../protocol/channel.ts';
import { checkRelayHealth } from './relay-client.ts';
import { DEFAULT_RELAY_URL, normalizeRelayUrl } from './relay-url.ts';
import { loadSetting, saveSetting, vaultKeySlot, type Database } from './db.ts';
import {
  RelayApi,
  RelayApiError,
  RelayConnection,
  type DeliveredMessage,
  type MailboxCredentials,
  type WebSocketConstructor,
} from './relay-api.ts';
import { TokenWallet } from './tokens.ts';
import { socketIssuer } from './token-issuer.ts';
import { TOKEN_KEY_REFUSED_WARNING, TokenKeyWatch } from './token-key-watch.ts';
import { Vault, VaultError } from './vault.ts';
import {
  deriveKek,
  loadWrappedKey,
  lockKind,
  prfResult,
  unlockVault,
  unlockWithPassphrase,
  withPrf,
  WRAPPED_NEXT,
  type WrappedKey,
} from './lock.ts';
import { randomBytes, toB64 } from '../bytes.ts';
import { DEVICE_KEY, loadDeviceKey, loadRotation, NEXT_DEVICE_KEY, resumeRotation, rotateDataKey, type RotationOptions } from './key-rotation.ts';
import { passphraseKek, passphraseProblem, PASSPHRASE_KDF, type Argon2Params } from './passphrase.ts';
import { makeShareOffer, suggestShareTarget } from './share-offer.ts';
import { DEFAULT_LOCK_TIMEOUT, isLockTimeout, type LockTimeout, type UnlockedKeyStore } from './unlocked-key.ts';
import { DEFAULT_NOTIFICATION_CONTENT, NotificationPolicy, type NotificationAction } from './notification-policy.ts';
import { muteUntil, nextMuteEnd } from './mute.ts';
import { deleteAccountEverywhere, wipeDevice } from './account-removal.ts';
import { relayFromConnection } from './connection-state.ts';

/** What the browser offers the background beyond the channel (all optional, for tests). */
export interface Platform {
  setBadge?(unread: number): void;
  /** Show, update or clear a desktop notification (notification-policy.ts decides which). */
  notification?(action: NotificationAction): void;
}

export interface BackgroundDeps {
  db: Database;
  version: string;
  fetch?: typeof fetch;
  /** The WebSocket constructor (the browser's; `ws` in Node tests). Without it there is no live connection. */
  WebSocket?: WebSocketConstructor;
  /** WebAuthn RP ID to ask the relay for (the extension's id in the browser); the relay picks when absent. */
  rpId?: string;
  platform?: Platform;
  /** Test hooks: connection timings. */
  connection?: { heartbeatMs?: number; deadlineMs?: number; backoffBaseMs?: number; backoffMaxMs?: number };
  confirmTimeoutMs?: number;
  /** Test hooks: a cheaper passphrase KDF, and a way to kill a key rotation halfway. */
  passphraseKdf?: Argon2Params;
  rotation?: RotationOptions;
  /** How long an unanswered "share this page" offer waits (share-offer.ts); a test hook. */
  shareTtlMs?: number;
  /** Where the unlocked data key outlives a stopped worker (storage.session); without it every start is locked. */
  unlockedKeys?: UnlockedKeyStore;
}

export type Handlers = { [M in Method]: (params: Params<M>) => Promise<Result<M>> };

export class BackgroundApp {
  private state: AppState;
  private readonly listeners = new Set<(state: AppState) => void>();
  private readonly eventListeners = new Set<(event: LiveEvent) => void>();
  private inflight: { url: string; check: Promise<RelayStatus> } | undefined;
  private account: AccountRecord | undefined;
  private wallet: TokenWallet | undefined;
  private chat: ChatService | undefined;
  private connection: RelayConnection | undefined;
  private api: RelayApi;
  private ceremony: { ceremonyId: string; displayName: string; salt: Uint8Array } | undefined;
  private unlockCeremony: string | undefined;
  /** The PRF salt of a ceremony to turn the lock on (and the relay login it doubles as, when online). */
  private lockCeremony: { salt: Uint8Array; ceremonyId?: string } | undefined;
  /** Undefined while locked: nothing sealed can be read until `unlock`. */
  private vault: Vault | undefined;
  /** The relay session expired: the person signs in again with the passkey (shown as the lock screen). */
  private needsLogin = false;

  private constructor(
    private readonly deps: BackgroundDeps,
    vault: Vault | undefined,
    relayUrl: string,
    settings: Settings,
    /** The wrapped key the lock opens: the lock in place, or the one being turned on when that was cut short. */
    private wrapped: WrappedKey | undefined,
  ) {
    this.vault = vault;
    this.api = new RelayApi(relayUrl, deps.fetch === undefined ? {} : { fetch: deps.fetch });
    this.state = {
      version: deps.version,
      relay: { url: relayUrl, state: 'unknown' },
      connection: 'offline',
      account: wrapped === undefined ? { state: 'none' } : lockedView(wrapped, wrapped.displayName),
      conversations: [],
      settings,
      unreadTotal: 0,
    };
  }

  static async start(deps: BackgroundDeps): Promise<BackgroundApp> {
    const [relayUrl, notifications, current, rotation, lockTimeout, notificationContent] = await Promise.all([
      loadSetting(deps.db, 'relayUrl'),
      loadSetting(deps.db, 'notifications'),
      loadWrappedKey(deps.db),
      loadRotation(deps.db),
      loadSetting(deps.db, 'lockTimeout'),
      loadSetting(deps.db, 'notificationContent'),
    ]);
    // A rotation cut short holds a wrapped key on one side (the lock being turned on, or the one being
    // turned off): it finishes after the unlock, when both keys are in hand.
    const wrapped = rotation?.to === 'wrapped' ? await loadWrappedKey(deps.db, WRAPPED_NEXT) : current;
    if (rotation !== undefined && wrapped === undefined) throw new VaultError('corrupt', 'an unfinished key rotation lost its wrapped key');
    // Locked: the data key exists only wrapped; wait for the passkey or the passphrase.
    const vault = wrapped === undefined ? await Vault.open(vaultKeySlot(deps.db)) : undefined;
    const settings: Settings = {
      notifications: notifications ?? true,
      lockTimeout: isLockTimeout(lockTimeout) ? lockTimeout : DEFAULT_LOCK_TIMEOUT,
      notificationContent: notificationContent ?? DEFAULT_NOTIFICATION_CONTENT,
      // Read receipts are on unless the person turned them off.
      readReceipts: (await loadSetting(deps.db, 'readReceipts')) !== false,
    };
    const app = new BackgroundApp(deps, vault, relayUrl ?? DEFAULT_RELAY_URL, settings, wrapped);
    const account = vault === undefined ? undefined : await loadAccount(deps.db, vault);
    if (account !== undefined) await app.activate(account);
    if (vault === undefined && wrapped !== undefined) await app.reopenKept(wrapped);
    return app;
  }

  get snapshot(): AppState {
    return structuredClone(this.state);
  }

  subscribe(listener: (state: AppState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Live message events (new messages, status changes). */
  subscribeEvents(listener: (event: LiveEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private update(next: AppState): void {
    const unreadBefore = this.state.unreadTotal;
    this.state = next;
    const snap = this.snapshot;
    for (const l of this.listeners) l(snap);
    if (unreadBefore !== next.unreadTotal || this.badgeUnset) {
      this.badgeUnset = false;
      this.deps.platform?.setBadge?.(next.unreadTotal);
    }
  }
  private badgeUnset = true;

  private publishChat(): void {
    if (this.chat === undefined) return;
    const conversations = this.chat.summaries();
    let share = this.state.share;
    // An offer made while locked had nothing to suggest: suggest once, when the conversations are first known.
    if (share !== undefined && share.suggestedId === undefined && !this.shareSuggested.has(share.shareId)) {
      this.shareSuggested.add(share.shareId);
      const suggestedId = suggestShareTarget(conversations);
      if (suggestedId !== undefined) share = { ...share, suggestedId };
    }
    this.update({ ...this.state, conversations, unreadTotal: this.chat.unreadTotal(), ...(share === undefined ? {} : { share }) });
    this.afterSummaries();
  }

  // -- notifications ---------------------------------------------------------

  private readonly notifications = new NotificationPolicy();
  private muteTimer: ReturnType<typeof setTimeout> | undefined;
  /** A conversation a notification click asked for, kept briefly for a side panel that is still opening. */
  private openRequest: { conversationId: string; at: number } | undefined;

  private notify(actions: readonly NotificationAction[]): void {
    for (const a of actions) this.deps.platform?.notification?.(a);
  }

  /** Read (here or elsewhere), muted, left or deleted: clear; and publish again when the next mute ends. */
  private afterSummaries(): void {
    const now = Date.now();
    this.notify(this.notifications.summaries(this.state.conversations, now));
    clearTimeout(this.muteTimer);
    const next = nextMuteEnd(this.state.conversations.map((c) => c.mutedUntil), now);
    // setTimeout keeps at most ~24.8 days; a longer mute is looked at again then.
    if (next !== undefined) this.muteTimer = setTimeout(() => this.publishChat(), Math.min(next - now + 50, 2 ** 31 - 1));
  }

  /** A view's live port says what it shows and whether it is visible; `null` when the port disconnected. */
  presence(view: unknown, presence: ViewPresence | null): void {
    this.notify(this.notifications.presence(view, presence));
  }

  /** Notifications of ours the browser still shows (after the background restarted): cleared like new ones. */
  adoptNotifications(ids: readonly string[]): void {
    this.notifications.adopt(ids);
    // Locked, the conversations are not known yet: the check waits for the unlock (activate).
    if (this.chat !== undefined) this.notify(this.notifications.summaries(this.state.conversations, Date.now()));
  }

  /** The person dismissed one of our notifications. */
  notificationClosed(id: string): void {
    this.notifications.closed(id);
  }

  /** Whether a view is visible now (a notification click can then be shown there). */
  viewVisible(): boolean {
    return this.notifications.anyVisible();
  }

  /** Show a conversation in the side panel: views open now are told, one that is opening asks on connect. */
  openConversation(conversationId: string): void {
    this.openRequest = { conversationId, at: Date.now() };
    this.emit({ type: 'open', conversationId });
  }

  /** The open request of the last few seconds, once (a side panel opened by the click asks when it connects). */
  takeOpenRequest(): string | undefined {
    const r = this.openRequest;
    this.openRequest = undefined;
    return r !== undefined && Date.now() - r.at < OPEN_REQUEST_MS ? r.conversationId : undefined;
  }

  async setNotificationContent(content: NotificationContent): Promise<AppState> {
    await saveSetting(this.deps.db, 'notificationContent', content);
    this.update({ ...this.state, settings: { ...this.state.settings, notificationContent: content } });
    return this.snapshot;
  }

  async mute(conversationId: string, duration: MuteDuration | 'off'): Promise<null> {
    await this.needChat().setMute(conversationId, duration === 'off' ? undefined : muteUntil(duration, Date.now()));
    return null;
  }
  private readonly shareSuggested = new Set<string>();

  // -- account ---------------------------------------------------------------

  /** Load the wallet and the chat for an account, and go online. */
  private async activate(account: AccountRecord): Promise<void> {
    const vault = this.vault;
    if (vault === undefined) throw new ChannelError(ErrorCode.Locked, 'MicroChat is locked.');
    this.account = account;
    if (account.relayUrl !== this.api.baseUrl) {
      this.api = new RelayApi(account.relayUrl, this.deps.fetch === undefined ? {} : { fetch: this.deps.fetch });
      this.state = { ...this.state, relay: { url: account.relayUrl, state: 'unknown' } };
    }
    this.wallet = await TokenWallet.open(
      () => this.api,
      tokenStore(this.deps.db, vault),
      () => {
        const a = this.account;
        return a === undefined || sessionExpired(a) ? undefined : a.session.token;
      },
      {
        ...this.issuerOption(),
        onPinChange: () => this.chat?.announceTokenKeyEverywhere(),
        onKeyRefused: () => void this.chat?.warnEverywhere(TOKEN_KEY_REFUSED_WARNING),
      },
    );
    const wallet = this.wallet;
    this.needsLogin = sessionExpired(account);
    this.chat = await ChatService.open({
      db: this.deps.db,
      vault,
      api: () => this.api,
      wallet: () => this.wallet!,
      identity: () => ({ displayName: this.account!.displayName, mailbox: this.account!.mailbox, relayUrl: this.account!.relayUrl }),
      onSummaries: () => this.publishChat(),
      onMessages: (conversationId, messages) => this.emit({ type: 'messages', conversationId, messages }),
      onIncoming: (c, m) => {
        const { notifications: enabled, notificationContent: content } = this.state.settings;
        this.notify(this.notifications.incoming(c, m, { enabled, content }, Date.now()));
      },
      ack: (mailboxId, ids) => this.ack(mailboxId, ids),
      tokenKeys: new TokenKeyWatch({ pinned: () => wallet.pinnedKey, published: () => this.api.tokenKeys() }),
      onMailbox: (change) => {
        if ('added' in change) this.connection?.addMailbox(change.added);
        else this.connection?.removeMailbox(change.removed);
      },
      ...(this.deps.confirmTimeoutMs === undefined ? {} : { confirmTimeoutMs: this.deps.confirmTimeoutMs }),
      readReceipts: () => this.state.settings.readReceipts,
      // A fault of ours met while receiving: the chat shows a notice in the conversation; this keeps the details.
      onBug: (err) => console.error('MicroChat: a fault of ours while handling a delivery', err),
    });
    this.update({
      ...this.state,
      account: this.accountView(),
      conversations: this.chat.summaries(),
      unreadTotal: this.chat.unreadTotal(),
    });
    this.afterSummaries();
    // The token supply is topped up once online (blinding is CPU work; keep it off the wake path).
    this.connect();
  }

  /** Issuance names the account: it gets a short-lived socket of its own, never the delivery one. */
  private issuerOption(): { issuer?: ReturnType<typeof socketIssuer> } {
    const WebSocketImpl = this.deps.WebSocket;
    return WebSocketImpl === undefined ? {} : { issuer: socketIssuer(() => this.api.baseUrl, WebSocketImpl) };
  }

  private accountView(): AppState['account'] {
    const a = this.account;
    if (a === undefined) return this.state.account;
    // Messages keep arriving while the session is expired (mailboxes are anonymous); sending
    // works while tokens last. Signing in again renews the session.
    if (this.needsLogin) return { state: 'locked', displayName: a.displayName };
    const w = this.wrapped;
    if (w === undefined) return { state: 'ready', displayName: a.displayName, lockEnabled: false };
    return { state: 'ready', displayName: a.displayName, lockEnabled: true, lockMethod: lockKind(w) === 'prf' ? 'passkey' : 'passphrase' };
  }

  private emit(event: LiveEvent): void {
    for (const l of this.eventListeners) l(event);
  }

  private connect(): void {
    this.connection?.stop();
    this.connection = undefined;
    const account = this.account;
    if (account === undefined || this.deps.WebSocket === undefined) return;
    const c = this.deps.connection ?? {};
    const connection: RelayConnection = new RelayConnection({
      url: account.relayUrl,
      WebSocket: this.deps.WebSocket,
      mailboxes: this.allMailboxes(),
      onMessage: (mailboxId, m) => void this.deliver(mailboxId, m),
      onState: (s) => {
        // A connection being given up (signed out, replaced) no longer speaks for the relay.
        if (this.connection !== connection) return;
        this.update({ ...this.state, connection: s, relay: relayFromConnection(this.state.relay, s) });
        if (s === 'online') {
          void this.chat?.flush();
          void this.wallet?.refill();
        }
      },
      ...c,
    });
    this.connection = connection;
    connection.start();
  }

  /**
   * Someone is writing while the connection is down: try the relay now rather
   * than at the end of the back-off (which grows to a minute), so what they
   * wrote goes out as soon as the relay is back.
   */
  private reconnectingNow<T>(result: T): T {
    if (this.connection !== undefined && this.connection.connectionState === 'offline') this.connection.nudge();
    return result;
  }

  /** The account's mailbox (older conversations) and one per live conversation. */
  private allMailboxes(): MailboxCredentials[] {
    const account = this.account;
    if (account === undefined) return [];
    return [...(account.mailbox === undefined ? [] : [account.mailbox]), ...(this.chat?.mailboxes() ?? [])];
  }

  private deliver(mailboxId: string, m: DeliveredMessage): Promise<void> {
    return this.chat?.receive(mailboxId, m) ?? Promise.resolve();
  }

  private ack(mailboxId: string, ids: string[]): void {
    if (ids.length === 0) return;
    if (this.connection?.ack(mailboxId, ids) === true) return;
    const mb = this.allMailboxes().find((x) => x.mailboxId === mailboxId);
    if (mb !== undefined) void this.api.ack(mb, ids).catch(() => undefined);
  }

  /**
   * Catch up without the socket (alarm wake-ups, or no WebSocket): fetch what
   * the mailbox holds over HTTP, apply it, acknowledge, flush the outbox.
   */
  async catchUp(): Promise<number> {
    if (this.account === undefined) return 0;
    this.connection?.nudge();
    if (this.connection?.connectionState === 'online') {
      // The socket already delivers (and re-delivers on subscribe); no need to poll every mailbox.
      await this.chat?.flush();
      return 0;
    }
    let handled = 0;
    for (const mb of this.allMailboxes()) {
      try {
        for (let round = 0; round < 20; round++) {
          const batch = await this.api.fetchMailbox(mb);
          if (batch.length === 0) break;
          for (const m of batch) await this.deliver(mb.mailboxId, m);
          handled += batch.length;
          // Acks are sent per message after each transaction; make sure the batch is gone before the next page.
          await this.api.ack(mb, batch.map((m) => m.id)).catch(() => undefined);
        }
      } catch {
        // offline (or this mailbox is gone): the socket or the next alarm will try again
      }
    }
    await this.chat?.flush();
    return handled;
  }

  async registrationOptions(displayName: string): Promise<{ options: unknown }> {
    const name = displayName.trim();
    if (name === '') throw new ChannelError(ErrorCode.InvalidInput, 'Pick a display name.');
    if (this.account !== undefined || this.wrapped !== undefined) throw new ChannelError(ErrorCode.Forbidden, 'This device already has an account.');
    try {
      const { ceremonyId, options } = await this.api.registrationStart(this.deps.rpId);
      // Ask for the PRF extension: when the authenticator evaluates it at creation, the lock is turned on.
      const salt = randomBytes(32);
      this.ceremony = { ceremonyId, displayName: name, salt };
      return { options: withPrf(options, salt) };
    } catch (err) {
      throw accountProblem(err);
    }
  }

  async completeRegistration(displayName: string, response: unknown): Promise<AppState> {
    const ceremony = this.ceremony;
    if (ceremony === undefined) throw new ChannelError(ErrorCode.BadRequest, 'Start the passkey registration first.');
    if (this.account !== undefined) throw new ChannelError(ErrorCode.Forbidden, 'This device already has an account.');
    this.ceremony = undefined;
    const name = displayName.trim() || ceremony.displayName;
    const credentialId = typeof (response as { id?: unknown }).id === 'string' ? (response as { id: string }).id.slice(0, 1024) : '';
    try {
      const session = await this.api.registrationFinish(ceremony.ceremonyId, response);
      const vault = this.vault;
      if (vault === undefined) throw new ChannelError(ErrorCode.Locked, 'MicroChat is locked.');
      const prf = prfResult(response);
      if (prf !== undefined) {
        const kek = deriveKek(prf, ceremony.salt);
        prf.fill(0);
        let raw: Uint8Array | undefined;
        try {
          const how = { kind: 'prf' as const, salt: ceremony.salt, credentialId, displayName: name };
          const marker = await rotateDataKey(this.deps.db, vault, { to: 'wrapped', kek, how, keep: (r) => (raw = r.slice()) }, this.deps.rotation);
          if (raw !== undefined) await this.keepUnlocked(raw, marker.gen);
        } finally {
          kek.fill(0);
          raw?.fill(0);
        }
        this.wrapped = await loadWrappedKey(this.deps.db);
      }
      // No device mailbox and no token spent here: every conversation pays for its own mailbox
      // when it is created or joined. The first batch is issued now, with the new session, on
      // its own connection, and spent later on the delivery path: the relay sees no
      // issue-then-spend at sign-up. (A failure here is retried by the refill once online.)
      const session0 = session.token;
      const first = await TokenWallet.open(() => this.api, tokenStore(this.deps.db, vault), () => session0, this.issuerOption());
      await first.issue(FIRST_BATCH).catch(() => undefined);
      const account: AccountRecord = {
        v: 1,
        relayUrl: this.api.baseUrl,
        accountId: session.accountId,
        displayName: name,
        credentialId,
        session: { token: session.token, expiresAt: session.expiresAt },
      };
      await saveAccount(this.deps.db, vault, account);
      await this.activate(account);
      return this.snapshot;
    } catch (err) {
      throw accountProblem(err);
    }
  }

  /** Options for the unlock ceremony: a relay login (refreshing the session) with the PRF salt. */
  async unlockOptions(): Promise<{ options: unknown }> {
    const wrapped = this.wrapped;
    if (this.vault !== undefined && this.needsLogin && this.account !== undefined) {
      // Signing in again (expired session): a plain relay login with our passkey.
      try {
        const start = await this.api.loginStart(this.deps.rpId);
        this.unlockCeremony = start.ceremonyId;
        return { options: { ...start.options, allowCredentials: [{ id: this.account.credentialId, type: 'public-key' }] } };
      } catch (err) {
        throw accountProblem(err);
      }
    }
    if (wrapped === undefined || this.vault !== undefined) throw new ChannelError(ErrorCode.BadRequest, 'MicroChat is not locked.');
    if (lockKind(wrapped) === 'passphrase') throw new ChannelError(ErrorCode.BadRequest, 'MicroChat is locked with a passphrase.');
    let options: Record<string, unknown> = { challenge: '', userVerification: 'required' };
    try {
      const start = await this.api.loginStart(this.deps.rpId);
      this.unlockCeremony = start.ceremonyId;
      options = start.options;
    } catch {
      // Offline: unlocking is local; the session is refreshed another time.
      this.unlockCeremony = undefined;
      options = { ...options, challenge: toB64(randomBytes(32)), rpId: this.deps.rpId };
    }
    return { options: withPrf(options, wrapped.salt, wrapped.credentialId) };
  }

  async unlock(response: unknown): Promise<AppState> {
    if (this.vault !== undefined && this.needsLogin) return this.signInAgain(response);
    const wrapped = this.wrapped;
    if (wrapped === undefined) throw new ChannelError(ErrorCode.BadRequest, 'MicroChat is not locked.');
    if (this.vault !== undefined) return this.snapshot;
    if (lockKind(wrapped) === 'passphrase') throw new ChannelError(ErrorCode.BadRequest, 'MicroChat is locked with a passphrase.');
    const prf = prfResult(response);
    if (prf === undefined) throw new ChannelError(ErrorCode.InvalidInput, 'This passkey did not provide the key that unlocks MicroChat (PRF). Use the passkey you created the account with.');
    let vault: Vault;
    let raw: Uint8Array | undefined;
    try {
      vault = await unlockVault(wrapped, prf, (r) => (raw = r.slice()));
    } catch (err) {
      if (err instanceof VaultError) throw new ChannelError(ErrorCode.InvalidInput, 'That passkey does not unlock MicroChat.', { cause: err });
      throw err;
    } finally {
      prf.fill(0);
    }
    return this.opened(vault, response, raw);
  }

  /** Unlock a passphrase lock. A wrong passphrase changes nothing; there is no lockout. */
  async unlockPassphrase(passphrase: string): Promise<AppState> {
    const wrapped = this.wrapped;
    if (wrapped === undefined || this.vault !== undefined || lockKind(wrapped) !== 'passphrase') {
      throw new ChannelError(ErrorCode.BadRequest, 'MicroChat is not locked with a passphrase.');
    }
    let vault: Vault;
    let raw: Uint8Array | undefined;
    try {
      vault = await unlockWithPassphrase(wrapped, passphrase, (r) => (raw = r.slice()));
    } catch (err) {
      if (err instanceof VaultError) throw new ChannelError(ErrorCode.InvalidInput, 'That passphrase does not unlock MicroChat. Check it and try again.', { cause: err });
      throw err;
    }
    return this.opened(vault, undefined, raw);
  }

  /**
   * The lock's key is in hand: finish a key rotation that a dying worker left
   * halfway (both keys are available only now), then load the account.
   */
  private async opened(unlocked: Vault, response: unknown, raw?: Uint8Array): Promise<AppState> {
    let vault = unlocked;
    try {
      const rotation = await loadRotation(this.deps.db);
      if (rotation !== undefined) {
        const device = await loadDeviceKey(this.deps.db, rotation.to === 'wrapped' ? DEVICE_KEY : NEXT_DEVICE_KEY, rotation.gen);
        if (device === undefined) throw new ChannelError(ErrorCode.Internal, 'An unfinished change of the lock lost its device key.');
        const [from, to] = rotation.to === 'wrapped' ? [device, unlocked] : [unlocked, device];
        await resumeRotation(this.deps.db, from, to, rotation, this.deps.rotation);
        vault = to;
        this.wrapped = await loadWrappedKey(this.deps.db);
      }
      // The key that was unwrapped is the lock's current one unless the rotation just finished turned the lock off.
      if (raw !== undefined) await (this.wrapped === undefined ? this.forgetKept() : this.keepUnlocked(raw, this.wrapped.gen));
    } finally {
      raw?.fill(0);
    }
    this.vault = vault;
    let account = await loadAccount(this.deps.db, vault);
    if (account === undefined) {
      this.update({ ...this.state, account: { state: 'none' } });
      return this.snapshot;
    }
    const ceremonyId = this.unlockCeremony;
    this.unlockCeremony = undefined;
    if (ceremonyId !== undefined && response !== undefined) {
      try {
        const session = await this.api.loginFinish(ceremonyId, response);
        if (session.accountId === account.accountId) {
          account = { ...account, session: { token: session.token, expiresAt: session.expiresAt } };
          await saveAccount(this.deps.db, vault, account);
        }
      } catch {
        // The relay may be unreachable; the old session stays until it expires.
      }
    }
    await this.activate(account);
    return this.snapshot;
  }

  private async signInAgain(response: unknown): Promise<AppState> {
    const account = this.account;
    const vault = this.vault;
    const ceremonyId = this.unlockCeremony;
    this.unlockCeremony = undefined;
    if (account === undefined || vault === undefined) throw new ChannelError(ErrorCode.BadRequest, 'There is no account to sign in to.');
    if (ceremonyId === undefined) throw new ChannelError(ErrorCode.BadRequest, 'Start signing in first.');
    try {
      const session = await this.api.loginFinish(ceremonyId, response);
      if (session.accountId !== account.accountId) throw new ChannelError(ErrorCode.InvalidInput, 'That passkey belongs to another MicroChat account.');
      const next: AccountRecord = { ...account, session: { token: session.token, expiresAt: session.expiresAt } };
      await saveAccount(this.deps.db, vault, next);
      this.account = next;
      this.needsLogin = false;
      this.update({ ...this.state, account: this.accountView() });
      void this.wallet?.refill();
      return this.snapshot;
    } catch (err) {
      throw accountProblem(err);
    }
  }

  // -- the lock, on and off -------------------------------------------------

  private unlockedAccount(): { account: AccountRecord; vault: Vault } {
    const account = this.account;
    const vault = this.vault;
    if (vault === undefined) throw new ChannelError(ErrorCode.Locked, 'MicroChat is locked.');
    if (account === undefined) throw new ChannelError(ErrorCode.Forbidden, 'Create your account first.');
    return { account, vault };
  }

  /**
   * Options for a passkey ceremony that evaluates the PRF for a new lock. Like
   * unlocking, it is a relay login when the relay answers (its options carry
   * the RP ID the passkey was made for, and the session is refreshed), else a
   * local ceremony whose challenge goes nowhere.
   */
  async lockOptions(): Promise<{ options: unknown }> {
    const { account } = this.unlockedAccount();
    if (this.wrapped !== undefined) throw new ChannelError(ErrorCode.BadRequest, 'The lock is already on.');
    const salt = randomBytes(32);
    let options: Record<string, unknown> = { challenge: toB64(randomBytes(32)), userVerification: 'required', ...(this.deps.rpId === undefined ? {} : { rpId: this.deps.rpId }) };
    let ceremonyId: string | undefined;
    try {
      const start = await this.api.loginStart(this.deps.rpId);
      ceremonyId = start.ceremonyId;
      options = start.options;
    } catch {
      // Offline: the PRF is local; the session is refreshed another time.
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
    const { account, vault } = this.unlockedAccount();
    if (this.wrapped !== undefined) throw new ChannelError(ErrorCode.BadRequest, 'The lock is already on.');
    let kek: Uint8Array;
    let ceremonyId: string | undefined;
    let how: { kind: 'prf' | 'passphrase'; salt: Uint8Array; kdf?: Argon2Params; credentialId: string; displayName: string };
    if ('passphrase' in params) {
      const problem = passphraseProblem(params.passphrase);
      if (problem !== null) throw new ChannelError(ErrorCode.InvalidInput, problem);
      const salt = randomBytes(32);
      const kdf = this.deps.passphraseKdf ?? PASSPHRASE_KDF;
      kek = await passphraseKek(params.passphrase, salt, kdf);
      how = { kind: 'passphrase', salt, kdf, credentialId: '', displayName: account.displayName };
    } else {
      const ceremony = this.lockCeremony;
      this.lockCeremony = undefined;
      if (ceremony === undefined) throw new ChannelError(ErrorCode.BadRequest, 'Start turning the lock on first.');
      ceremonyId = ceremony.ceremonyId;
      if ((params.response as { id?: unknown }).id !== account.credentialId) {
        throw new ChannelError(ErrorCode.InvalidInput, 'Use the passkey of this MicroChat account.');
      }
      const prf = prfResult(params.response);
      if (prf === undefined) throw new ChannelError(ErrorCode.InvalidInput, 'This passkey cannot provide a key for the lock (no PRF support). Choose a passphrase instead.');
      kek = deriveKek(prf, ceremony.salt);
      prf.fill(0);
      how = { kind: 'prf', salt: ceremony.salt, credentialId: account.credentialId, displayName: account.displayName };
    }
    let raw: Uint8Array | undefined;
    try {
      const marker = await rotateDataKey(this.deps.db, vault, { to: 'wrapped', kek, how, keep: (r) => (raw = r.slice()) }, this.deps.rotation);
      if (raw !== undefined) await this.keepUnlocked(raw, marker.gen);
    } catch (err) {
      throw new ChannelError(ErrorCode.Internal, 'Turning the lock on did not finish. It finishes the next time MicroChat is unlocked.', { cause: err });
    } finally {
      kek.fill(0);
      raw?.fill(0);
    }
    this.wrapped = await loadWrappedKey(this.deps.db);
    if ('response' in params && ceremonyId !== undefined) await this.refreshSession(ceremonyId, params.response);
    this.update({ ...this.state, account: this.accountView() });
    return this.snapshot;
  }

  /** Finish a relay login that a lock ceremony doubled as; best effort (the old session stays until it expires). */
  private async refreshSession(ceremonyId: string, response: unknown): Promise<void> {
    const { account, vault } = this.unlockedAccount();
    try {
      const session = await this.api.loginFinish(ceremonyId, response);
      if (session.accountId !== account.accountId) return;
      const next: AccountRecord = { ...account, session: { token: session.token, expiresAt: session.expiresAt } };
      await saveAccount(this.deps.db, vault, next);
      this.account = next;
    } catch {
      // unreachable relay or a refused login: the lock is on regardless
    }
  }

  /** Turn the lock off: every sealed record moves to a fresh device key kept beside the data; the wrapped key is deleted. */
  async disableLock(): Promise<AppState> {
    const { vault } = this.unlockedAccount();
    if (this.wrapped === undefined) throw new ChannelError(ErrorCode.BadRequest, 'The lock is already off.');
    try {
      await rotateDataKey(this.deps.db, vault, { to: 'device' }, this.deps.rotation);
    } catch (err) {
      throw new ChannelError(ErrorCode.Internal, 'Turning the lock off did not finish. It finishes the next time MicroChat is unlocked.', { cause: err });
    }
    this.wrapped = undefined;
    // The kept key was the wrapped one, now deleted: nothing of it stays in memory storage either.
    await this.forgetKept();
    this.update({ ...this.state, account: this.accountView() });
    return this.snapshot;
  }

  // -- relay and settings ----------------------------------------------------

  /** Check the relay's health; concurrent callers for the same URL share one check. */
  checkRelay(): Promise<RelayStatus> {
    const url = this.state.relay.url;
    if (this.inflight?.url === url) return this.inflight.check;
    const check = (async () => {
      this.update({ ...this.state, relay: { url, state: 'checking' } });
      const health = await checkRelayHealth(url, 5000, this.deps.fetch);
      const relay: RelayStatus = health.ok
        ? { url, state: 'reachable', checkedAt: Date.now() }
        : { url, state: 'unreachable', checkedAt: Date.now(), ...(health.detail ? { detail: health.detail } : {}) };
      // The URL may have changed while we waited; only publish a current answer.
      if (this.state.relay.url === url) this.update({ ...this.state, relay });
      return relay;
    })().finally(() => {
      if (this.inflight?.check === check) this.inflight = undefined;
    });
    this.inflight = { url, check };
    return check;
  }

  async setRelayUrl(input: string): Promise<AppState> {
    const url = normalizeRelayUrl(input);
    if (this.account !== undefined && url !== this.account.relayUrl) {
      throw new ChannelError(ErrorCode.Forbidden, `Your account lives on ${this.account.relayUrl}; it cannot move to another relay.`);
    }
    await saveSetting(this.deps.db, 'relayUrl', url);
    this.api = new RelayApi(url, this.deps.fetch === undefined ? {} : { fetch: this.deps.fetch });
    this.update({ ...this.state, relay: { url, state: 'unknown' } });
    await this.checkRelay();
    return this.snapshot;
  }

  /** A new display name: kept in the sealed account record, then announced in every conversation (never to the relay). */
  async setDisplayName(displayName: string): Promise<AppState> {
    const name = displayName.trim();
    if (name === '') throw new ChannelError(ErrorCode.InvalidInput, 'Pick a display name.');
    const account = this.account;
    const vault = this.vault;
    if (account === undefined || vault === undefined) throw new ChannelError(ErrorCode.Locked, 'MicroChat is locked.');
    if (name === account.displayName) return this.snapshot;
    const next: AccountRecord = { ...account, displayName: name };
    await saveAccount(this.deps.db, vault, next);
    this.account = next;
    this.update({ ...this.state, account: this.accountView() });
    await this.chat?.announceName();
    return this.snapshot;
  }

  async setNotifications(enabled: boolean): Promise<AppState> {
    await saveSetting(this.deps.db, 'notifications', enabled);
    this.update({ ...this.state, settings: { ...this.state.settings, notifications: enabled } });
    if (!enabled) this.notify(this.notifications.clearAll());
    return this.snapshot;
  }

  async setReadReceipts(enabled: boolean): Promise<AppState> {
    await saveSetting(this.deps.db, 'readReceipts', enabled);
    this.update({ ...this.state, settings: { ...this.state.settings, readReceipts: enabled } });
    return this.snapshot;
  }

  /**
   * "Share this page" was chosen: record the offer and show it in the views;
   * nothing is sent until the person confirms a conversation (share-offer.ts).
   * A newer offer replaces an unanswered one. False when the URL cannot be shared.
   */
  offerShare(title: string, url: string): boolean {
    const offer = makeShareOffer(title, url, this.chat?.summaries() ?? []);
    if (offer === undefined) return false;
    this.update({ ...this.state, share: offer });
    // An offer nobody answered does not pop up hours later, when the panel is next opened.
    setTimeout(() => this.cancelShare(offer.shareId), this.deps.shareTtlMs ?? SHARE_TTL_MS);
    return true;
  }

  /** Send the offered page to the conversation the person chose, once: the offer is gone before the send starts. */
  async sendShare(shareId: string, conversationId: string): Promise<MessageView> {
    const offer = this.state.share;
    if (offer === undefined || offer.shareId !== shareId) throw new ChannelError(ErrorCode.NotFound, 'This share is no longer waiting. Share the page again.');
    const chat = this.needChat();
    this.update(withoutShare(this.state));
    try {
      return this.reconnectingNow(await chat.sendText(conversationId, offer.text));
    } catch (err) {
      // Not sent (e.g. the conversation ended meanwhile): the person can pick another.
      if (this.state.share === undefined) this.update({ ...this.state, share: offer });
      throw err;
    }
  }

  cancelShare(shareId: string): void {
    if (this.state.share?.shareId === shareId) this.update(withoutShare(this.state));
  }

  /** Whether the background holds (or is bringing up) a relay connection: keep the worker alive meanwhile. */
  get holdsConnection(): boolean {
    return this.connection !== undefined;
  }

  /** Retry now, or the browser is back online: try the relay at once instead of at the end of the back-off. */
  retryConnection(): void {
    this.connection?.nudge();
  }

  /** Sign out: end the relay session (best effort, briefly), then wipe this device (account-removal.ts). */
  async signOut(): Promise<AppState> {
    const account = this.account;
    if (account === undefined && this.wrapped === undefined) throw new ChannelError(ErrorCode.BadRequest, 'There is no account on this device.');
    if (account !== undefined && !sessionExpired(account)) {
      await Promise.race([this.api.logout(account.session.token).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
    }
    return this.forget();
  }

  /** Delete the account: leave every conversation, delete it at the relay, then wipe this device. */
  async deleteAccount(): Promise<AppState> {
    const { account } = this.unlockedAccount();
    const chat = this.needChat();
    if (this.needsLogin || sessionExpired(account)) {
      throw new ChannelError(ErrorCode.Forbidden, 'Your relay session expired. Unlock MicroChat with your passkey, then try again.');
    }
    await deleteAccountEverywhere({
      reachRelay: async () => void (await this.api.limits()),
      conversations: () => chat.summaries(),
      leave: (id) => chat.leave(id),
      deleteAtRelay: () => this.api.deleteAccount(account.session.token),
    });
    return this.forget();
  }

  /** Drop everything of the account in memory and on disk; the view goes back to onboarding. */
  private async forget(): Promise<AppState> {
    // Nothing of the account may outlive a sign-out: not the unlocked key kept for a stopped worker, not a notification.
    await this.forgetKept();
    this.notify(this.notifications.clearAll());
    const connection = this.connection;
    this.connection = undefined;
    connection?.stop();
    const chat = this.chat;
    this.chat = undefined;
    await chat?.close().catch(() => undefined);
    this.wallet = undefined;
    this.account = undefined;
    this.needsLogin = false;
    this.wrapped = undefined;
    this.ceremony = undefined;
    this.unlockCeremony = undefined;
    this.lockCeremony = undefined;
    await wipeDevice(this.deps.db, this.vault);
    this.vault = await Vault.open(vaultKeySlot(this.deps.db));
    const relay: RelayStatus = { url: this.state.relay.url, state: 'unknown' };
    this.update({ ...this.state, account: { state: 'none' }, connection: 'offline', relay, conversations: [], unreadTotal: 0 });
    // Onboarding shows whether the relay answers; ask it rather than keep what the live connection last said.
    void this.checkRelay();
    return this.snapshot;
  }

  /** Stop the connection (tests; a worker is simply killed). */
  stop(): void {
    this.connection?.stop();
    this.connection = undefined;
    // Its timers (receipts due) must not fire into a store another instance may open; what is due stays in the store.
    this.chat?.cancelTimers();
  }

  private needChat(): ChatService {
    if (this.vault === undefined) throw new ChannelError(ErrorCode.Locked, 'MicroChat is locked. Unlock it with your passkey.');
    if (this.chat === undefined) throw new ChannelError(ErrorCode.Forbidden, 'Create your account first.');
    return this.chat;
  }

  readonly handlers: Handlers = {
    'state.get': async () => this.snapshot,
    'relay.check': async () => this.checkRelay(),
    'settings.setRelayUrl': async ({ url }) => this.setRelayUrl(url),
    'settings.setNotifications': async ({ enabled }) => this.setNotifications(enabled),
    'account.registrationOptions': async ({ displayName }) => this.registrationOptions(displayName),
    'account.completeRegistration': async ({ displayName, response }) => this.completeRegistration(displayName, response),
    'account.unlockOptions': async () => this.unlockOptions(),
    'account.unlock': async ({ response }) => this.unlock(response),
    'account.unlockPassphrase': async ({ passphrase }) => this.unlockPassphrase(passphrase),
    'lock.enableOptions': async () => this.lockOptions(),
    'lock.enable': async (params) => this.enableLock(params),
    'lock.disable': async () => this.disableLock(),
    'account.setDisplayName': async ({ displayName }) => this.setDisplayName(displayName),
    'conversation.create': async ({ name }) => ({ conversationId: await this.needChat().create(name) }),
    'conversation.rename': async ({ conversationId, name }) => (await this.needChat().rename(conversationId, name), null),
    'conversation.get': async ({ conversationId }) => this.needChat().detail(conversationId),
    'conversation.markRead': async ({ conversationId }) => (await this.needChat().markRead(conversationId), null),
    'conversation.removeMember': async ({ conversationId, memberId }) => (await this.needChat().removeMember(conversationId, memberId), null),
    'conversation.leave': async ({ conversationId }) => (await this.needChat().leave(conversationId), null),
    'conversation.delete': async ({ conversationId }) => (await this.needChat().delete(conversationId), null),
    'invite.create': async (p) =>
      this.needChat().createInvite(p.conversationId, p.mode, p.mode === 'expiring' ? p.expiresInHours : ONE_TIME_INVITE_HOURS),
    'invite.join': async ({ link }) => ({ conversationId: await this.needChat().join(link) }),
    'invite.list': async ({ conversationId }) => this.needChat().listInvites(conversationId),
    'invite.revoke': async ({ conversationId, inviteId }) => (await this.needChat().revokeInvite(conversationId, inviteId), null),
    'invite.link': async ({ conversationId, inviteId }) => this.needChat().inviteLink(conversationId, inviteId),
    'messages.page': async ({ conversationId, beforeSeq, limit }) => this.needChat().page(conversationId, beforeSeq, limit),
    'message.send': async ({ conversationId, text }) => this.reconnectingNow(await this.needChat().sendText(conversationId, text)),
    'message.retry': async ({ conversationId, messageId }) => this.reconnectingNow(await this.needChat().retry(conversationId, messageId)),
    'conversation.setPinned': async ({ conversationId, pinned }) => (await this.needChat().place(conversationId, { pinned }), null),
    'conversation.setArchived': async ({ conversationId, archived }) => (await this.needChat().place(conversationId, { archived }), null),
    'share.send': async ({ shareId, conversationId }) => this.sendShare(shareId, conversationId),
    'share.cancel': async ({ shareId }) => (this.cancelShare(shareId), null),
    'lock.now': async () => this.lockNow(),
    'lock.setTimeout': async ({ timeout }) => this.setLockTimeout(timeout),
    'settings.setNotificationContent': async ({ content }) => this.setNotificationContent(content),
    'conversation.mute': async ({ conversationId, duration }) => this.mute(conversationId, duration),
    'settings.setReadReceipts': async ({ enabled }) => this.setReadReceipts(enabled),
    'connection.retry': async () => (this.retryConnection(), null),
    'account.signOut': async () => this.signOut(),
    'account.delete': async () => this.deleteAccount(),
    'conversation.setAdmin': async ({ conversationId, memberId, admin }) => (await this.needChat().setAdmin(conversationId, memberId, admin), null),
    'conversation.setInvitePolicy': async ({ conversationId, policy }) => (await this.needChat().setInvitePolicy(conversationId, policy), null),
    'conversation.end': async ({ conversationId }) => (await this.needChat().end(conversationId), null),
  };

  // -- staying unlocked (unlocked-key.ts) --------------------------------------

  /** Woken with the lock on: reopen with the key kept in session storage, if it is still there and in time. */
  private async reopenKept(wrapped: WrappedKey): Promise<void> {
    const kept = this.deps.unlockedKeys;
    if (kept === undefined) return;
    const raw = await kept.take(wrapped.gen).catch(() => undefined);
    if (raw === undefined) return;
    let vault: Vault;
    try {
      vault = await Vault.fromRawKey(raw, wrapped.gen);
    } catch {
      await this.forgetKept();
      return;
    } finally {
      raw.fill(0);
    }
    try {
      await this.opened(vault, undefined);
    } catch {
      // A kept key that does not open the data (it should not happen): locked, as without it.
      await this.lockNow().catch(() => undefined);
    }
  }

  private async keepUnlocked(raw: Uint8Array, gen: number | undefined): Promise<void> {
    // Best effort: without it the person unlocks again after the next worker stop.
    await this.deps.unlockedKeys?.keep(raw, gen, this.state.settings.lockTimeout).catch(() => undefined);
  }

  /** Wipe the kept key (Lock now, expiry, lock turned off; a sign-out must call this too). */
  async forgetKept(): Promise<void> {
    await this.deps.unlockedKeys?.wipe().catch(() => undefined);
  }

  /**
   * A view asked for something. Past the deadline (a worker kept alive may
   * have missed its alarm) it locks first. Otherwise it is use, which moves
   * the deadline, unless the view asked by itself (reading what just arrived
   * in an open conversation): a busy conversation left on screen still locks.
   */
  async beforeRequest(method?: unknown): Promise<void> {
    const kept = this.deps.unlockedKeys;
    if (kept === undefined || this.vault === undefined || this.wrapped === undefined) return;
    const used = typeof method !== 'string' || !NOT_USE.has(method);
    if (!(await kept.touch(this.state.settings.lockTimeout, used).catch(() => true))) await this.lockNow();
  }

  /** The lock alarm fired, or the worker woke: lock when the deadline has passed. */
  async expireIfDue(): Promise<void> {
    if (this.deps.unlockedKeys?.expired() === true && this.vault !== undefined && this.wrapped !== undefined) await this.lockNow();
  }

  /**
   * Lock now: forget the data key (session storage and this worker's
   * memory), close the relay connection and drop every decrypted state.
   * Until the next unlock nothing is received: messages wait at the relay.
   */
  async lockNow(): Promise<AppState> {
    const wrapped = this.wrapped;
    if (wrapped === undefined) throw new ChannelError(ErrorCode.BadRequest, 'The lock is off: turn it on in settings first.');
    await this.forgetKept();
    // Locked, nothing of the conversations shows: not even in a notification left on screen.
    this.notify(this.notifications.clearAll());
    const vault = this.vault;
    // Writers in flight (a record sealed but not yet stored) finish first; none start meanwhile.
    await (vault?.exclusive(async () => undefined) ?? Promise.resolve());
    this.connection?.stop();
    this.connection = undefined;
    // Locked, nothing is sent: not even a receipt that was due (the next unlock sends it from the store).
    void this.chat?.close().catch(() => undefined);
    this.chat = undefined;
    this.wallet = undefined;
    const displayName = this.account?.displayName ?? wrapped.displayName;
    this.account = undefined;
    this.vault = undefined;
    this.needsLogin = false;
    this.update({ ...this.state, connection: 'offline', account: lockedView(wrapped, displayName), conversations: [], unreadTotal: 0 });
    return this.snapshot;
  }

  async setLockTimeout(timeout: LockTimeout): Promise<AppState> {
    await saveSetting(this.deps.db, 'lockTimeout', timeout);
    this.update({ ...this.state, settings: { ...this.state.settings, lockTimeout: timeout } });
    if (this.vault !== undefined && this.wrapped !== undefined) await this.deps.unlockedKeys?.retime(timeout).catch(() => undefined);
    return this.snapshot;
  }
}

function withoutShare(state: AppState): AppState {
  const { share: _gone, ...rest } = state;
  return rest;
}

function lockedView(wrapped: WrappedKey, displayName: string): AppState['account'] {
  return lockKind(wrapped) === 'passphrase' ? { state: 'locked', displayName, unlockWith: 'passphrase' } : { state: 'locked', displayName };
}
const SHARE_TTL_MS = 10 * 60_000;
/** Requests a view makes by itself as messages arrive or state changes; they do not keep the lock open. */
const NOT_USE: ReadonlySet<string> = new Set<Method>(['state.get', 'relay.check', 'conversation.markRead', 'messages.page']);

/** How long a notification click waits for a side panel that is still opening. */
const OPEN_REQUEST_MS = 10_000;
/** Tokens issued at sign-up (a refill tops up to the wallet's usual supply later). */
const FIRST_BATCH = 50;

function sessionExpired(a: AccountRecord): boolean {
  return a.session.expiresAt <= Math.floor(Date.now() / 1000) + 60;
}

function accountProblem(err: unknown): ChannelError {
  if (err instanceof ChannelError) return err;
  if (err instanceof RelayApiError) {
    if (err.unreachable) return new ChannelError(ErrorCode.Unavailable, 'The relay could not be reached. Check the relay URL in settings.', { cause: err });
    if (err.code === 'ceremony_failed') return new ChannelError(ErrorCode.InvalidInput, 'The passkey could not be verified. Please try again.', { cause: err });
    return new ChannelError(ErrorCode.Unavailable, `The relay refused: ${err.message}`, { cause: err });
  }
  return new ChannelError(ErrorCode.Internal, 'Creating the account failed. Please try again.', { cause: err });
}
