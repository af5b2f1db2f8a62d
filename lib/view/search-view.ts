/**
 * The logic of the search panel (components/SearchPanel.svelte, docs/search.md):
 * a hit's snippet cut into plain and marked pieces, and the one jump a hit
 * asks of the conversation it is in. A hit in another conversation opens
 * that conversation first; its view takes the jump when it opens.
 */
import type { SearchHit } from '../protocol/search.ts';

export interface Piece {
  text: string;
  mark: boolean;
}

/** The snippet as pieces, marked where the query matched, with "…" where text was left out. Marks out of range are ignored. */
export function pieces(hit: Pick<SearchHit, 'snippet' | 'marks' | 'cutStart' | 'cutEnd'>): Piece[] {
  const out: Piece[] = [];
  const s = hit.snippet;
  let at = 0;
  for (const [a, b] of hit.marks) {
    if (a < at || b <= a || b > s.length) continue;
    if (a > at) out.push({ text: s.slice(at, a), mark: false });
    out.push({ text: s.slice(a, b), mark: true });
    at = b;
  }
  if (at < s.length) out.push({ text: s.slice(at), mark: false });
  if (hit.cutStart) out.unshift({ text: '…', mark: false });
  if (hit.cutEnd) out.push({ text: '…', mark: false });
  return out;
}

export interface Jump {
  conversationId: string;
  messageId: string;
  seq: number;
}

let pending: Jump | null = null;

/** Ask the view of `conversationId` to jump to this message when it opens. */
export function requestJump(j: Jump): void {
  pending = { ...j };
}

/** The jump asked of this conversation, taken (once). */
export function takeJump(conversationId: string): Jump | null {
  if (pending === null || pending.conversationId !== conversationId) return null;
  const j = pending;
  pending = null;
  return j;
}
