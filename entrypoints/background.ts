/**
 * The background service worker: the only place that holds keys and group
 * state. This file only wires the application core to the browser.
 */
import { browser } from 'wxt/browser';
import { BackgroundApp } from '@/lib/extension/background-app.ts';
import { serveChannel, type RuntimeLike } from '@/lib/extension/channel-server.ts';
import { openDatabase } from '@/lib/extension/db.ts';

export default defineBackground({
  type: 'module',
  main() {
    const app = openDatabase().then((db) => BackgroundApp.start({ db, version: browser.runtime.getManifest().version }));
    serveChannel(browser.runtime as unknown as RuntimeLike, app);
    void app.then((a) => a.checkRelay());

    // The toolbar button opens the popup; the popup offers the side panel.
    const sidePanel = (globalThis as { chrome?: { sidePanel?: { setPanelBehavior(o: { openPanelOnActionClick: boolean }): Promise<void> } } }).chrome
      ?.sidePanel;
    void sidePanel?.setPanelBehavior({ openPanelOnActionClick: false }).catch(() => undefined);
  },
});
