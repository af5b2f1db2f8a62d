/**
 * Per-conversation mute: a muted conversation still counts its unread
 * messages but shows no notification. A mute is one timestamp (when it ends),
 * so it expires by itself: nothing has to run at the end of the hour, and a
 * worker that slept through it wakes to an unmuted conversation.
 */
import { MUTE_ALWAYS, type MuteDuration } from '../protocol/channel.ts';

const HOUR = 3_600_000;
const LENGTHS: Record<Exclude<MuteDuration, 'always'>, number> = { '1h': HOUR, '8h': 8 * HOUR, '1w': 7 * 24 * HOUR };

/** When a mute chosen now ends. */
export function muteUntil(duration: MuteDuration, now: number): number {
  return duration === 'always' ? MUTE_ALWAYS : now + LENGTHS[duration];
}

export function isMuted(until: number | undefined, now: number): boolean {
  return until !== undefined && until > now;
}

/** The next moment one of these mutes ends (to publish the list again then), or undefined when none will. */
export function nextMuteEnd(untils: Iterable<number | undefined>, now: number): number | undefined {
  let next: number | undefined;
  for (const u of untils) {
    if (u === undefined || u <= now || u === MUTE_ALWAYS) continue;
    if (next === undefined || u < next) next = u;
  }
  return next;
}
