/**
 * Firefox only lets an extension page create and use passkeys for the relay's
 * host (the RP ID) when the extension holds a host permission for it. A relay
 * on this machine is granted in the manifest; for any other relay the view
 * asks the person, once, when they choose it — it must happen inside their
 * click, so this is the first thing the Save handler does. Chrome scopes
 * passkeys to the extension itself and needs nothing.
 */
import { FIREFOX_HOST_PERMISSIONS } from '../platform/host-permissions.ts';
import { t } from '../platform/i18n.ts';

export interface PermissionsLike {
  contains(p: { origins: string[] }): Promise<boolean>;
  request(p: { origins: string[] }): Promise<boolean>;
}

/** Hosts the Firefox manifest grants up front (its host_permissions), e.g. 'localhost'. */
const GRANTED_IN_MANIFEST = new Set(FIREFOX_HOST_PERMISSIONS.map((pattern) => new URL(pattern).hostname));

/** The host-permission pattern for a relay URL; null when none is needed (or the URL is not one we can ask for). */
export function relayOriginPattern(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null; // the background rejects it with a proper sentence
  }
  if (GRANTED_IN_MANIFEST.has(u.hostname)) return null;
  if (u.protocol !== 'https:') return null;
  return `https://${u.hostname}/*`;
}

/**
 * Ask for access to the relay's host when this browser needs it. Resolves
 * false only when the person declined; call it before any other await.
 */
export async function allowRelayHost(url: string, permissions: PermissionsLike | undefined, needed: boolean): Promise<boolean> {
  if (!needed || permissions === undefined) return true;
  const pattern = relayOriginPattern(url);
  if (pattern === null) return true;
  // request() first: it must run while the click still counts as a user action.
  return permissions.request({ origins: [pattern] });
}

/** Said when the person declined the host permission the passkey needs. */
export const relayAccessDenied = (): string => t('relay_access_denied');
