/**
 * This device's own Ed25519 key: it signs the leaf bindings of this device's
 * leaves (leaf-binding.ts) and is what the person's roster lists. Never
 * shared, not even with the person's other devices: removing a device from
 * the roster makes its key worthless. Sealed in `secrets` under `device-key`.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromB64, toB64 } from '../../bytes.ts';
import { withLazyPublicKey } from './lazy-public-key.ts';
import type { Database } from '../db.ts';
import type { Vault } from '../vault.ts';

const STORE = 'secrets';
const KEY = 'device-key';

interface DeviceKeyRecord {
  v: 1;
  /** base64url of the 32-byte Ed25519 secret key. */
  secret: string;
}

export interface DeviceKey {
  secret: Uint8Array;
  publicKey: Uint8Array;
}

export async function loadDeviceKey(db: Database, vault: Vault): Promise<DeviceKey | undefined> {
  const sealed = await db.get(STORE, KEY);
  if (sealed === undefined) return undefined;
  const rec = await vault.openJson<DeviceKeyRecord>(STORE, KEY, sealed);
  const secret = rec.v === 1 ? fromB64(rec.secret) : null;
  if (secret === null || secret.length !== 32) return undefined;
  return withLazyPublicKey({ secret });
}

export async function createDeviceKey(db: Database, vault: Vault): Promise<DeviceKey> {
  const secret = ed25519.utils.randomSecretKey();
  const rec: DeviceKeyRecord = { v: 1, secret: toB64(secret) };
  await vault.writing(async () => {
    const sealed = await vault.sealJson(STORE, KEY, rec);
    await db.put(STORE, sealed, KEY);
  });
  return { secret, publicKey: ed25519.getPublicKey(secret) };
}
