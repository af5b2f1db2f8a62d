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
 */

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

/** Returns every policy violation; an empty list means the manifest is acceptable. */
export function checkManifest(manifest: ManifestLike): string[] {
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
  if (typeof ec !== 'object' || ec === null) {
    problems.push('externally_connectable must be declared (with no ids and no matches)');
  } else {
    const { ids, matches, accepts_tls_channel_id, ...rest } = ec as Record<string, unknown>;
    if (!Array.isArray(ids) || ids.length > 0) problems.push('externally_connectable.ids must be an empty list');
    if (!Array.isArray(matches) || matches.length > 0) problems.push('externally_connectable.matches must be an empty list');
    if (accepts_tls_channel_id !== undefined || Object.keys(rest).length > 0) problems.push('externally_connectable has unexpected keys');
  }

  const war = manifest.web_accessible_resources;
  if (war !== undefined && !(Array.isArray(war) && war.length === 0)) problems.push('web_accessible_resources must be empty');

  return problems;
}
