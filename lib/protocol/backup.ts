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
