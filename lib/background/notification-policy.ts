/**
 * When MicroChat shows, updates or clears a desktop notification: a pure
 * state machine fed with events (a message arrived, the conversation list
 * changed, a view opened, hid or went away, a notification was dismissed).
 * It answers with actions; the background hands them to the browser.
 *
 * - One notification per conversation, its id derived from the conversation
 *   id, updated as messages arrive ("3 new messages").
 * - None for a conversation that a view shows while visible; none for a
 *   muted one (its unread count still goes up).
 * - Cleared as soon as the conversation has nothing unread, however that
 *   came to be (read here, or later on another device), when it is muted,
 *   left, deleted, or shown in a visible view.
 * - What it says follows the privacy choice (`NotificationContent`).
 */
import type { ConversationSummary, MessageView, NotificationContent, ViewPresence } from '../protocol/channel.ts';
import { t } from '../platform/i18n.ts';
import { labelText } from './member-names.ts';
import { isMuted } from './mute.ts';

/**
 * Name only by default. A notification's text leaves our encryption: the
 * operating system shows it to whoever looks at the screen (or a shared
 * screen) and may keep it in its notification history on disk. The
 * conversation's name is enough to know where to look; the message waits,
 * sealed, in MicroChat.
 */
export const DEFAULT_NOTIFICATION_CONTENT: NotificationContent = 'name';

const PREFIX = 'microchat:';
/** Desktop notifications are short; the message itself is in MicroChat. */
const MAX_MESSAGE = 300;

export function notificationId(conversationId: string): string {
  return `${PREFIX}${conversationId}`;
}

/** The conversation a notification of ours is about, or null for any other id. */
export function conversationOfNotification(id: string): string | null {
  if (!id.startsWith(PREFIX)) return null;
  const rest = id.slice(PREFIX.length);
  return /^[A-Za-z0-9_-]{1,128}$/.test(rest) ? rest : null;
}

export interface NotificationSettings {
  enabled: boolean;
  content: NotificationContent;
}

export type NotificationAction =
  /** Show it, or (update: true) change the one already shown for this conversation. */
  | { kind: 'show'; id: string; conversationId: string; update: boolean; title: string; message: string }
  | { kind: 'clear'; id: string; conversationId: string };

/** Title and text of a conversation's notification under a privacy choice. */
export function notificationText(
  conversation: Pick<ConversationSummary, 'name' | 'unread'>,
  message: Pick<MessageView, 'text' | 'sender'>,
  content: NotificationContent,
): { title: string; message: string } {
  const n = Math.max(1, conversation.unread);
  const count = n === 1 ? t('bg_notify_new_message') : t('bg_notify_new_messages', n);
  if (content === 'none') return { title: t('ext_name'), message: count };
  if (content === 'name') return { title: conversation.name, message: count };
  const line = t('bg_notify_line', labelText(message.sender), message.text);
  return { title: conversation.name, message: (n === 1 ? line : `${count}\n${line}`).slice(0, MAX_MESSAGE) };
}

export class NotificationPolicy {
  /** Conversations with a notification on screen (as far as we know: `closed` tells us of dismissals). */
  private readonly shown = new Set<string>();
  /** What each live view shows; keyed by the view's port, dropped when it disconnects. */
  private readonly views = new Map<unknown, Omit<ViewPresence, 'type'>>();

  /** A text from someone else arrived; `conversation` already counts it as unread. */
  incoming(conversation: ConversationSummary, message: MessageView, settings: NotificationSettings, now: number): NotificationAction[] {
    const id = conversation.id;
    if (!settings.enabled || message.sender.self || message.kind !== 'text' || conversation.status !== 'active') return [];
    // A mention of us notifies even while the conversation is muted (mentions.ts M-3).
    if ((isMuted(conversation.mutedUntil, now) && message.mentionsYou !== true) || this.onScreen(id)) return this.clear(id);
    const update = this.shown.has(id);
    this.shown.add(id);
    return [{ kind: 'show', id: notificationId(id), conversationId: id, update, ...notificationText(conversation, message, settings.content) }];
  }

  /** The conversation list changed: clear what was read (anywhere), muted, left or deleted. */
  summaries(conversations: readonly ConversationSummary[], now: number): NotificationAction[] {
    const byId = new Map(conversations.map((c) => [c.id, c]));
    const out: NotificationAction[] = [];
    for (const id of [...this.shown]) {
      const c = byId.get(id);
      if (c === undefined || c.unread === 0 || c.status !== 'active' || isMuted(c.mutedUntil, now)) out.push(...this.clear(id));
    }
    return out;
  }

  /** A view said what it shows (`null`: the view went away). A conversation on screen needs no notification. */
  presence(view: unknown, presence: ViewPresence | null): NotificationAction[] {
    if (presence === null) {
      this.views.delete(view);
      return [];
    }
    this.views.set(view, { conversationId: presence.conversationId, visible: presence.visible });
    return presence.visible && presence.conversationId !== null ? this.clear(presence.conversationId) : [];
  }

  /** The person dismissed a notification (or the browser dropped it): the next message shows a new one. */
  closed(notification: string): void {
    const id = conversationOfNotification(notification);
    if (id !== null) this.shown.delete(id);
  }

  /** Notifications of ours the browser still shows after the background restarted: they are tracked again. */
  adopt(notifications: readonly string[]): void {
    for (const n of notifications) {
      const id = conversationOfNotification(n);
      if (id !== null) this.shown.add(id);
    }
  }

  /** Notifications were turned off (or MicroChat locked): take every one of ours away. */
  clearAll(): NotificationAction[] {
    return [...this.shown].flatMap((id) => this.clear(id));
  }

  /** Whether a visible view shows this conversation. */
  onScreen(conversationId: string): boolean {
    for (const v of this.views.values()) if (v.visible && v.conversationId === conversationId) return true;
    return false;
  }

  /** Whether any view is visible (a click can then be answered there, without opening anything). */
  anyVisible(): boolean {
    for (const v of this.views.values()) if (v.visible) return true;
    return false;
  }

  private clear(id: string): NotificationAction[] {
    if (!this.shown.delete(id)) return [];
    return [{ kind: 'clear', id: notificationId(id), conversationId: id }];
  }
}
