/**
 * What one of a person's devices hands a new device at linking: the identity
 * key, the personId and the current roster, as one plain object. The
 * linking part encrypts it for the new device; this file only says what it
 * holds and reads it back strictly (it came over the network).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromB64 } from '../../bytes.ts';
import { parseRoster } from './person-proof.ts';
import { verifyRoster, type Roster } from './roster.ts';

export interface LinkBundle {
  v: 1;
  personId: string;
  /** base64url of the identity key's 32-byte Ed25519 secret key. */
  identitySecret: string;
  roster: Roster;
}

export class LinkBundleError extends Error {
  override readonly name = 'LinkBundleError';
}

/** The bundle's keys, checked: the roster must be signed by the identity key it comes with. Throws LinkBundleError. */
export function readLinkBundle(v: unknown): { personId: Uint8Array; secret: Uint8Array; roster: Roster } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LinkBundleError('not a link bundle');
  const r = v as Record<string, unknown>;
  if (Object.keys(r).some((k) => !['v', 'personId', 'identitySecret', 'roster'].includes(k)) || r.v !== 1) throw new LinkBundleError('not a link bundle');
  const personId = typeof r.personId === 'string' ? fromB64(r.personId) : null;
  const secret = typeof r.identitySecret === 'string' ? fromB64(r.identitySecret) : null;
  const roster = parseRoster(r.roster);
  if (personId === null || personId.length !== 16 || secret === null || secret.length !== 32 || roster === null) throw new LinkBundleError('malformed link bundle');
  if (!verifyRoster(ed25519.getPublicKey(secret), personId, roster)) throw new LinkBundleError('the roster is not signed by this identity');
  return { personId, secret, roster };
}
