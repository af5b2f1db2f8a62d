/**
 * MicroChat's side panel: Chrome's sidePanel API, or Firefox's sidebar. The
 * one place that knows which browser has which.
 *
 * Both browsers only open it inside a user gesture, and a promise turn loses
 * the gesture: `openSidePanelIn` calls the browser before anything else, with
 * a window id the caller already knows (lib/background/notification-click.ts
 * says why this matters for a notification click).
 */
import { browser } from 'wxt/browser';

interface ChromeSidePanel {
  open?(options: { windowId: number }): Promise<void>;
  setPanelBehavior?(options: { openPanelOnActionClick: boolean }): Promise<void>;
}
interface FirefoxSidebar {
  open(): Promise<void>;
}

/** chrome.windows.WINDOW_ID_CURRENT: the window the caller runs in (or the last focused one, from the background). */
export const WINDOW_ID_CURRENT = -2;
/** chrome.windows.WINDOW_ID_NONE: no browser window has the focus. */
export const WINDOW_ID_NONE = -1;

function chromeSidePanel(): ChromeSidePanel | undefined {
  return (globalThis as { chrome?: { sidePanel?: ChromeSidePanel } }).chrome?.sidePanel;
}

function firefoxSidebar(): FirefoxSidebar | undefined {
  return (browser as unknown as { sidebarAction?: FirefoxSidebar }).sidebarAction;
}

/**
 * Open the panel in `windowId` (Chrome; Firefox's sidebar opens in the
 * current window). The browser is called synchronously, so this may be called
 * first thing in a gesture. Rejects when the browser has neither.
 */
export function openSidePanelIn(windowId: number): Promise<void> {
  const panel = chromeSidePanel();
  if (panel?.open !== undefined) return panel.open({ windowId });
  const sidebar = firefoxSidebar();
  if (sidebar !== undefined) return sidebar.open();
  return Promise.reject(new Error('side panel not supported'));
}

/** Open the panel in the window of the view that asks (the popup's "Open side panel"). Must be called from a user gesture. */
export async function openSidePanel(): Promise<void> {
  // Firefox's sidebar: no await before it, or the gesture is lost. Chrome: in the popup's window, asked for first.
  if (chromeSidePanel()?.open === undefined) return openSidePanelIn(WINDOW_ID_CURRENT);
  const win = await browser.windows.getCurrent();
  if (win.id === undefined) throw new Error('no current window');
  return openSidePanelIn(win.id);
}

/** The toolbar button opens the popup, which offers the panel (Chrome would otherwise open the panel directly). */
export function keepPopupOnToolbarClick(): Promise<void> {
  return chromeSidePanel()?.setPanelBehavior?.({ openPanelOnActionClick: false }) ?? Promise.resolve();
}
