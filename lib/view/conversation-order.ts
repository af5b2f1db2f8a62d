/**
 * Which conversations the list shows, and in what order: pinned ones first,
 * in the order they were pinned (the latest pin on top), so new messages never
 * shuffle them; then the rest by latest activity. Archived conversations stay
 * out of the main list (they have their own "Archived" list) but a search
 * finds them wherever they are. Pure: the list component and its tests share it.
 */
import type { ConversationSummary } from '../protocol/channel.ts';

/** Pinned first (latest pin on top), then latest activity; the id breaks ties so the order never flickers. */
export function compareConversations(a: ConversationSummary, b: ConversationSummary): number {
  const pa = a.pinnedAt ?? 0;
  const pb = b.pinnedAt ?? 0;
  if (pa !== pb) return pb - pa;
  if (a.lastActivity !== b.lastActivity) return b.lastActivity - a.lastActivity;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Lower case without accents, so "zoe" finds "Zoë" and "ÉTÉ" finds "été". */
export function foldForSearch(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

/** Whether a name matches what was typed (every word of the query, anywhere in the name). */
export function matchesQuery(name: string, query: string): boolean {
  const words = foldForSearch(query).split(/\s+/).filter((w) => w !== '');
  const folded = foldForSearch(name);
  return words.every((w) => folded.includes(w));
}

export interface ListView {
  /** The rows to show, in order. */
  shown: ConversationSummary[];
  /** How many conversations are archived (the "Archived (n)" entry). */
  archivedCount: number;
}

/**
 * The rows for one state of the list. `archived`: the "Archived" list rather
 * than the main one. A non-empty query searches every conversation by name,
 * archived or not.
 */
export function listView(conversations: readonly ConversationSummary[], options: { query: string; archived: boolean }): ListView {
  const archivedCount = conversations.filter((c) => c.archived === true).length;
  const searching = options.query.trim() !== '';
  const shown = conversations
    .filter((c) => (searching ? matchesQuery(c.name, options.query) : (c.archived === true) === options.archived))
    .sort(compareConversations);
  return { shown, archivedCount };
}

