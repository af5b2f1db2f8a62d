import { defineConfig } from 'wxt';
import {
  checkManifest,
  FIREFOX_HOST_PERMISSIONS,
  FIREFOX_OPTIONAL_HOST_PERMISSIONS,
  FIREFOX_DATA_COLLECTION,
  GECKO_ID,
  type ManifestLike,
} from './build/manifest-policy.ts';
import { ENGINE_SCRIPT } from './lib/background/engine.ts';
import { FIREFOX_SIDEBAR_COMMAND, OPEN_PANEL_COMMAND, OPEN_PANEL_DESCRIPTION, OPEN_PANEL_SHORTCUT } from './lib/platform/commands.ts';

// Extension-page CSP: our own scripts only. No remote code, no eval.
const EXTENSION_PAGES_CSP = "script-src 'self'; object-src 'self'; base-uri 'none'; form-action 'none'";

export default defineConfig({
  modules: ['@wxt-dev/module-svelte', '@wxt-dev/webextension-polyfill'],
  manifest: ({ browser }) => ({
    // Name, description and the command's label come from public/_locales/<lang>/messages.json (English by default).
    name: '__MSG_ext_name__',
    description: '__MSG_ext_description__',
    default_locale: 'en',
    // alarms: wake to reconnect/fetch when idle; notifications: new messages (with a toggle);
    // contextMenus: "Share this page in MicroChat".
    // No activeTab: invites are pasted codes, never read from a tab (see lib/background/invite.ts).
    // unlimitedStorage: keys and group state must never be evicted under storage pressure. Chromium's quota manager
    // never evicts an unlimited-storage origin; Firefox grants it persistent storage without a prompt, which the
    // background asks for at start-up.
    permissions: [
      'storage',
      'unlimitedStorage',
      'alarms',
      'notifications',
      'contextMenus',
      ...(browser === 'firefox' ? [] : ['sidePanel']),
    ],
    content_security_policy: { extension_pages: EXTENSION_PAGES_CSP },
    // Chrome: no extension or page may message us. Firefox does not implement the key (and has nothing to lock down).
    ...(browser === 'firefox' ? {} : { externally_connectable: { ids: [], matches: [] } }),
    web_accessible_resources: [],
    action: { default_title: '__MSG_ext_name__' },
    // A keyboard shortcut to the panel: Firefox's own sidebar command, or ours that the background answers in Chrome.
    commands: {
      [browser === 'firefox' ? FIREFOX_SIDEBAR_COMMAND : OPEN_PANEL_COMMAND]: {
        suggested_key: { default: OPEN_PANEL_SHORTCUT },
        description: OPEN_PANEL_DESCRIPTION,
      },
    },
    ...(browser === 'firefox'
      ? {
          // A pinned id: IndexedDB, storage and passkeys belong to it, so they survive updates.
          browser_specific_settings: {
            gecko: { id: GECKO_ID, strict_min_version: '150.0', data_collection_permissions: { required: [...FIREFOX_DATA_COLLECTION] } },
          },
          // Firefox lets an extension page use the relay's host as passkey RP ID only when it holds a host permission
          // for it (docs/firefox.md). A relay on this machine is granted; any other is asked for when the user picks it.
          host_permissions: FIREFOX_HOST_PERMISSIONS,
          optional_host_permissions: FIREFOX_OPTIONAL_HOST_PERMISSIONS,
        }
      : {}),
  }),
  zip: {
    // The sources zip is what Firefox's reviewers rebuild the add-on from (npm ci && npm run build):
    // the extension's code and build files, not the relay, the tests, benchmarks or local output.
    excludeSources: [
      'artifacts/**',
      'bench/**',
      'bench-results/**',
      'relay/**',
      'tests/**',
      'scripts/**',
      '.scratch/**',
      '.data/**',
      'docs/scale-out.md',
    ],
  },
  // MICROCHAT_MINIFY=0 keeps function names in the build, for CPU profiles (bench/ui.ts with BENCH_UI_PROFILE=1).
  ...(process.env.MICROCHAT_MINIFY === '0' ? { vite: () => ({ build: { minify: false } }) } : {}),
  ...(process.env.MICROCHAT_SOURCEMAP === '1' ? { vite: () => ({ build: { sourcemap: true } }) } : {}),
  hooks: {
    // Fail the build, not just a test, when the manifest breaks our policy.
    'build:manifestGenerated': (wxt, manifest) => {
      // Firefox's event page runs the full background's script right after the shell's (lib/background/engine.ts);
      // Chrome's worker imports it itself.
      const background = manifest.background as { scripts?: string[] } | undefined;
      if (background?.scripts !== undefined) background.scripts.push(ENGINE_SCRIPT);
      const problems = checkManifest(manifest as unknown as ManifestLike, wxt.config.browser === 'firefox' ? 'firefox' : 'chrome');
      if (problems.length > 0) {
        throw new Error(`Manifest policy violated:\n  - ${problems.join('\n  - ')}`);
      }
    },
  },
});
