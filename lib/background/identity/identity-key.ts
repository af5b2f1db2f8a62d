/**
 * The person's identity: an Ed25519 identity key, a stable random personId
 * (16 bytes) and the newest roster it signed. Made on the person's first
 * device and shared with each device they link (docs/identity.md), sealed in
 * `secrets` under `identity`.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromB64, randomBytes, toB64 } from '../../bytes.ts';
import type { Database } from '../db.ts';
import type { Vault } from '../vault.ts';
import type { Roster } from './roster.ts';
import { withLazyPublicKey } from './lazy-public-key.ts';

const STORE = 'secrets';
const KEY = 'identity';

export interface IdentityRecord {
  v: 1;
  /** base64url of 16 random bytes: who this person is, whatever key they hold. */
  personId: string;
  /** base64url of the 32-byte Ed25519 secret key. */
  secret: string;
  roster: Roster;
}

export interface IdentityKey {
  personId: Uint8Array;
  secret: Uint8Array;
  publicKey: Uint8Array;
  roster: Roster;
}

export function newIdentitySecret(): { personId: Uint8Array; secret: Uint8Array } {
  return { personId: randomBytes(16), secret: ed25519.utils.randomSecretKey() };
}

export async function loadIdentity(db: Database, vault: Vault): Promise<IdentityKey | undefined> {
  const sealed = await db.get(STORE, KEY);
  if (sealed === undefined) return undefined;
  const rec = await vault.openJson<IdentityRecord>(STORE, KEY, sealed);
  if (rec.v !== 1) return undefined;
  const personId = fromB64(rec.personId);
  const secret = fromB64(rec.secret);
  if (personId === null || personId.length !== 16 || secret === null || secret.length !== 32) return undefined;
  return withLazyPublicKey({ personId, secret, roster: rec.roster });
}

export async function saveIdentity(db: Database, vault: Vault, id: { personId: Uint8Array; secret: Uint8Array; roster: Roster }): Promise<void> {
  const rec: IdentityRecord = { v: 1, personId: toB64(id.personId), secret: toB64(id.secret), roster: id.roster };
  await vault.writing(async () => {
    const sealed = await vault.sealJson(STORE, KEY, rec);
    await db.put(STORE, sealed, KEY);
  });
}
