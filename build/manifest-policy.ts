/**
 * The manifest policy MicroChat ships under. The build fails when a generated
 * manifest breaks it, so a dependency or a config change cannot quietly widen
 * what web pages or remote code can do with the extension.
 *
 *  - MV3 extension-page CSP: scripts only from the package itself; no remote
 *    origins, no 'unsafe-eval' / 'wasm-unsafe-eval' / 'unsafe-inline'.
 *  - `externally_connectable` declared with no ids and no matches, so no other
 *    extension and no web page can message the background.
 *  - `web_accessible_resources` empty: no page can load our files.
 *  - Firefox: a pinned add-on id (its storage and passkeys belong to it), no
 *    `externally_connectable` (Firefox does not implement it; web pages cannot
 *    message an extension without a content script, and we have none), host
 *    permissions only for a relay on this machine; other relays are asked for
 *    at run time (optional_host_permissions), one origin at a time.
 */

import { FIREFOX_HOST_PERMISSIONS } from '../lib/platform/host-permissions.ts';

// The hosts live in lib/platform because a view reads them too (build/ imports lib/, never the reverse).
export { FIREFOX_HOST_PERMISSIONS };

export type TargetBrowser = 'chrome' | 'firefox';

/** The Firefox add-on id (browser_specific_settings.gecko.id): the extension's storage and passkeys belong to it. */
export const GECKO_ID = 'microchat@microchat.app';

/**
 * Firefox's data-collection declaration. Mozilla counts as transmitted any data
 * "handled outside of the add-on or the local browser"; chat messages (with the
 * names and shared links inside them) leave the browser for the relay, if only as
 * MLS ciphertext, so they are declared as personal communications. The reasoning
 * is in docs/store-listing.md.
 */
export const FIREFOX_DATA_COLLECTION = ['personalCommunications'] as const;

/** What the Firefox build may ask for at run time: the one relay origin the user chose. */
export const FIREFOX_OPTIONAL_HOST_PERMISSIONS = ['https://*/*'];

export interface ManifestLike {
  manifest_version?: number;
  content_security_policy?: unknown;
  externally_connectable?: unknown;
  web_accessible_resources?: unknown;
  [key: string]: unknown;
}

const FORBIDDEN_SCRIPT_SOURCES = ["'unsafe-eval'", "'wasm-unsafe-eval'", "'unsafe-inline'", "'unsafe-hashes'", 'data:', 'blob:', '*'];

function directives(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

function sameSet(a: unknown, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && b.every((x) => a.includes(x));
}

/** Returns every policy violation; an empty list means the manifest is acceptable. */
export function checkManifest(manifest: ManifestLike, browser: TargetBrowser = 'chrome'): string[] {
  const problems: string[] = [];
  if (manifest.manifest_version !== 3) problems.push(`manifest_version must be 3, got ${String(manifest.manifest_version)}`);

  const csp = manifest.content_security_policy;
  const pages =
    typeof csp === 'object' && csp !== null && 'extension_pages' in csp ? (csp as { extension_pages: unknown }).extension_pages : undefined;
  if (typeof pages !== 'string') {
    problems.push('content_security_policy.extension_pages must be declared explicitly');
  } else {
    const d = directives(pages);
    const scriptSrc = d.get('script-src') ?? d.get('default-src');
    if (!scriptSrc) problems.push('CSP must restrict script-src');
    for (const name of ['script-src', 'default-src', 'object-src', 'worker-src']) {
      for (const value of d.get(name) ?? []) {
        const v = value.toLowerCase();
        if (FORBIDDEN_SCRIPT_SOURCES.includes(v)) problems.push(`CSP ${name} allows ${value}`);
        else if (/^(https?|wss?):/.test(v) || v.includes('://') || v.startsWith('*.')) problems.push(`CSP ${name} allows remote code from ${value}`);
      }
    }
  }

  const ec = manifest.externally_connectable;
  if (browser === 'firefox') {
    if (ec !== undefined) problems.push('externally_connectable is not supported by Firefox and must be left out');
    const gecko = (manifest.browser_specific_settings as { gecko?: { id?: unknown } } | undefined)?.gecko;
    if (typeof gecko?.id !== 'string' || gecko.id === '') problems.push('browser_specific_settings.gecko.id must pin the add-on id');
    if (!sameSet(manifest.host_permissions ?? [], FIREFOX_HOST_PERMISSIONS)) {
      problems.push(`host_permissions must be exactly ${FIREFOX_HOST_PERMISSIONS.join(', ')}`);
    }
    const optional = manifest.optional_host_permissions ?? [];
    if (!Array.isArray(optional) || optional.some((o) => !FIREFOX_OPTIONAL_HOST_PERMISSIONS.includes(String(o)))) {
      problems.push('optional_host_permissions may only be https origins (one is asked for at a time)');
    }
  } else if (typeof ec !== 'object' || ec === null) {
    problems.push('externally_connectable must be declared (with no ids and no matches)');
  } else {
    const { ids, matches, accepts_tls_channel_id, ...rest } = ec as Record<string, unknown>;
    if (!Array.isArray(ids) || ids.length > 0) problems.push('externally_connectable.ids must be an empty list');
    if (!Array.isArray(matches) || matches.length > 0) problems.push('externally_connectable.matches must be an empty list');
    if (accepts_tls_channel_id !== undefined || Object.keys(rest).length > 0) problems.push('externally_connectable has unexpected keys');
  }
  if (browser === 'chrome' && (manifest.host_permissions !== undefined || manifest.optional_host_permissions !== undefined)) {
    problems.push('the Chrome build asks for no host permissions (the relay answers extension origins with CORS)');
  }

  const war = manifest.web_accessible_resources;
  if (war !== undefined && !(Array.isArray(war) && war.length === 0)) problems.push('web_accessible_resources must be empty');

  return problems;
}
