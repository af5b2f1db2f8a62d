/**
 * Open MicroChat's side panel in the current window: Chrome's sidePanel API,
 * or Firefox's sidebar. Must be called from a user gesture.
 */
import { browser } from 'wxt/browser';

interface ChromeSidePanel {
  open(options: { windowId: number }): Promise<void>;
}
interface FirefoxSidebar {
  open(): Promise<void>;
}

export async function openSidePanel(): Promise<void> {
  const g = globalThis as { chrome?: { sidePanel?: ChromeSidePanel } };
  const sidebar = (browser as unknown as { sidebarAction?: FirefoxSidebar }).sidebarAction;
  if (g.chrome?.sidePanel) {
    const win = await browser.windows.getCurrent();
    if (win.id === undefined) throw new Error('no current window');
    await g.chrome.sidePanel.open({ windowId: win.id });
  } else if (sidebar) {
    await sidebar.open();
  } else {
    throw new Error('side panel not supported');
  }
}
