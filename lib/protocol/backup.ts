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

/** The restore screen: entering the key, a refusal, or the job's progress. */
export type RestoreView =
  | { step: 'enter' }
  | { step: 'refused'; reason: 'typo' | 'length' | 'no_backup' | 'damaged' }
  | { step: 'running' | 'done'; conversations: RestoreConversationView[] };

/** The recovery key requests, appended to channel.ts's RequestMap. */
export interface BackupRequests {
  /** Make a new recovery key and show it once (sign-up, or Settings → New recovery key). */
  'recovery.create': { params: null; result: RecoveryKeyView };
  /** The two groups typed back; when they match, the key is kept (sealed) and replaces the previous one. */
  'recovery.confirm': { params: { first: string; second: string }; result: { confirmed: boolean } };
  /** Put the message history in the backup, or keep it out (the default); the new state follows as an update. */
  'settings.setBackupHistory': { params: { enabled: boolean }; result: null };
}

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
  } as const;
}
