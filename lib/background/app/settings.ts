/**
 * The person's settings: read at start (with their defaults), and changed
 * one at a time from the views. Each is kept in the plain settings store;
 * none of them is secret.
 */
import { ChannelError, ErrorCode, type AppState, type LockTimeout, type NotificationContent, type Settings } from '../../protocol/channel.ts';
import { loadSetting, saveSetting, type Database, type Settings as StoredSettings } from '../db.ts';
import { normalizeRelayUrl } from '../relay-url.ts';
import { DEFAULT_LOCK_TIMEOUT, isLockTimeout } from '../unlocked-key.ts';
import { DEFAULT_NOTIFICATION_CONTENT } from '../notification-policy.ts';
import type { AppCore } from './core.ts';
import type { RelayLink } from './connection.ts';
import type { KeptKey } from './kept-key.ts';
import type { AppNotifications } from './notifications.ts';
import { t } from '../../platform/i18n.ts';

export async function loadSettings(db: Database): Promise<Settings> {
  const [notifications, lockTimeout, notificationContent, readReceipts, backupHistory] = await Promise.all([
    loadSetting(db, 'notifications'),
    loadSetting(db, 'lockTimeout'),
    loadSetting(db, 'notificationContent'),
    loadSetting(db, 'readReceipts'),
    loadSetting(db, 'backupHistory'),
  ]);
  return {
    notifications: notifications ?? true,
    lockTimeout: isLockTimeout(lockTimeout) ? lockTimeout : DEFAULT_LOCK_TIMEOUT,
    notificationContent: notificationContent ?? DEFAULT_NOTIFICATION_CONTENT,
    // Read receipts are on unless the person turned them off.
    readReceipts: readReceipts !== false,
    // History stays out of the backup unless the person opted in (shown only when on).
    ...(backupHistory === true ? { backupHistory: true } : {}),
  };
}

export class SettingsControl {
  constructor(
    private readonly core: AppCore,
    private readonly link: RelayLink,
    private readonly notifications: AppNotifications,
    private readonly kept: KeptKey,
  ) {}

  /** Keep one setting, then publish it. */
  private async change<K extends keyof Settings & keyof StoredSettings>(key: K, value: Settings[K] & StoredSettings[K]): Promise<void> {
    await saveSetting(this.core.deps.db, key, value);
    this.core.update({ ...this.core.state, settings: { ...this.core.state.settings, [key]: value } });
  }

  async setRelayUrl(input: string): Promise<AppState> {
    const core = this.core;
    const url = normalizeRelayUrl(input);
    if (core.account !== undefined && url !== core.account.relayUrl) {
      throw new ChannelError(ErrorCode.Forbidden, t('bg_err_account_lives_on', core.account.relayUrl));
    }
    await saveSetting(core.deps.db, 'relayUrl', url);
    core.api = core.relayApi(url);
    core.update({ ...core.state, relay: { url, state: 'unknown' } });
    await this.link.checkRelay();
    return core.snapshot;
  }

  async setNotifications(enabled: boolean): Promise<AppState> {
    await this.change('notifications', enabled);
    if (!enabled) this.notifications.clearAll();
    return this.core.snapshot;
  }

  async setNotificationContent(content: NotificationContent): Promise<AppState> {
    await this.change('notificationContent', content);
    return this.core.snapshot;
  }

  async setReadReceipts(enabled: boolean): Promise<AppState> {
    await this.change('readReceipts', enabled);
    return this.core.snapshot;
  }

  async setBackupHistory(enabled: boolean): Promise<AppState> {
    await this.change('backupHistory', enabled);
    return this.core.snapshot;
  }

  async setLockTimeout(timeout: LockTimeout): Promise<AppState> {
    await this.change('lockTimeout', timeout);
    if (this.core.vault !== undefined && this.core.wrapped !== undefined) await this.kept.retime(timeout);
    return this.core.snapshot;
  }
}
