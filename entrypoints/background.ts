/**
 * The background service worker: the only place that holds keys and group
 * state. This file is the worker's small shell (docs/architecture.md, "Two
 * scripts"): it wires the application core to the browser (the view channel,
 * the badge, notifications, the wake-up alarm and the "share this page"
 * context-menu item, which only offers the share; the side panel asks),
 * answers a woken view from the state kept for a wake, and loads the full
 * background (lib/background/engine.ts) when it is needed.
 */
import { browser } from 'wxt/browser';
import type { BackgroundApp } from '@/lib/background/background-app.ts';
import { serveChannel, type RuntimeLike } from '@/lib/background/channel-server.ts';
import { openDatabase } from '@/lib/background/db.ts';
import { loadedEngine, loadEngine } from '@/lib/background/engine.ts';
import { readWakeState } from '@/lib/background/wake-state.ts';
import { holdDecision, KeepAlive } from '@/lib/background/keep-alive.ts';
import type { WebSocketConstructor } from '@/lib/background/relay-api.ts';
import { UnlockedKeyStore, type SessionArea } from '@/lib/background/unlocked-key.ts';
import { onNotificationClick } from '@/lib/background/notification-click.ts';
import { markWake, wakeTimings } from '@/lib/background/wake-timing.ts';
import { OPEN_PANEL_COMMAND } from '@/lib/platform/commands.ts';
import { keepPopupOnToolbarClick, openSidePanelIn, WINDOW_ID_CURRENT, WINDOW_ID_NONE } from '@/lib/platform/side-panel.ts';

const WAKE_ALARM = 'microchat-wake';
const SHARE_MENU = 'microchat-share-page';
const LOCK_ALARM = 'microchat-lock';
/**
 * After answering from the kept state, how long the worker stays quiet before it loads the full background unasked.
 * Loaded in the very next task, its script (about 50 ms) delayed the kept state's answer by as much (npm run
 * bench:ui): the answer had not left the worker yet.
 */
const ENGINE_QUIET_MS = 100;
/** Notifications show the extension's own icon (public/icon/, rendered from assets/icon.svg). */
const NOTIFICATION_ICON_PATH = '/icon/48.png';
/** Red, not the icon's blue: the unread count must stand out on top of the icon. */
const UNREAD_BADGE_COLOUR = '#c92a2a';

export default defineBackground({
  main() {
    markWake('script');
    // Keys and group state must never be evicted under storage pressure. Firefox's event page asks (granted without
    // a prompt through unlimitedStorage); a service worker has no persist(), and Chromium never evicts an extension
    // holding unlimitedStorage.
    const storage = (globalThis.navigator as { storage?: { persist?: () => Promise<boolean> } }).storage;
    // Best effort: refused or failed, storage is as durable as it was.
    if (typeof storage?.persist === 'function') void storage.persist().catch(() => false);
    // The unlocked data key outlives a stopped worker in memory-only session storage, until the chosen timeout.
    // Best effort on the lock alarm: a missed one is made up for by the check before every request and at every wake.
    const unlockedKeys = new UnlockedKeyStore(browser.storage.session as unknown as SessionArea, {
      schedule: (at) => void (at === null ? browser.alarms.clear(LOCK_ALARM) : browser.alarms.create(LOCK_ALARM, { when: at })).catch(() => undefined),
    });
    const version = browser.runtime.getManifest().version;
    // Chrome keeps with the worker only the scripts it imported while installing (lib/background/engine.ts).
    globalThis.addEventListener('install', () => void loadEngine());
    const db = openDatabase().then((d) => {
      markWake('database');
      return d;
    });
    // The state kept for a wake (wake-state.ts) answers the views' first question while the full background loads.
    const kept = db
      .then((d) => readWakeState(d, version, Date.now()))
      .then((state) => {
        if (state !== undefined) markWake('kept');
        return state;
      })
      .catch(() => undefined);
    // With a kept state the full background loads when something needs it, or once the worker has been quiet a moment:
    // its script takes the thread for a while, and the kept state's answers must go out first.
    let needed!: () => void;
    const need = new Promise<void>((resolve) => (needed = resolve));
    const app = Promise.all([db, kept]).then(async ([d, state]) => {
      if (state !== undefined) {
        setTimeout(needed, ENGINE_QUIET_MS);
        await need;
      }
      const engine = await loadEngine();
      markWake('engine');
      const started = await engine.start({
        db: d,
        unlockedKeys,
        version,
        WebSocket: globalThis.WebSocket as unknown as WebSocketConstructor,
        // Passkeys are scoped to the extension itself in Chrome. Firefox does not accept a moz-extension origin as RP ID;
        // it lets an extension page use the relay's host (held as a host permission), so the relay picks its own.
        rpId: import.meta.env.FIREFOX ? undefined : browser.runtime.id,
        platform: {
          setBadge(unread) {
            void browser.action.setBadgeText({ text: unread === 0 ? '' : unread > 99 ? '99+' : String(unread) });
            // Best effort: the count shows in the browser's own colour otherwise.
            void browser.action.setBadgeBackgroundColor({ color: UNREAD_BADGE_COLOUR }).catch(() => undefined);
          },
          notification(action) {
            if (action.kind === 'clear') {
              // Best effort: the notification may already be gone.
              void browser.notifications.clear(action.id).catch(() => undefined);
              return;
            }
            const options = { type: 'basic' as const, iconUrl: browser.runtime.getURL(NOTIFICATION_ICON_PATH), title: action.title, message: action.message };
            // Chrome updates a notification in place (no new pop-up for every message of a burst); Firefox has no
            // update(), and create() with the same id replaces it. One that was dismissed meanwhile is created again.
            const update = (browser.notifications as { update?: (id: string, o: typeof options) => Promise<boolean> }).update;
            const create = (): Promise<unknown> => browser.notifications.create(action.id, options);
            const done = action.update && update !== undefined ? update(action.id, options).then((ok) => (ok ? undefined : create())) : create();
            // Best effort: a notification the OS refuses (permission withdrawn) leaves the badge to count.
            void done.catch(() => undefined);
          },
        },
      });
      markWake('ready');
      return started;
    });
    // Phase totals of sent messages and where the last start-up's time went (no content), read by npm run bench:ui
    // in the worker over CDP.
    (globalThis as { microchatSendTimings?: () => unknown }).microchatSendTimings = () => loadedEngine()?.sendTimings();
    (globalThis as { microchatWakeTimings?: () => unknown }).microchatWakeTimings = () => ({ ...wakeTimings(), ...loadedEngine()?.wakeTimings() });
    // Listeners are registered synchronously so a message, an alarm or a click can wake the worker.
    serveChannel(browser.runtime as unknown as RuntimeLike, app, { state: kept, needed });
    void app.then((a) => a.checkRelay());

    // Firefox suspends an event page after 30 s without extension API activity, open WebSocket or not, and Chrome
    // stops an idle worker (lib/background/keep-alive.ts): keep the background alive while it holds a relay connection,
    // through the first minute of an outage too, so the back-off's next attempt runs rather than waits for the wake-up
    // alarm. Not while the browser says it has no network at all; its "online" event (or the alarm) brings it back.
    const keepAlive = new KeepAlive(() => browser.runtime.getPlatformInfo());
    let offlineSince: number | undefined;
    let recheck: ReturnType<typeof setTimeout> | undefined;
    const hold = (a: BackgroundApp): void => {
      const now = Date.now();
      // Since the connection was last online: a retry's brief 'connecting' does not start the outage over.
      if (a.snapshot.connection === 'online') offlineSince = undefined;
      else offlineSince ??= now;
      const d = holdDecision({ holdsConnection: a.holdsConnection, networkUp: globalThis.navigator?.onLine !== false, offlineSince, now });
      keepAlive.set(d.hold);
      clearTimeout(recheck);
      recheck = d.recheckAt === undefined ? undefined : setTimeout(() => hold(a), d.recheckAt - now + 10);
    };
    void app.then((a) => {
      a.subscribe(() => hold(a));
      hold(a);
    });
    globalThis.addEventListener('online', () =>
      void app.then((a) => {
        a.retryConnection();
        hold(a);
      }),
    );
    globalThis.addEventListener('offline', () => void app.then(hold));

    // While the socket is open its heartbeat keeps the worker alive; when the worker sleeps anyway,
    // the alarm wakes it to reconnect and fetch over HTTP.
    void browser.alarms.create(WAKE_ALARM, { periodInMinutes: 1 });
    browser.alarms.onAlarm.addListener((alarm) => {
      if (alarm.name === WAKE_ALARM) void app.then(async (a) => (await a.expireIfDue(), a.catchUp()));
      if (alarm.name === LOCK_ALARM) void app.then((a) => a.expireIfDue());
    });

    browser.runtime.onInstalled.addListener(() => {
      void browser.contextMenus.removeAll().then(() =>
        browser.contextMenus.create({ id: SHARE_MENU, title: 'Share this page in MicroChat', contexts: ['page', 'link'] }),
      );
    });
    browser.contextMenus.onClicked.addListener((info, tab) => {
      if (info.menuItemId !== SHARE_MENU) return;
      const url = info.linkUrl ?? info.pageUrl ?? tab?.url ?? '';
      if (!/^https?:\/\//.test(url)) return;
      // Nothing is sent from here: the side panel asks which conversation and shows the URL first
      // (share-offer.ts). It opens within the click, before any await, as the user-gesture rule wants.
      // Best effort: a panel that does not open leaves the offer waiting for the next time it is opened.
      void openSidePanelIn(tab?.windowId ?? WINDOW_ID_CURRENT).catch(() => undefined);
      // An app that did not start already answers every view with "could not start".
      void app.then((a) => a.offerShare(info.linkUrl === undefined ? (tab?.title ?? '') : '', url)).catch(() => undefined);
    });

    // The keyboard shortcut (Chrome; Firefox opens its sidebar for its own command). Like a click, it is a gesture:
    // the panel opens first thing, in the window the shortcut was pressed in.
    browser.commands.onCommand.addListener((command, tab) => {
      if (command !== OPEN_PANEL_COMMAND) return;
      // Best effort: a panel that does not open changes nothing else.
      void openSidePanelIn(tab?.windowId ?? WINDOW_ID_CURRENT).catch(() => undefined);
    });

    // The window a notification click opens the side panel in: the last focused one (a click on an OS notification
    // usually comes while the browser is not focused). After a cold start it is not known yet: the current window.
    let lastWindow: number | undefined;
    browser.windows.onFocusChanged.addListener((id) => {
      if (id !== WINDOW_ID_NONE) lastWindow = id;
    });
    // Best effort: without it the click opens the panel in the current window.
    void browser.windows.getLastFocused().then((w) => (lastWindow ??= w.id)).catch(() => undefined);
    // Chrome treats this event as a user gesture, Firefox does not: lib/background/notification-click.ts says why and what then.
    browser.notifications.onClicked.addListener((id) => {
      void onNotificationClick(id, {
        openPanel: () => openSidePanelIn(lastWindow ?? WINDOW_ID_CURRENT),
        clear: (n) => browser.notifications.clear(n),
        app,
        openTab: () => browser.tabs.create({ url: browser.runtime.getURL('/sidepanel.html') }),
      });
    });
    browser.notifications.onClosed.addListener((id) => void app.then((a) => a.notificationClosed(id)));
    // Notifications outlive a stopped worker: track ours again, and clear those read meanwhile.
    // Best effort: notifications not adopted stay until the person dismisses them (or an app that did not start says so).
    void app.then((a) => browser.notifications.getAll().then((all) => a.adoptNotifications(Object.keys(all)))).catch(() => undefined);

    // The toolbar button opens the popup; the popup offers the side panel.
    // Best effort: without it Chrome's toolbar button opens the panel instead, which works too.
    void keepPopupOnToolbarClick().catch(() => undefined);
  },
});
