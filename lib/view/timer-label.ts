/**
 * Words for a conversation's disappearing-message timer (issue #20): the
 * header's short label and its full description, and the menu's choices.
 * The background sends the timer in seconds (`ConversationSummary.disappearAfter`,
 * absent when off); a value the view does not know is described in seconds
 * rather than hidden, so a member never believes the timer is off when it is not.
 */
import { DISAPPEAR_AFTER } from '../protocol/rich-messages.ts';
import { t } from '../platform/i18n.ts';

export type TimerSeconds = (typeof DISAPPEAR_AFTER)[number];

/** The full words for a setting: "5 minutes", "Off". */
export function timerName(seconds: number | undefined): string {
  switch (seconds ?? 0) {
    case 0:
      return t('rich_timer_off');
    case 300:
      return t('rich_timer_5m');
    case 3600:
      return t('rich_timer_1h');
    case 86_400:
      return t('rich_timer_1d');
    case 604_800:
      return t('rich_timer_1w');
    default:
      return t('bg_timer_seconds', seconds!);
  }
}

/** The header's short label ("5 min"); empty when off (the icon alone says there is a control). */
export function timerShort(seconds: number | undefined): string {
  switch (seconds ?? 0) {
    case 0:
      return '';
    case 300:
      return t('rich_timer_5m_short');
    case 3600:
      return t('rich_timer_1h_short');
    case 86_400:
      return t('rich_timer_1d_short');
    case 604_800:
      return t('rich_timer_1w_short');
    default:
      return t('bg_timer_seconds', seconds!);
  }
}

/** What the header's control says to a screen reader and in its tooltip. */
export function timerStatus(seconds: number | undefined): string {
  return (seconds ?? 0) === 0 ? t('rich_timer_status_off') : t('rich_timer_status', timerName(seconds));
}

/** The menu's choices, in order. */
export const TIMER_CHOICES: readonly TimerSeconds[] = DISAPPEAR_AFTER;
