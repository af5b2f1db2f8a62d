// The side panel is opened in one place (lib/platform/side-panel.ts) for the
// popup, the context menu and a notification click: Chrome's sidePanel in the
// given window, Firefox's sidebar, or a refusal when the browser has neither;
// the browser is called synchronously, inside the user gesture.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as SidePanel from '@/lib/platform/side-panel.ts';

type Side = typeof SidePanel;
const chrome: Record<string, unknown> = { runtime: {} };
let side: Side;

beforeAll(async () => {
  (globalThis as { chrome?: unknown }).chrome = chrome;
  side = await import('@/lib/platform/side-panel.ts');
});

afterEach(() => {
  delete chrome.sidePanel;
  delete chrome.sidebarAction;
  delete chrome.windows;
});

describe('opening the side panel', () => {
  it('Chrome: opens in the window asked for, before anything is awaited', () => {
    const open = vi.fn(async () => undefined);
    chrome.sidePanel = { open };
    void side.openSidePanelIn(7);
    expect(open).toHaveBeenCalledWith({ windowId: 7 });
  });

  it("Chrome, from a view: in the view's own window", async () => {
    const open = vi.fn(async () => undefined);
    chrome.sidePanel = { open };
    chrome.windows = { getCurrent: async () => ({ id: 3 }) };
    await side.openSidePanel();
    expect(open).toHaveBeenCalledWith({ windowId: 3 });
  });

  it('Firefox: the sidebar, at once', () => {
    const open = vi.fn(async () => undefined);
    chrome.sidebarAction = { open };
    void side.openSidePanel();
    expect(open).toHaveBeenCalledOnce();
  });

  it('neither: refused, so the caller falls back', async () => {
    await expect(side.openSidePanelIn(side.WINDOW_ID_CURRENT)).rejects.toThrow(/not supported/);
    await expect(side.keepPopupOnToolbarClick()).resolves.toBeUndefined();
  });
});
