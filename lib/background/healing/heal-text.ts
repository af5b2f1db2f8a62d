/**
 * The sentences of healing and rejoining (public/_locales, keys `bg_…`), and
 * the note members see for a resync, by its kind (resync-marker.ts).
 */
import { t } from '../../platform/i18n.ts';
import type { ResyncKind } from './resync-marker.ts';

export const MAY_BE_MISSING = t('bg_may_be_missing');
export const TICKET_BAD = t('bg_rejoin_ticket_bad');
export const SLOT_GONE = t('bg_rejoin_slot_gone');
export const REMOVED = t('bg_rejoin_removed');

/** What the other members read when one device resyncs: a device that healed, or an account restored from its backup on a new device. */
export function resyncNote(kind: ResyncKind, who: string): string {
  return kind === 'restore' ? t('bg_account_restored', who) : t('bg_device_rejoined', who);
}

export const NOT_NEEDED = t('bg_rejoin_not_needed');
export const OLDER_STATE = t('bg_rejoin_older_state');
