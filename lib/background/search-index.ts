/**
 * Searching the history (issue #20, docs/search.md): an index of the texts
 * in memory only.
 *
 * Nothing of it is ever written: IndexedDB holds the messages sealed by the
 * vault and nothing else, so the index cannot leak a word in the clear. It is
 * built from the decrypted records the first time a conversation is searched
 * after unlocking, then kept up to date from every transition the chat
 * applies (`observe`), and it goes with the chat service when MicroChat locks
 * or signs out. Each entry keeps a message's latest text folded
 * (search-fold.ts); a search scans them, which for 10,000 messages takes a
 * few milliseconds (bench/ui.ts), so no word index is needed.
 *
 * The rules, each with its id (found by one grep here and in the tests):
 *   S-1  only texts are found: system notes, deleted messages and contents
 *        that cannot be shown are never in the index
 *   S-2  an edited message is found by its latest text only
 *   S-3  a message past its disappearing time is not found, even in the
 *        moment before the expiry sweep deletes it
 *   S-4  a change applied while a conversation's history is being read is
 *        applied after it, so the index never goes back to an older record
 */
import type { MessageRecord, Transition } from './chat-store.ts';
import { fold, highlights, matchesAll, queryTerms } from './search-fold.ts';
import { SEARCH_MAX_HITS, SEARCH_MAX_TERMS, type SearchHit, type SearchResult } from '../protocol/search.ts';
import * as text from './text.ts';

/** What the index reads: the conversations with their names and messages due to expire, and a conversation's history. */
export interface SearchSource {
  conversations(): readonly { id: string; name: string; expiring?: readonly { seq: number; at: number }[] }[];
  history(conversationId: string): Promise<MessageRecord[]>;
}

interface Entry {
  id: string;
  seq: number;
  text: string;
  folded: string;
  senderName: string;
  self: boolean;
  sentAt: number;
}

/** How much text a hit shows around its first match. */
const SNIPPET_BEFORE = 40;
const SNIPPET_LENGTH = 160;

type Change = { put: MessageRecord } | { remove: number };

export class SearchIndex {
  private readonly loaded = new Map<string, Map<number, Entry>>();
  private readonly loading = new Map<string, { promise: Promise<void>; changes: Change[] }>();

  constructor(
    private readonly source: SearchSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** A transition was applied (conversations.ts): bring what is loaded, or being loaded, up to date. */
  observe(t: Transition): void {
    if (t.deleteConversation !== undefined) {
      this.loaded.delete(t.deleteConversation);
      this.loading.get(t.deleteConversation)?.changes.push({ remove: -1 });
    }
    for (const m of t.messages ?? []) this.change(m.conversationId, { put: m });
    for (const d of t.deleteMessages ?? []) this.change(d.conversationId, { remove: d.seq });
  }

  /** Forget everything (locking, signing out). */
  clear(): void {
    this.loaded.clear();
    this.loading.clear();
  }

  /** Search one conversation (null: all of them) for messages holding every word of the query, newest first. */
  async search(query: string, conversationId: string | null): Promise<SearchResult> {
    const terms = queryTerms(query, SEARCH_MAX_TERMS);
    const convs = this.source.conversations().filter((c) => conversationId === null || c.id === conversationId);
    if (terms.length === 0 || convs.length === 0) return { hits: [], total: 0 };
    await Promise.all(convs.map((c) => this.load(c.id)));
    const now = this.now();
    const found: { conv: (typeof convs)[number]; e: Entry }[] = [];
    for (const conv of convs) {
      const entries = this.loaded.get(conv.id);
      if (entries === undefined) continue;
      // S-3
      const gone = new Set((conv.expiring ?? []).filter((x) => x.at <= now).map((x) => x.seq));
      for (const e of entries.values()) if (matchesAll(e.folded, terms) && !gone.has(e.seq)) found.push({ conv, e });
    }
    found.sort((a, b) => b.e.sentAt - a.e.sentAt || b.e.seq - a.e.seq);
    const hits = found.slice(0, SEARCH_MAX_HITS).map(({ conv, e }) => hitOf(conv, e, terms));
    return { hits, total: found.length };
  }

  /** Whether this conversation's history is in the index (tests, bench). */
  has(conversationId: string): boolean {
    return this.loaded.has(conversationId);
  }

  /** Read a conversation's history into the index, once; changes seen meanwhile are applied after it (S-4). */
  load(conversationId: string): Promise<void> {
    if (this.loaded.has(conversationId)) return Promise.resolve();
    const under = this.loading.get(conversationId);
    if (under !== undefined) return under.promise;
    const changes: Change[] = [];
    const promise = this.source.history(conversationId).then(
      (records) => {
        if (this.loading.get(conversationId)?.promise !== promise) return;
        this.loading.delete(conversationId);
        if (changes.some((c) => 'remove' in c && c.remove === -1)) return;
        const entries = new Map<number, Entry>();
        for (const r of records) put(entries, r);
        for (const c of changes) {
          if ('put' in c) put(entries, c.put);
          else entries.delete(c.remove);
        }
        this.loaded.set(conversationId, entries);
      },
      (err: unknown) => {
        this.loading.delete(conversationId);
        throw err;
      },
    );
    this.loading.set(conversationId, { promise, changes });
    return promise;
  }

  private change(conversationId: string, c: Change): void {
    const entries = this.loaded.get(conversationId);
    if (entries !== undefined) {
      if ('put' in c) put(entries, c.put);
      else entries.delete(c.remove);
      return;
    }
    // Not loaded: nothing to do, its history is read from the store when first searched.
    this.loading.get(conversationId)?.changes.push(c);
  }
}

/** S-1, S-2: a record's latest text goes in, or (deleted, unshowable, not a text) its entry goes out. */
function put(entries: Map<number, Entry>, r: MessageRecord): void {
  if (r.kind !== 'text' || r.deleted === true || r.unshowable === true || r.text === '') {
    entries.delete(r.seq);
    return;
  }
  const old = entries.get(r.seq);
  if (old !== undefined && old.id === r.id && old.text === r.text) return;
  entries.set(r.seq, {
    id: r.id,
    seq: r.seq,
    text: r.text,
    folded: fold(r.text),
    senderName: r.sender.self ? text.YOU : r.sender.displayName,
    self: r.sender.self,
    sentAt: r.sentAt,
  });
}

function hitOf(conv: { id: string; name: string }, e: Entry, terms: readonly string[]): SearchHit {
  const all = highlights(e.text, terms);
  const first = all[0]?.[0] ?? 0;
  let start = Math.max(0, first - SNIPPET_BEFORE);
  // Never cut a surrogate pair in two.
  if (start > 0 && isLowSurrogate(e.text.charCodeAt(start))) start--;
  let end = Math.min(e.text.length, start + SNIPPET_LENGTH);
  if (end < e.text.length && isLowSurrogate(e.text.charCodeAt(end))) end++;
  const marks = all
    .filter(([a, b]) => b > start && a < end)
    .map(([a, b]): [number, number] => [Math.max(a, start) - start, Math.min(b, end) - start]);
  return {
    conversationId: conv.id,
    conversationName: conv.name,
    messageId: e.id,
    seq: e.seq,
    senderName: e.senderName,
    fromSelf: e.self,
    sentAt: e.sentAt,
    snippet: e.text.slice(start, end),
    cutStart: start > 0,
    cutEnd: end < e.text.length,
    marks,
  };
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
