/**
 * What the backup and restore views show (issue #19), shared by the
 * background (which fills it) and the views (which render it). The channel
 * methods that carry these are appended to channel.ts when the background
 * side is wired (see lib/background/backup/).
 */

/** A recovery key just made: shown once, then two of its groups typed back. */
export interface RecoveryKeyView {
  /** Eight groups of four symbols joined by dashes. */
  recoveryKey: string;
  /** Which groups to type back, 0-based and ascending. */
  groups: [number, number];
}

export type RestoreFailureView = 'no_material' | 'refused' | 'error';

export interface RestoreConversationView {
  id: string;
  name: string;
  state: 'pending' | 'rejoined' | 'failed';
  reason?: RestoreFailureView;
}

/** Why a restore under way stopped: the backup changed into one that does not read, or our own bug. */
export type RestoreStopView = 'damaged' | 'error';

/**
 * The restore screen: entering the key, a refusal, the job's progress (offline
 * it waits, still running), or where it stopped: tried again or given up.
 */
export type RestoreView =
  | { step: 'enter' }
  | { step: 'refused'; reason: 'typo' | 'length' | 'no_backup' | 'damaged' }
  | { step: 'running' | 'done'; conversations: RestoreConversationView[] }
  | { step: 'stopped'; reason: RestoreStopView; conversations: RestoreConversationView[] };

/** The backup at the relay, as Settings → Recovery shows it. */
export type BackupStatusView =
  | { state: 'none' }
  | { state: 'writing' | 'offline' | 'failed' }
  | { state: 'done'; at: number; bytes: number }
  | { state: 'quota'; maxBytes: number };

/** What AppState carries of backup and restore (both absent until there is something to show). */
export interface BackupAppState {
  backup?: BackupStatusView;
  /** A restore under way on this device, or finished and not yet dismissed. */
  restore?: RestoreView;
}

/** Why a recovery key (or backup file) was not accepted: a typo, its length, no backup under it, a damaged backup or file. */
export type RestoreRefusal = 'typo' | 'length' | 'no_backup' | 'damaged';

/** The recovery key requests, appended to channel.ts's RequestMap. */
export interface BackupRequests {
  /** Make a new recovery key and show it once (sign-up, or Settings → New recovery key). */
  'recovery.create': { params: null; result: RecoveryKeyView };
  /** The two groups typed back; when they match, the key is kept (sealed) and replaces the previous one. */
  'recovery.confirm': { params: { first: string; second: string }; result: { confirmed: boolean } };
  /** Put the message history in the backup, or keep it out (the default); the new state follows as an update. */
  'settings.setBackupHistory': { params: { enabled: boolean }; result: null };
  /** The backup, sealed as it is at the relay, as a file's text (made on this device: no relay involved). */
  'backup.export': { params: null; result: { file: string } };
  /**
   * Fresh profile: check a recovery key against the backup at the relay (or in a
   * file's text). Only reads: a refusal leaves nothing anywhere. Accepted, the
   * person then registers a passkey (account.*) under the backup's display name.
   */
  'restore.open': { params: { recoveryKey: string; file?: string }; result: { ok: true; displayName: string } | { ok: false; reason: RestoreRefusal } };
  /** After registering: restore what `restore.open` accepted (progress follows in AppState.restore). */
  'restore.start': { params: null; result: null };
  /** The finished restore's summary was read, or a stopped restore is given up: stop showing it. */
  'restore.dismiss': { params: null; result: null };
  /** A stopped restore: try again from where it stopped. */
  'restore.retry': { params: null; result: null };
}

/** A backup file's text is at most this long (the relay's item cap times a few items, as base64). */
export const MAX_BACKUP_FILE_CHARS = 64 * 1024 * 1024;

type Params = Record<string, unknown>;

/** The validators of the recovery requests, for channel.ts's VALIDATORS (its strict readers passed in). */
export function backupValidators(r: {
  keys(p: Params, allowed: readonly string[]): void;
  str(p: Params, k: string, max: number): string;
  bool(p: Params, k: string): boolean;
}) {
  return {
    'recovery.create': null,
    'recovery.confirm': (p: Params): BackupRequests['recovery.confirm']['params'] => (
      r.keys(p, ['first', 'second']), { first: r.str(p, 'first', 16), second: r.str(p, 'second', 16) }
    ),
    'settings.setBackupHistory': (p: Params): BackupRequests['settings.setBackupHistory']['params'] => (r.keys(p, ['enabled']), { enabled: r.bool(p, 'enabled') }),
    'backup.export': null,
    'restore.open': (p: Params): BackupRequests['restore.open']['params'] => {
      r.keys(p, ['recoveryKey', 'file']);
      const recoveryKey = r.str(p, 'recoveryKey', 200);
      return p.file === undefined ? { recoveryKey } : { recoveryKey, file: r.str(p, 'file', MAX_BACKUP_FILE_CHARS) };
    },
    'restore.start': null,
    'restore.dismiss': null,
    'restore.retry': null,
  } as const;
}
