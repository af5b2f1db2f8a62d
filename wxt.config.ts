import { defineConfig } from 'wxt';
import { checkManifest, type ManifestLike } from './lib/extension/manifest-policy.ts';

// Extension-page CSP: our own scripts only. No remote code, no eval.
const EXTENSION_PAGES_CSP = "script-src 'self'; object-src 'self'; base-uri 'none'; form-action 'none'";

export default defineConfig({
  modules: ['@wxt-dev/module-svelte', '@wxt-dev/webextension-polyfill'],
  manifest: ({ browser }) => ({
    name: 'MicroChat',
    description: 'End-to-end encrypted group chat (MLS) in your side panel.',
    // alarms: wake to reconnect/fetch when idle; notifications: new messages (with a toggle);
    // contextMenus: "Share this page in MicroChat".
    // activeTab: after a toolbar click, the popup may read that tab's address (to join from an opened invite link).
    permissions: ['storage', 'alarms', 'notifications', 'contextMenus', 'activeTab', ...(browser === 'firefox' ? [] : ['sidePanel'])],
    content_security_policy: { extension_pages: EXTENSION_PAGES_CSP },
    externally_connectable: { ids: [], matches: [] },
    web_accessible_resources: [],
    action: { default_title: 'MicroChat' },
  }),
  hooks: {
    // Fail the build, not just a test, when the manifest breaks our policy.
    'build:manifestGenerated': (_wxt, manifest) => {
      const problems = checkManifest(manifest as unknown as ManifestLike);
      if (problems.length > 0) {
        throw new Error(`Manifest policy violated:\n  - ${problems.join('\n  - ')}`);
      }
    },
  },
});
