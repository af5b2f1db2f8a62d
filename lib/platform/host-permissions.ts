/**
 * The hosts the Firefox build may reach without asking: a relay on this
 * machine (development, tests). The manifest grants them
 * (build/manifest-policy.ts puts them in host_permissions), and the views do
 * not ask for them again (lib/view/relay-access.ts). Both read this one list,
 * so shipped code never imports the build's policy.
 */
export const FIREFOX_HOST_PERMISSIONS = ['http://localhost/*', 'http://127.0.0.1/*'];
