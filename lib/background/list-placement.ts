/**
 * Where a conversation sits in this person's list: pinned (and since when) and
 * archived. Kept in the conversation's metadata record, so it is sealed at rest
 * like the rest of it and never leaves the device: other members and the relay
 * do not learn what someone pinned or archived.
 */
import type { ConversationMeta } from './chat-store.ts';
import type { ConversationSummary } from '../protocol/channel.ts';
import { isMuted } from './mute.ts';

export type Placement = { pinned: boolean } | { archived: boolean };

/** The metadata with a placement applied; the same object when nothing changes (no write needed). */
export function place(meta: ConversationMeta, change: Placement, now: number): ConversationMeta {
  if ('pinned' in change) {
    if (change.pinned === (meta.pinnedAt !== undefined)) return meta;
    const next = { ...meta };
    if (change.pinned) next.pinnedAt = now;
    else delete next.pinnedAt;
    return next;
  }
  if (change.archived === (meta.archived === true)) return meta;
  const next = { ...meta };
  if (change.archived) next.archived = true;
  else delete next.archived;
  return next;
}

/**
 * A new message from someone else brings an archived conversation back into
 * the main list, as in Signal, unless the conversation is muted: someone who
 * archived and muted it asked not to be drawn back to it.
 */
export function unarchiveOnMessage(meta: ConversationMeta, now: number): void {
  if (isMuted(meta.mutedUntil, now)) return;
  delete meta.archived;
}

/** The placement fields of a summary. */
export function placementOf(meta: ConversationMeta): Pick<ConversationSummary, 'pinnedAt' | 'archived'> {
  return {
    ...(meta.pinnedAt === undefined ? {} : { pinnedAt: meta.pinnedAt }),
    ...(meta.archived === true ? { archived: true } : {}),
  };
}
