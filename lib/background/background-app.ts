/**
 * The background's application core: it owns the state, persists it, talks to
 * the relay, and publishes the view state to every subscribed view. The
 * service-worker entrypoint only wires this to the browser (platform hooks
 * for the badge, notifications and alarms come in through `Platform`).
 *
 * This file is the façade: it starts the app and routes each request to the
 * part that holds its idea, in app/:
 *
 *   core.ts            the shared state: deps, view state, the open session
 *   view-publisher.ts  the view state, its subscribers and the badge
 *   session.ts         opening the account's session (wallet, chat, connection)
 *   account-flows.ts   creating, signing in again, renaming, signing out, deleting
 *   lock-control.ts    unlocking, the lock on and off, locking now or on timeout
 *   kept-key.ts        the unlocked key kept for a stopped worker
 *   connection.ts      the live relay connection, catching up, the health check
 *   settings.ts        the person's settings
 *   notifications.ts   desktop notifications and "show this conversation"
 *   share.ts           "share this page" offers
 *   backup-control.ts  the encrypted backup kept current, exported, deleted
 *   restore-control.ts "Restore my account" in a fresh profile, resumed at start
 *
 * Start-up is quick by design (the worker is woken often): settings, the
 * vault key, the account record, the token wallet and the conversations'
 * metadata are read; group states are decrypted only when a conversation is
 * used. The live connection then catches up on what the relay holds.
 */
import type { ChatService } from './chat-service.ts';
import type { Healing } from './healing/healing.ts';
import type { AccountRecord } from './account.ts';
import {
  ONE_TIME_INVITE_HOURS,
  type AppState,
  type LiveEvent,
  type MessageView,
  type RelayStatus,
  type ResponseMessage,
  type MuteDuration,
  type NotificationContent,
  type ViewPresence,
} from '../protocol/channel.ts';
import { DEFAULT_RELAY_URL } from './relay-url.ts';
import { loadSetting, vaultKeySlot } from './db.ts';
import { Vault, VaultError } from './vault.ts';
import { loadWrappedKey, WRAPPED_NEXT } from './lock.ts';
import { loadRotation } from './key-rotation.ts';
import type { LockTimeout } from './unlocked-key.ts';
import { muteUntil } from './mute.ts';
import { loadAccount } from './account.ts';
import type { BackgroundDeps } from './app/deps.ts';
import { AppCore, sessionEnds } from './app/core.ts';
import { AppNotifications } from './app/notifications.ts';
import { ShareOffers } from './app/share.ts';
import { RelayLink } from './app/connection.ts';
import { DeviceDirectory } from './app/directory.ts';
import { OwnDevices } from './app/devices.ts';
import { SessionOpener } from './app/session.ts';
import { KeptKey } from './app/kept-key.ts';
import { AccountFlows } from './app/account-flows.ts';
import { LockControl } from './app/lock-control.ts';
import { loadSettings, SettingsControl } from './app/settings.ts';
import { LinkControl } from './app/linking.ts';
import { RecoveryControl } from './app/recovery.ts';
import { BackupControl } from './app/backup-control.ts';
import { RestoreControl } from './app/restore-control.ts';
import { backupRejoin } from './app/backup-rejoin.ts';
import { markWake } from './wake-timing.ts';
import { answerRequest, type Handlers } from './channel-server.ts';
import { WakeStateWriter } from './wake-state.ts';

export type { BackgroundDeps, Platform } from './app/deps.ts';

export type { Handlers } from './channel-server.ts';

export class BackgroundApp {
  private readonly core: AppCore;
  private readonly notifications: AppNotifications;
  private readonly share: ShareOffers;
  private readonly link: RelayLink;
  private readonly session: SessionOpener;
  private readonly accounts: AccountFlows;
  private readonly lock: LockControl;
  private readonly settings: SettingsControl;
  private readonly kept: KeptKey;
  private readonly linking: LinkControl;
  private readonly devices: OwnDevices;
  private readonly recovery: RecoveryControl;
  private readonly backup: BackupControl;
  private readonly restore: RestoreControl;
  private readonly wakeState: WakeStateWriter;

  private constructor(core: AppCore) {
    this.core = core;
    this.wakeState = new WakeStateWriter(core.deps.db, core.deps.version, () => core.vault, () => {
      const a = core.account;
      return a === undefined ? undefined : sessionEnds(a);
    });
    core.view.subscribe((state) => this.wakeState.changed(state));
    this.link = new RelayLink(core);
    core.directory = new DeviceDirectory(core, this.link);
    core.devices = this.devices = new OwnDevices(core);
    this.share = new ShareOffers(core, (result) => this.link.reconnectingNow(result));
    this.notifications = new AppNotifications(core, () => this.session.publishChat());
    this.session = new SessionOpener(core, this.link, this.notifications, this.share);
    const kept = (this.kept = new KeptKey(core));
    this.accounts = new AccountFlows(core, this.session, kept, this.link, this.notifications, () => this.lock.forgetCeremony());
    this.lock = new LockControl(core, this.accounts, this.session, kept, this.link, this.notifications);
    this.settings = new SettingsControl(core, this.link, this.notifications, kept);
    this.linking = new LinkControl(core, core.deps.linkPorts, (name) => this.accounts.setDisplayName(name));
    const rejoin = backupRejoin(core);
    this.backup = new BackupControl(core, () => rejoin.source, core.deps.backupDelayMs);
    this.recovery = new RecoveryControl(core, (secret, previous) => this.backup.newKey(secret, previous));
    this.restore = new RestoreControl(core, () => rejoin.rejoiner, {
      setDisplayName: (name) => this.accounts.setDisplayName(name),
      backUp: () => this.backup.runNow(),
    });
  }

  static async start(deps: BackgroundDeps): Promise<BackgroundApp> {
    const [relayUrl, current, rotation, settings] = await Promise.all([
      loadSetting(deps.db, 'relayUrl'),
      loadWrappedKey(deps.db),
      loadRotation(deps.db),
      loadSettings(deps.db),
    ]);
    markWake('settings');
    // A rotation cut short holds a wrapped key on one side (the lock being turned on, or the one being
    // turned off): it finishes after the unlock, when both keys are in hand.
    const wrapped = rotation?.to === 'wrapped' ? await loadWrappedKey(deps.db, WRAPPED_NEXT) : current;
    if (rotation !== undefined && wrapped === undefined) throw new VaultError('corrupt', 'an unfinished key rotation lost its wrapped key');
    // Locked: the data key exists only wrapped; wait for the passkey or the passphrase.
    const vault = wrapped === undefined ? await Vault.open(vaultKeySlot(deps.db)) : undefined;
    markWake('vault');
    const app = new BackgroundApp(new AppCore(deps, vault, relayUrl ?? DEFAULT_RELAY_URL, settings, wrapped));
    // The session's own reads start now, while the account is unsealed.
    const reads = vault === undefined ? undefined : app.session.read(vault);
    const account = vault === undefined ? undefined : await loadAccount(deps.db, vault);
    markWake('account');
    if (account !== undefined) {
      await app.session.activate(account, reads);
      markWake('session');
      app.linking.resume();
      app.restore.resume();
    }
    if (vault === undefined && wrapped !== undefined) await app.lock.reopenKept(wrapped);
    return app;
  }

  // -- the view state ----------------------------------------------------------

  get snapshot(): AppState {
    return this.core.snapshot;
  }

  subscribe(listener: (state: AppState) => void): () => void {
    return this.core.view.subscribe(listener);
  }

  /** Live message events (new messages, status changes). */
  subscribeEvents(listener: (event: LiveEvent) => void): () => void {
    return this.core.view.subscribeEvents(listener);
  }

  // -- notifications -------------------------------------------------------------

  /** A view's live port says what it shows and whether it is visible; `null` when the port disconnected. */
  presence(view: unknown, presence: ViewPresence | null): void {
    this.notifications.presence(view, presence);
  }

  /** Notifications of ours the browser still shows (after the background restarted): cleared like new ones. */
  adoptNotifications(ids: readonly string[]): void {
    this.notifications.adopt(ids);
  }

  /** The person dismissed one of our notifications. */
  notificationClosed(id: string): void {
    this.notifications.closed(id);
  }

  /** Whether a view is visible now (a notification click can then be shown there). */
  viewVisible(): boolean {
    return this.notifications.viewVisible();
  }

  /** Show a conversation in the side panel: views open now are told, one that is opening asks on connect. */
  openConversation(conversationId: string): void {
    this.notifications.openConversation(conversationId);
  }

  /** The open request of the last few seconds, once (a side panel opened by the click asks when it connects). */
  takeOpenRequest(): string | undefined {
    return this.notifications.takeOpenRequest();
  }

  async mute(conversationId: string, duration: MuteDuration | 'off'): Promise<null> {
    await this.core.needChat().setMute(conversationId, duration === 'off' ? undefined : muteUntil(duration, Date.now()));
    return null;
  }

  // -- settings --------------------------------------------------------------------

  setRelayUrl(input: string): Promise<AppState> {
    return this.settings.setRelayUrl(input);
  }

  setNotifications(enabled: boolean): Promise<AppState> {
    return this.settings.setNotifications(enabled);
  }

  setNotificationContent(content: NotificationContent): Promise<AppState> {
    return this.settings.setNotificationContent(content);
  }

  setReadReceipts(enabled: boolean): Promise<AppState> {
    return this.settings.setReadReceipts(enabled);
  }

  setLockTimeout(timeout: LockTimeout): Promise<AppState> {
    return this.settings.setLockTimeout(timeout);
  }

  // -- the account -----------------------------------------------------------------

  registrationOptions(displayName: string): Promise<{ options: unknown }> {
    return this.accounts.registrationOptions(displayName);
  }

  completeRegistration(displayName: string, response: unknown): Promise<AppState> {
    return this.accounts.completeRegistration(displayName, response);
  }

  /** A new display name: kept in the sealed account record, then announced in every conversation (never to the relay). */
  setDisplayName(displayName: string): Promise<AppState> {
    return this.accounts.setDisplayName(displayName);
  }

  /** Sign out: end the relay session (best effort, briefly), then wipe this device (account-removal.ts). */
  signOut(): Promise<AppState> {
    return this.accounts.signOut();
  }

  /** Delete the account: leave every conversation, delete it at the relay, then wipe this device. */
  deleteAccount(): Promise<AppState> {
    return this.backup.deletingAccount(() => this.accounts.deleteAccount());
  }

  // -- the lock --------------------------------------------------------------------

  /** Options for the unlock ceremony: a relay login (refreshing the session) with the PRF salt. */
  unlockOptions(): Promise<{ options: unknown }> {
    return this.lock.unlockOptions();
  }

  unlock(response: unknown): Promise<AppState> {
    return this.lock.unlock(response).then((state) => this.afterUnlock(state));
  }

  /** Unlock a passphrase lock. A wrong passphrase changes nothing; there is no lockout. */
  unlockPassphrase(passphrase: string): Promise<AppState> {
    return this.lock.unlockPassphrase(passphrase).then((state) => this.afterUnlock(state));
  }

  lockOptions(): Promise<{ options: unknown }> {
    return this.lock.lockOptions();
  }

  enableLock(params: { response: unknown } | { passphrase: string }): Promise<AppState> {
    return this.lock.enableLock(params);
  }

  disableLock(): Promise<AppState> {
    return this.lock.disableLock();
  }

  /** Lock now: forget the data key, close the relay connection and drop every decrypted state. */
  lockNow(): Promise<AppState> {
    return this.lock.lockNow();
  }

  /** Runs before each request from a view: past the lock's deadline it locks first; otherwise it is use. */
  beforeRequest(method?: unknown): Promise<void> {
    return this.lock.beforeRequest(method);
  }

  /** Answer one request from a view (the view channel, channel-server.ts). */
  handle(raw: unknown): Promise<ResponseMessage<unknown>> {
    return answerRequest(this, raw);
  }

  /** The lock alarm fired, or the worker woke: lock when the deadline has passed. */
  expireIfDue(): Promise<void> {
    return this.lock.expireIfDue();
  }

  /** Wipe the unlocked key kept for a stopped worker (Lock now, expiry, lock turned off, sign-out). */
  forgetKept(): Promise<void> {
    return this.kept.forget();
  }

  // -- the relay -------------------------------------------------------------------

  /** Check the relay's health; concurrent callers for the same URL share one check. */
  checkRelay(): Promise<RelayStatus> {
    return this.link.checkRelay();
  }

  /** Catch up without the socket (alarm wake-ups, or no WebSocket), then flush the outbox. */
  catchUp(): Promise<number> {
    return this.link.catchUp();
  }

  /** Whether the background holds (or is bringing up) a relay connection: keep the worker alive meanwhile. */
  get holdsConnection(): boolean {
    return this.link.holds;
  }

  /** Retry now, or the browser is back online: try the relay at once instead of at the end of the back-off. */
  retryConnection(): void {
    this.link.retry();
  }

  /** Stop the connection (tests; a worker is simply killed). */
  stop(): void {
    this.wakeState.stop();
    this.link.stop();
    // Its timers (receipts due) must not fire into a store another instance may open; what is due stays in the store.
    // Nor may a delivery or a job still under way here write or acknowledge anything: the next instance reads the store.
    this.core.devices?.stop();
    this.backup.stop();
    this.restore.stop();
    this.core.chat?.halt();
  }

  // -- sharing a page ----------------------------------------------------------------

  /**
   * "Share this page" was chosen: record the offer and show it in the views;
   * nothing is sent until the person confirms a conversation (share-offer.ts).
   * A newer offer replaces an unanswered one. False when the URL cannot be shared.
   */
  offerShare(title: string, url: string): boolean {
    return this.share.offer(title, url);
  }

  sendShare(shareId: string, conversationId: string): Promise<MessageView> {
    return this.share.send(shareId, conversationId);
  }

  cancelShare(shareId: string): void {
    this.share.cancel(shareId);
  }

  /**
   * Rejoin slots and resync (healing/healing.ts): the backup's RejoinSource and Rejoiner
   * (backup/ports.ts). Undefined without an open session (signed out, or locked).
   */
  get healing(): Healing | undefined {
    return this.core.chat?.healing;
  }

  // -- seams the integration and security tests reach through -------------------------

  protected get chat(): ChatService | undefined {
    return this.core.chat;
  }

  protected get account(): AccountRecord | undefined {
    return this.core.account;
  }

  /** Backup and restore, for the tests that wait on them. */
  protected get backups(): { backup: BackupControl; restore: RestoreControl } {
    return { backup: this.backup, restore: this.restore };
  }

  /** Reconnect as if the worker had just woken. */
  protected connect(): void {
    this.link.connect();
  }

  // -- the view channel ----------------------------------------------------------------

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
    'message.send': async ({ conversationId, text, mentions }) => (this.devices.refuseWhenRemoved(), this.link.reconnectingNow(await this.needChat().sendText(conversationId, text, undefined, mentions))),
    'message.retry': async ({ conversationId, messageId }) => this.link.reconnectingNow(await this.needChat().retry(conversationId, messageId)),
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
    'device.address': async () => this.needChat().deviceAddress(),
    'conversation.addDevices': async ({ conversationId, devices }) => (await this.needChat().addDevices(conversationId, devices), null),
    'conversation.startDirect': async ({ devices, name }) => ({ conversationId: await this.needChat().startDirect(devices, name) }),
    'person.verify': async ({ conversationId, personKey }) => (await this.needChat().setVerified(conversationId, personKey, true), null),
    'person.unverify': async ({ conversationId, personKey }) => (await this.needChat().setVerified(conversationId, personKey, false), null),
    'link.start': async () => this.linking.start(),
    'link.enter': async ({ code, sendHistory }) => this.linking.enter(code, sendHistory),
    'link.confirm': async ({ match }) => (await this.linking.confirm(match), null),
    'link.cancel': async () => (await this.linking.cancel(), null),
    'devices.list': async () => this.devices.list(),
    'devices.remove': async ({ deviceKey }) => this.devices.remove(deviceKey),
    'message.reply': async ({ conversationId, messageId, text }) => this.link.reconnectingNow(await this.needChat().sendText(conversationId, text, messageId)),
    'message.react': async ({ conversationId, messageId, emoji }) => (await this.needChat().react(conversationId, messageId, emoji), null),
    'message.unreact': async ({ conversationId, messageId, emoji }) => (await this.needChat().unreact(conversationId, messageId, emoji), null),
    'message.edit': async ({ conversationId, messageId, text }) => (await this.needChat().edit(conversationId, messageId, text), null),
    'message.deleteForEveryone': async ({ conversationId, messageId }) => (await this.needChat().deleteForEveryone(conversationId, messageId), null),
    'conversation.setTimer': async ({ conversationId, seconds }) => (await this.needChat().setTimer(conversationId, seconds), null),
    'messages.search': async ({ query, conversationId }) => this.needChat().search(query, conversationId),
    'recovery.create': async () => this.recovery.create(),
    'recovery.confirm': async ({ first, second }) => this.recovery.confirm(first, second),
    'settings.setBackupHistory': async ({ enabled }) => (await this.settings.setBackupHistory(enabled), null),
    'backup.export': async () => this.backup.exportFile(),
    'restore.open': async ({ recoveryKey, file }) => this.restore.open(recoveryKey, file),
    'restore.start': async () => this.restore.start(),
    'restore.dismiss': async () => this.restore.dismiss(),
    'restore.retry': async () => this.restore.retry(),
    // Files and images (conversation-attachments.ts).
    'attachment.begin': async ({ conversationId, name, type, size, preview }) => ({ uploadId: await this.needChat().attachments.begin(conversationId, name, type, size, preview) }),
    'attachment.chunk': async ({ uploadId, index, data }) => this.needChat().attachments.chunk(uploadId, index, data),
    'attachment.cancel': async ({ conversationId, transferId }) => (this.needChat().attachments.cancel(conversationId, transferId), null),
    'attachment.download': async ({ conversationId, messageId }) => (await this.needChat().attachments.download(conversationId, messageId), null),
    'attachment.read': async ({ conversationId, messageId, index }) => this.needChat().attachments.read(conversationId, messageId, index),
  };

  private needChat(): ChatService {
    return this.core.needChat();
  }

  /** Unlocked: adding a linked device to the conversations goes on where it stopped. */
  private afterUnlock(state: AppState): AppState {
    if (this.core.account !== undefined && this.core.vault !== undefined) {
      this.linking.resume();
      this.restore.resume();
    }
    return state;
  }
}
