/**
 * Desktop notifications and the side panel's "show this conversation": what
 * notification-policy.ts decides is handed to the platform; a mute that ends
 * publishes the list again; a notification click asks the views (or a side
 * panel still opening) to show its conversation.
 */
import type { ConversationSummary, MessageView, ViewPresence } from '../../protocol/channel.ts';
import { NotificationPolicy, type NotificationAction } from '../notification-policy.ts';
import { nextMuteEnd } from '../mute.ts';
import type { AppCore } from './core.ts';

/** How long a notification click waits for a side panel that is still opening. */
const OPEN_REQUEST_MS = 10_000;

export class AppNotifications {
  private readonly policy = new NotificationPolicy();
  private muteTimer: ReturnType<typeof setTimeout> | undefined;
  /** A conversation a notification click asked for, kept briefly for a side panel that is still opening. */
  private openRequest: { conversationId: string; at: number } | undefined;

  constructor(
    private readonly core: AppCore,
    /** Publish the conversation list again (when a mute ends). */
    private readonly republish: () => void,
  ) {}

  private notify(actions: readonly NotificationAction[]): void {
    for (const a of actions) this.core.deps.platform?.notification?.(a);
  }

  /** Read (here or elsewhere), muted, left or deleted: clear; and publish again when the next mute ends. */
  afterSummaries(): void {
    const now = Date.now();
    const conversations = this.core.state.conversations;
    this.notify(this.policy.summaries(conversations, now));
    clearTimeout(this.muteTimer);
    const next = nextMuteEnd(conversations.map((c) => c.mutedUntil), now);
    // setTimeout keeps at most ~24.8 days; a longer mute is looked at again then.
    if (next !== undefined) this.muteTimer = setTimeout(() => this.republish(), Math.min(next - now + 50, 2 ** 31 - 1));
  }

  /** A message arrived: notify, as the settings and the views on screen allow. */
  incoming(conversation: ConversationSummary, message: MessageView): void {
    const { notifications: enabled, notificationContent: content } = this.core.state.settings;
    this.notify(this.policy.incoming(conversation, message, { enabled, content }, Date.now()));
  }

  /** Locked, signed out or turned off: nothing of the conversations stays on screen. */
  clearAll(): void {
    this.notify(this.policy.clearAll());
  }

  /** A view's live port says what it shows and whether it is visible; `null` when the port disconnected. */
  presence(view: unknown, presence: ViewPresence | null): void {
    this.notify(this.policy.presence(view, presence));
  }

  /** Notifications of ours the browser still shows (after the background restarted): cleared like new ones. */
  adopt(ids: readonly string[]): void {
    this.policy.adopt(ids);
    // Locked, the conversations are not known yet: the check waits for the unlock (activate).
    if (this.core.chat !== undefined) this.notify(this.policy.summaries(this.core.state.conversations, Date.now()));
  }

  /** The person dismissed one of our notifications. */
  closed(id: string): void {
    this.policy.closed(id);
  }

  /** Whether a view is visible now (a notification click can then be shown there). */
  viewVisible(): boolean {
    return this.policy.anyVisible();
  }

  /** Show a conversation in the side panel: views open now are told, one that is opening asks on connect. */
  openConversation(conversationId: string): void {
    this.openRequest = { conversationId, at: Date.now() };
    this.core.view.emit({ type: 'open', conversationId });
  }

  /** The open request of the last few seconds, once (a side panel opened by the click asks when it connects). */
  takeOpenRequest(): string | undefined {
    const r = this.openRequest;
    this.openRequest = undefined;
    return r !== undefined && Date.now() - r.at < OPEN_REQUEST_MS ? r.conversationId : undefined;
  }
}
