/**
 * The hosts the Firefox build may reach without asking: a relay on this
 * machine (development, tests). The build's manifest policy
 * (build/manifest-policy.ts) writes them into the manifest and checks them;
 * the relay-URL view (lib/view/relay-access.ts) knows not to ask for them.
 */
export const FIREFOX_HOST_PERMISSIONS = ['http://localhost/*', 'http://127.0.0.1/*'];
