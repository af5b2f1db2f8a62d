/** How a conversation's mute reads on screen (header menu, list row). */
import { MUTE_ALWAYS } from '../protocol/channel.ts';
import { formatDateTime } from './format.ts';
import { t } from '../platform/i18n.ts';

/** "Muted until you unmute it", "Muted until 6 Dec 2026, 15:20", or null when not muted. */
export function muteLabel(mutedUntil: number | undefined): string | null {
  if (mutedUntil === undefined) return null;
  return mutedUntil === MUTE_ALWAYS ? t('mute_until_unmuted') : t('mute_until', formatDateTime(mutedUntil));
}
