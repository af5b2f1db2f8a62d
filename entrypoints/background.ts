/**
 * The background service worker: the only place that holds keys and group
 * state. This file only wires the application core to the browser: the view
 * channel, the badge, notifications, the wake-up alarm and the "share this
 * page" context-menu item.
 */
import { browser } from 'wxt/browser';
import { BackgroundApp } from '@/lib/extension/background-app.ts';
import { serveChannel, type RuntimeLike } from '@/lib/extension/channel-server.ts';
import { openDatabase } from '@/lib/extension/db.ts';
import { KeepAlive } from '@/lib/extension/keep-alive.ts';
import type { WebSocketConstructor } from '@/lib/extension/relay-api.ts';
import { labelText } from '@/lib/extension/member-names.ts';
import { sendTimings } from '@/lib/extension/send-timing.ts';

const WAKE_ALARM = 'microchat-wake';
const SHARE_MENU = 'microchat-share-page';
/** A small round badge for notifications (no packaged icon yet; notifications need one). */
const NOTIFICATION_ICON = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAdElEQVR4nO3Wuw0AIAhFUfdyFEd3GO1MjD80CK94BaXcUxlCTDl4zu2DIhxVgDT6hPkdPyIs4luEVXyJsIxPEdbxAeER7xAEeMUbggACCCAABuD+FRMAcZBAnGQQRynEWa6NWDZOAA3Edr8E8IIR77wFqE8FZ7OllTEaTdcAAAAASUVORK5CYII=';

interface ChromeSidePanel {
  setPanelBehavior(o: { openPanelOnActionClick: boolean }): Promise<void>;
  open?(o: { windowId?: number; tabId?: number }): Promise<void>;
}

export default defineBackground({
  type: 'module',
  main() {
    const sidePanel = (globalThis as { chrome?: { sidePanel?: ChromeSidePanel } }).chrome?.sidePanel;
    // Keys and group state must never be evicted under storage pressure. Firefox's event page asks (granted without
    // a prompt through unlimitedStorage); a service worker has no persist(), and Chromium never evicts an extension
    // holding unlimitedStorage.
    const storage = (globalThis.navigator as { storage?: { persist?: () => Promise<boolean> } }).storage;
    if (typeof storage?.persist === 'function') void storage.persist().catch(() => false);
    const app = openDatabase().then((db) =>
      BackgroundApp.start({
        db,
        version: browser.runtime.getManifest().version,
        WebSocket: globalThis.WebSocket as unknown as WebSocketConstructor,
        // Passkeys are scoped to the extension itself in Chrome. Firefox does not accept a moz-extension origin as RP ID;
        // it lets an extension page use the relay's host (held as a host permission), so the relay picks its own.
        rpId: import.meta.env.FIREFOX ? undefined : browser.runtime.id,
        platform: {
          setBadge(unread) {
            void browser.action.setBadgeText({ text: unread === 0 ? '' : unread > 99 ? '99+' : String(unread) });
            void browser.action.setBadgeBackgroundColor({ color: '#3b5bdb' }).catch(() => undefined);
          },
          notify(conversation, message) {
            void browser.notifications
              .create(`microchat:${conversation.id}:${message.id}`, {
                type: 'basic',
                iconUrl: NOTIFICATION_ICON,
                title: conversation.name,
                message: `${labelText(message.sender)}: ${message.text}`.slice(0, 300),
              })
              .catch(() => undefined);
          },
        },
      }),
    );
    // Phase totals of sent messages (no content), read by npm run bench:ui in the worker over CDP.
    (globalThis as { microchatSendTimings?: () => unknown }).microchatSendTimings = () => sendTimings.snapshot();
    // Listeners are registered synchronously so a message, an alarm or a click can wake the worker.
    serveChannel(browser.runtime as unknown as RuntimeLike, app);
    void app.then((a) => a.checkRelay());

    // Firefox suspends an event page after 30 s without extension API activity, open WebSocket or not
    // (lib/extension/keep-alive.ts): while the relay connection is up or coming up, keep the background alive.
    const keepAlive = new KeepAlive(() => browser.runtime.getPlatformInfo());
    void app.then((a) => {
      a.subscribe((state) => keepAlive.set(state.connection !== 'offline'));
      keepAlive.set(a.snapshot.connection !== 'offline');
    });

    // While the socket is open its heartbeat keeps the worker alive; when the worker sleeps anyway,
    // the alarm wakes it to reconnect and fetch over HTTP.
    void browser.alarms.create(WAKE_ALARM, { periodInMinutes: 1 });
    browser.alarms.onAlarm.addListener((alarm) => {
      if (alarm.name === WAKE_ALARM) void app.then((a) => a.catchUp());
    });

    browser.runtime.onInstalled.addListener(() => {
      void browser.contextMenus.removeAll().then(() =>
        browser.contextMenus.create({ id: SHARE_MENU, title: 'Share this page in MicroChat', contexts: ['page', 'link'] }),
      );
    });
    let ready: BackgroundApp | undefined;
    void app.then((a) => (ready = a));
    browser.contextMenus.onClicked.addListener((info, tab) => {
      if (info.menuItemId !== SHARE_MENU) return;
      const url = info.linkUrl ?? info.pageUrl ?? tab?.url ?? '';
      if (!/^https?:\/\//.test(url)) return;
      if (ready === undefined || !ready.canShare()) {
        // Nowhere to post yet: open the side panel, or Firefox's sidebar (within the click, before any await).
        if (sidePanel?.open !== undefined) {
          if (tab?.windowId !== undefined) void sidePanel.open({ windowId: tab.windowId }).catch(() => undefined);
        } else {
          void (browser as unknown as { sidebarAction?: { open(): Promise<void> } }).sidebarAction?.open().catch(() => undefined);
        }
        return;
      }
      void ready.sharePage(info.linkUrl === undefined ? (tab?.title ?? '') : '', url).catch(() => undefined);
    });

    browser.notifications.onClicked.addListener((id) => {
      if (id.startsWith('microchat:')) void browser.notifications.clear(id);
    });

    // The toolbar button opens the popup; the popup offers the side panel.
    void sidePanel?.setPanelBehavior({ openPanelOnActionClick: false }).catch(() => undefined);
  },
});
