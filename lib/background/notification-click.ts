/**
 * A click on one of our notifications opens the side panel (Firefox: the
 * sidebar) on its conversation.
 *
 * User-gesture rules:
 * - Chrome: `sidePanel.open()` may only be called in response to a user
 *   gesture. Chromium dispatches `notifications.onClicked` (and
 *   `onButtonClicked`) with `EventRouter::USER_GESTURE_ENABLED`
 *   (chrome/browser/extensions/api/notifications/extension_notification_handler.cc),
 *   so the click counts, but only while the listener runs: the call must
 *   happen synchronously, before any `await` (a promise turn loses the
 *   gesture; see GoogleChrome/chrome-extensions-samples#1477). The listener
 *   therefore calls `open()` first, with a window id it already knows (the
 *   last focused one, or `WINDOW_ID_CURRENT` after a cold start), and does
 *   everything else afterwards.
 * - Firefox: `sidebarAction.open()` needs a "user action", and MDN's list
 *   (browser action, page action, context menu item, keyboard shortcut,
 *   omnibox suggestion, a click in an extension page) does not include a
 *   notification click, so the call is refused there.
 *
 * When opening is refused or fails: a sidebar or side panel that is already
 * visible is told to show the conversation (the live `open` event) and that
 * is enough; with none visible, the panel page opens in a new tab on that
 * conversation.
 */
import { conversationOfNotification } from './notification-policy.ts';

export interface ClickDeps {
  /** Open the side panel or sidebar; called synchronously inside the click. Absent: the browser has neither. */
  openPanel?: () => Promise<void>;
  clear(notificationId: string): Promise<unknown>;
  /** The background, once it has started (the click may have woken it). */
  app: Promise<{ openConversation(conversationId: string): void; viewVisible(): boolean }>;
  /** Fallback: the panel page in a tab of its own. */
  openTab(): Promise<unknown>;
}

/** Handle a notification click; returns when everything it started has settled (for tests). */
export async function onNotificationClick(notificationId: string, deps: ClickDeps): Promise<void> {
  const conversationId = conversationOfNotification(notificationId);
  if (conversationId === null) return;
  // Nothing may come before this call: it must run inside the click's user gesture.
  let opening: Promise<boolean>;
  try {
    opening = (deps.openPanel?.() ?? Promise.reject(new Error('no side panel'))).then(
      () => true,
      () => false,
    );
  } catch {
    // A browser API that throws instead of rejecting: not opened, as if refused.
    opening = Promise.resolve(false);
  }
  // Best effort: the notification may already be gone.
  void deps.clear(notificationId).catch(() => undefined);
  const app = await deps.app;
  app.openConversation(conversationId);
  // Best effort: with no panel, no visible view and no tab, the click has still cleared its notification.
  if (!(await opening) && !app.viewVisible()) await deps.openTab().catch(() => undefined);
}
