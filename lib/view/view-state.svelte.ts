/**
 * Reactive view state for the popup and side panel (Svelte 5 runes). It only
 * mirrors what the background publishes and forwards intents; it holds no
 * secrets and no group state. Besides the app state it keeps, per
 * conversation, a cache of the messages the views have read (pages) or been
 * told about (live events), merged by id and ordered by seq.
 */
import type { MentionSpan } from '../protocol/mentions.ts';
import {
  ChannelError,
  type AppState,
  type LiveEvent,
  type MessageView,
  type Method,
  type Params,
  type Result,
  type ViewPresence,
} from '../protocol/channel.ts';
import { present, request, subscribe } from './channel-client.ts';
import { MessageStore } from './message-store.ts';
import { followQuotes, forgetQuotes } from './quote-follow.ts';
import { parseExpiredEvent } from '../protocol/rich-messages.ts';
import type { TimerSeconds } from './timer-label.ts';
import { t } from '../platform/i18n.ts';
import { AttachmentTransfers } from './attachment-transfers.svelte.ts';

/** How the view reaches the background; tests pass a fake one. */
export interface Transport {
  request<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>;
  subscribe(onEvent: (event: LiveEvent) => void): () => void;
  /** Tell the background what this view shows (notifications skip a conversation on screen). */
  present?(presence: ViewPresence): void;
}

const browserTransport: Transport = { request, subscribe: (onEvent) => subscribe(onEvent), present };

export const FIRST_PAGE = 100;
export const OLDER_PAGE = 200;
const SYNC_PAGE = 30;

/** The messages of one conversation that this view knows. */
export class Thread {
  /** Ordered by seq; replaced (never mutated) on every change. */
  messages = $state.raw<MessageView[]>([]);
  /** Whether older messages may exist that are not loaded yet. */
  hasOlder = $state(true);
  loadingOlder = $state(false);
  /** Whether the newest page has been read at least once. */
  loaded = $state(false);
  error = $state<string | null>(null);
  private readonly store = new MessageStore();
  nextBeforeSeq: number | null = null;
  /** The older page being read, so a second reader (a jump to a quote) waits for it instead of skipping it. */
  olderLoad: Promise<void> | undefined;
  /** The newest page being read, so a second reader (the view opening while the panel's early read runs) waits for it. */
  latestLoad: Promise<void> | undefined;

  /** Ids of the messages that expired while this view held them (a reply or an edit of one stops). */
  expiredIds = $state.raw<readonly string[]>([]);
  /** Seqs of expired messages: a page read before they went, answered after, does not bring them back (seqs are never reused). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a lookup; `messages` and `expiredIds` are the reactive part
  private readonly expiredSeqs = new Set<number>();

  constructor(readonly conversationId: string) {}

  merge(incoming: readonly MessageView[]): void {
    const mine = incoming.filter((m) => m.conversationId === this.conversationId && !this.expiredSeqs.has(m.seq));
    if (mine.length === 0) return;
    this.messages = this.store.merge(mine);
    // An original edited or deleted: the replies quoting it follow.
    const replies = followQuotes(this.messages, mine);
    if (replies.length > 0) this.messages = this.store.merge(replies);
  }

  /** These messages expired and were deleted (ExpiredEvent): they go at once, and replies quote them as missing. */
  drop(seqs: readonly number[]): void {
    for (const s of seqs) this.expiredSeqs.add(s);
    const { messages, removed } = this.store.removeSeqs(this.expiredSeqs);
    this.messages = messages;
    const replies = forgetQuotes(messages, removed, this.expiredSeqs);
    if (replies.length > 0) this.messages = this.store.merge(replies);
    if (removed.length > 0) this.expiredIds = [...this.expiredIds, ...removed];
  }
}

export function describeError(err: unknown): string {
  if (err instanceof ChannelError) return err.message;
  if (err instanceof Error && err.message) return err.message;
  return t('common_something_wrong');
}

export class ViewState {
  app = $state<AppState | null>(null);
  error = $state<string | null>(null);
  busy = $state(false);
  /** A conversation the background asked this view to show (a notification was clicked); cleared by whoever opens it. */
  openRequest = $state<string | null>(null);
  // Lookups only: each Thread's own fields are the reactive part.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly threads = new Map<string, Thread>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly lastActivity = new Map<string, number>();
  private stop: (() => void) | undefined;
  /** Seqs of expired messages by conversation (lookups only; `expiredCount` is the reactive part). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly expired = new Map<string, Set<number>>();
  private expiredCount = $state(0);

  /** Files being sent and fetched (attachment-transfers.svelte.ts). */
  readonly transfers: AttachmentTransfers;

  constructor(private readonly transport: Transport = browserTransport) {
    this.transfers = new AttachmentTransfers(
      (method, params) => this.transport.request(method, params),
      (m) => this.thread(m.conversationId).merge([m]),
      describeError,
    );
  }

  connect(): void {
    this.stop = this.transport.subscribe((event) => this.onEvent(event));
  }

  disconnect(): void {
    this.stop?.();
    this.stop = undefined;
  }

  /** Apply a live event (exposed for tests and for the harness). */
  onEvent(event: LiveEvent): void {
    if (event.type === 'state') {
      this.app = event.state;
      this.forgetHidden(event.state);
      this.syncLoadedThreads(event.state);
    } else if (event.type === 'messages') {
      this.thread(event.conversationId).merge(event.messages);
    } else if (event.type === 'open') {
      this.openRequest = event.conversationId;
    } else if (event.type === 'transfer') {
      this.transfers.onTransfer(event);
    } else if (event.type === 'expired') {
      this.onExpired(event);
    }
  }

  /** Whether this message expired (its search hit goes); reactive. */
  isExpired(conversationId: string, seq: number): boolean {
    void this.expiredCount; // read, so whoever asks asks again after the next ExpiredEvent
    return this.expired.get(conversationId)?.has(seq) === true;
  }

  private onExpired(raw: unknown): void {
    const e = parseExpiredEvent(raw);
    if (e === null) return;
    this.thread(e.conversationId).drop(e.seqs);
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a lookup; `expiredCount` is the reactive part
    const seen = this.expired.get(e.conversationId) ?? new Set<number>();
    for (const s of e.seqs) seen.add(s);
    this.expired.set(e.conversationId, seen);
    this.expiredCount += e.seqs.length;
  }

  /** Say which conversation this view shows (null: none) and whether the page is visible. */
  present(conversationId: string | null, visible: boolean): void {
    this.transport.present?.({ type: 'presence', conversationId, visible });
  }

  /** Locked, signed out or deleted: the text of those conversations has no business staying in this page. */
  private forgetHidden(state: AppState): void {
    if (state.account.state !== 'ready') {
      this.threads.clear();
      this.lastActivity.clear();
      this.expired.clear();
      return;
    }
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup, not state
    const known = new Set(state.conversations.map((c) => c.id));
    for (const id of this.threads.keys()) {
      if (!known.has(id)) {
        this.threads.delete(id);
        this.lastActivity.delete(id);
      }
    }
  }

  /**
   * Events can be missed while the background restarts (the port reconnects
   * and starts with a fresh state). When a loaded conversation shows new
   * activity, read its newest page again; merging makes this idempotent.
   */
  private syncLoadedThreads(state: AppState): void {
    for (const c of state.conversations) {
      const before = this.lastActivity.get(c.id);
      this.lastActivity.set(c.id, c.lastActivity);
      const t = this.threads.get(c.id);
      if (before !== undefined && before !== c.lastActivity && t?.loaded) {
        void this.transport
          .request('messages.page', { conversationId: c.id, beforeSeq: null, limit: SYNC_PAGE })
          .then((page) => t.merge(page.messages))
          .catch(() => undefined);
      }
    }
  }

  /** The cache for a conversation, created on first use. Call from handlers, not from templates. */
  thread(conversationId: string): Thread {
    let t = this.threads.get(conversationId);
    if (!t) {
      t = new Thread(conversationId);
      this.threads.set(conversationId, t);
    }
    return t;
  }

  /** Send an intent and return its result; failures throw (ChannelError for the background's). */
  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    return this.transport.request(method, params);
  }

  /** Send an intent; a failure is shown to the person, not thrown. */
  async send<M extends Method>(method: M, params: Params<M>): Promise<Result<M> | undefined> {
    this.busy = true;
    this.error = null;
    try {
      return await this.transport.request(method, params);
    } catch (err) {
      this.error = describeError(err);
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** Read the newest page of a conversation into its cache; a read already under way is waited for, not repeated. */
  loadLatest(conversationId: string): Promise<void> {
    const t = this.thread(conversationId);
    t.latestLoad ??= this.readLatest(t).finally(() => (t.latestLoad = undefined));
    return t.latestLoad;
  }

  private async readLatest(t: Thread): Promise<void> {
    const conversationId = t.conversationId;
    try {
      const page = await this.transport.request('messages.page', { conversationId, beforeSeq: null, limit: FIRST_PAGE });
      if (!t.loaded) {
        t.nextBeforeSeq = page.nextBeforeSeq ?? null;
        t.hasOlder = page.nextBeforeSeq !== undefined;
      }
      t.merge(page.messages);
      t.loaded = true;
      t.error = null;
    } catch (err) {
      t.error = describeError(err);
    }
  }

  /** Read the next older page; does nothing while one is loading or when none are left. */
  async loadOlder(conversationId: string): Promise<void> {
    const t = this.thread(conversationId);
    if (t.loadingOlder) return t.olderLoad;
    if (!t.hasOlder || !t.loaded) return;
    t.olderLoad = this.readOlder(t);
    return t.olderLoad;
  }

  private async readOlder(t: Thread): Promise<void> {
    const conversationId = t.conversationId;
    const beforeSeq = t.nextBeforeSeq ?? t.messages[0]?.seq ?? null;
    if (beforeSeq === null) {
      t.hasOlder = false;
      return;
    }
    t.loadingOlder = true;
    try {
      const page = await this.transport.request('messages.page', { conversationId, beforeSeq, limit: OLDER_PAGE });
      t.nextBeforeSeq = page.nextBeforeSeq ?? null;
      t.hasOlder = page.nextBeforeSeq !== undefined;
      t.merge(page.messages);
      t.error = null;
    } catch (err) {
      t.error = describeError(err);
    } finally {
      t.loadingOlder = false;
    }
  }

  /** Send a message; its view (status 'sending') joins the cache at once. */
  async sendMessage(conversationId: string, text: string, mentions?: MentionSpan[]): Promise<boolean> {
    const m = await this.send('message.send', mentions === undefined || mentions.length === 0 ? { conversationId, text } : { conversationId, text, mentions });
    if (m) this.thread(conversationId).merge([m]);
    return m !== undefined;
  }

  async retry(conversationId: string, messageId: string): Promise<void> {
    const m = await this.send('message.retry', { conversationId, messageId });
    if (m) this.thread(conversationId).merge([m]);
  }

  // --- rich messages (issue #20): each an intent; the changed message comes back on the live port ---

  /** Send a reply quoting `messageId`; its view joins the cache at once, like a sent message. */
  async sendReply(conversationId: string, messageId: string, text: string): Promise<boolean> {
    const m = await this.send('message.reply', { conversationId, messageId, text });
    if (m) this.thread(conversationId).merge([m]);
    return m !== undefined;
  }

  async react(conversationId: string, messageId: string, emoji: string): Promise<void> {
    await this.send('message.react', { conversationId, messageId, emoji });
  }

  async unreact(conversationId: string, messageId: string, emoji: string): Promise<void> {
    await this.send('message.unreact', { conversationId, messageId, emoji });
  }

  /** Replace our message's text; false (and the reason in `error`) when refused. */
  async edit(conversationId: string, messageId: string, text: string): Promise<boolean> {
    return (await this.send('message.edit', { conversationId, messageId, text })) !== undefined;
  }

  async deleteForEveryone(conversationId: string, messageId: string): Promise<boolean> {
    return (await this.send('message.deleteForEveryone', { conversationId, messageId })) !== undefined;
  }

  async setTimer(conversationId: string, seconds: TimerSeconds): Promise<boolean> {
    return (await this.send('conversation.setTimer', { conversationId, seconds })) !== undefined;
  }

  /**
   * Read older pages until the message at `seq` is in the cache (a quote's
   * original far back in history). True when it is; false when the history
   * ends first or a page fails.
   */
  async loadBackTo(conversationId: string, seq: number): Promise<boolean> {
    const t = this.thread(conversationId);
    if (!t.loaded) await this.loadLatest(conversationId);
    for (;;) {
      const oldest = t.messages[0]?.seq;
      if (oldest !== undefined && oldest <= seq) return t.messages.some((m) => m.seq === seq);
      if (!t.hasOlder || t.error !== null) return false;
      const before = t.messages.length;
      await this.loadOlder(conversationId);
      // Nothing new arrived (a failed page): stop rather than ask forever.
      if (t.messages.length === before && t.hasOlder) return false;
    }
  }
}
