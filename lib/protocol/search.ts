/**
 * The view contract of search (issue #20, docs/search.md): the one request
 * that searches one conversation's history or all of them, and what a hit
 * looks like. channel.ts extends both, like rich-messages.ts.
 */

/** One message found: where it is (to jump to it), who wrote it, and the part of its text to show. */
export interface SearchHit {
  conversationId: string;
  conversationName: string;
  messageId: string;
  seq: number;
  senderName: string;
  fromSelf: boolean;
  sentAt: number;
  /** A piece of the message's latest text around the first match. */
  snippet: string;
  /** The snippet leaves out text before it, after it. */
  cutStart: boolean;
  cutEnd: boolean;
  /** Where the query matches in `snippet`: [start, end) in UTF-16 units, sorted, not overlapping. */
  marks: [number, number][];
}

export interface SearchResult {
  /** Newest first, at most SEARCH_MAX_HITS. */
  hits: SearchHit[];
  /** How many messages match in all (more than `hits` holds when it was cut). */
  total: number;
}

export const SEARCH_MAX_QUERY = 200;
export const SEARCH_MAX_TERMS = 10;
export const SEARCH_MAX_HITS = 100;

export interface SearchRequests {
  /** Search the texts of one conversation (`conversationId`) or of all (null): every word of the query must occur. */
  'messages.search': { params: { query: string; conversationId: string | null }; result: SearchResult };
}

type Params = Record<string, unknown>;

/** The strict readers of channel.ts, passed in (this file cannot import channel.ts, which imports it). */
export interface SearchReaders {
  keys(p: Params, allowed: readonly string[]): void;
  str(p: Params, k: string, max: number): string;
  id(p: Params, k: string): string;
}

export function searchValidators(r: SearchReaders) {
  return {
    'messages.search': (p: Params): SearchRequests['messages.search']['params'] => {
      r.keys(p, ['query', 'conversationId']);
      return { query: r.str(p, 'query', SEARCH_MAX_QUERY), conversationId: p.conversationId === null ? null : r.id(p, 'conversationId') };
    },
  } as const;
}
